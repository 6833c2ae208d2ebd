package raft

import "github.com/wraft/wraft/raft/quorum"

// hup starts an election: a pre-vote first unless PreVote is off or the
// election is a leadership transfer's.
func (n *Node) hup(transfer bool) {
	if n.role == RoleLeader || !n.isVoter(n.id) {
		return
	}
	if !n.cfg.DisablePreVote && !transfer {
		n.becomePreCandidate()
		n.requestVotes(MsgPreVote, nil)
		return
	}
	n.becomeCandidate()
	var ctx []byte
	if transfer {
		ctx = []byte(campaignTransfer)
	}
	n.requestVotes(MsgVote, ctx)
}

// requestVotes asks every other voter for a vote (or pre-vote, for the next
// term) and counts this node's own.
func (n *Node) requestVotes(typ MessageType, ctx []byte) {
	term := n.term
	if typ == MsgPreVote {
		term++
	}
	for _, id := range n.voters {
		if id != n.id {
			n.send(Message{Type: typ, To: id, Term: term, Index: n.log.lastIndex(), LogTerm: n.log.lastTerm(), Context: ctx})
		}
	}
	n.poll(n.id, true)
}

func (n *Node) becomePreCandidate() {
	// The term and vote stay as they are: a pre-vote changes no persistent
	// state, so a node cut off from the cluster cannot inflate its term.
	n.role = RolePreCandidate
	n.lead = 0
	n.reset()
	n.event(EventPreVoteStarted, 0, 0, "starting pre-vote for term "+u(n.term+1))
}

func (n *Node) becomeCandidate() {
	n.term++
	n.vote = n.id
	n.role = RoleCandidate
	n.lead = 0
	n.reset()
	n.event(EventElectionStarted, 0, 0, "starting election for term "+u(n.term))
}

func (n *Node) becomeLeader() {
	n.role = RoleLeader
	n.lead = n.id
	n.reset()
	last := n.log.lastIndex()
	for i, m := range n.members {
		id := m.ID
		n.prs[i] = progress{match: 0, next: last + 1, inflight: n.prs[i].inflight[:0]}
		if id == n.id {
			n.prs[i].match = n.log.stable
			n.prs[i].state = ProgressReplicate
		}
		n.readAcks[i] = 0
	}
	// A no-op of the new term lets the leader commit entries of earlier
	// terms (paper §5.4.2) and tells it when it may serve reads (§6.4).
	n.log.append(Entry{Term: n.term, Index: last + 1, Type: EntryNoop})
	// No configuration change until this entry commits: the leader then
	// knows every earlier change (the fix to single-server changes noted
	// on raft-dev in 2015).
	n.pendingConf = last + 1
	n.needBcast = true
	n.event(EventElected, 0, 0, "elected leader for term "+u(n.term))
}

// poll records a (pre-)vote answer from id and acts on the outcome.
func (n *Node) poll(id uint64, granted bool) {
	i := n.slot(id)
	if i < 0 || n.members[i].Learner || n.votes[i] != 0 {
		return
	}
	if granted {
		n.votes[i] = 1
	} else {
		n.votes[i] = -1
	}
	g, r := 0, 0
	for k, v := range n.votes {
		if n.members[k].Learner {
			continue
		}
		switch v {
		case 1:
			g++
		case -1:
			r++
		}
	}
	switch quorum.Tally(len(n.voters), g, r) {
	case quorum.VoteWon:
		if n.role == RolePreCandidate {
			n.becomeCandidate()
			n.requestVotes(MsgVote, nil)
			return
		}
		n.becomeLeader()
	case quorum.VoteLost:
		if n.role == RolePreCandidate {
			n.event(EventPreVoteCancelled, 0, 0, "pre-vote for term "+u(n.term+1)+" failed: refused by a majority")
		}
		n.becomeFollower(n.term, 0)
	}
}

// inLease reports whether this node heard from a leader within the
// election timeout, so a vote request of type t must be refused: always
// for a pre-vote (thesis §9.6), and for a real vote when CheckQuorum is on
// (thesis §4.2.3).
func (n *Node) inLease(t MessageType) bool {
	if t == MsgVote && n.cfg.DisableCheckQuorum {
		return false
	}
	return n.lead != 0 && n.electionElapsed < n.cfg.ElectionTicks
}

// handleVote answers a MsgVote or MsgPreVote whose term is not below ours.
func (n *Node) handleVote(m Message) {
	respType := voteRespType(m.Type)
	// One vote per term; a pre-vote for a later term binds nothing.
	canVote := n.vote == m.From ||
		(n.vote == 0 && n.lead == 0) ||
		(m.Type == MsgPreVote && m.Term > n.term)
	upToDate := n.log.isUpToDate(m.Index, m.LogTerm)
	if canVote && upToDate {
		// The grant carries the term asked about: for a pre-vote that is
		// the candidate's future term, which we do not adopt.
		n.send(Message{Type: respType, To: m.From, Term: m.Term})
		if m.Type == MsgVote {
			n.electionElapsed = 0
			n.vote = m.From
		}
		n.event(EventVoteGranted, m.From, 0, voteName(m.Type)+" granted to node "+u(m.From)+" for term "+u(m.Term))
		return
	}
	why := "already voted for node " + u(n.vote)
	if !upToDate {
		why = "its log is behind ours"
	} else if n.vote == 0 {
		why = "have a leader"
	}
	n.send(Message{Type: respType, To: m.From, Reject: true})
	n.event(EventVoteRejected, m.From, 0, voteName(m.Type)+" for node "+u(m.From)+" (term "+u(m.Term)+") rejected: "+why)
}

// voteRespType returns the answer's type for a MsgVote or MsgPreVote.
func voteRespType(t MessageType) MessageType {
	if t == MsgPreVote {
		return MsgPreVoteResp
	}
	return MsgVoteResp
}

func voteName(t MessageType) string {
	if t == MsgPreVote || t == MsgPreVoteResp {
		return "pre-vote"
	}
	return "vote"
}

// stepCandidate handles messages while campaigning.
func (n *Node) stepCandidate(m Message) {
	switch m.Type {
	case MsgApp, MsgHeartbeat, MsgSnap:
		// A leader exists for our term (a pre-candidate's term is the
		// leader's): follow it.
		n.becomeFollower(m.Term, m.From)
		n.stepFollower(m)
	case MsgPreVoteResp:
		if n.role == RolePreCandidate {
			n.poll(m.From, !m.Reject)
		}
	case MsgVoteResp:
		if n.role == RoleCandidate {
			n.poll(m.From, !m.Reject)
		}
	case MsgReadIndexResp:
		n.readIndexResp(m)
	case MsgTimeoutNow:
		// Only a follower acts on a transfer; a candidate is already trying.
	}
}
