package raft

import "github.com/wraft/wraft/raft/quorum"

// tickLeader runs the leader's timers: heartbeats, CheckQuorum and the
// leadership transfer deadline.
func (n *Node) tickLeader() {
	n.heartbeatElapsed++
	n.electionElapsed++
	if n.electionElapsed >= n.cfg.ElectionTicks {
		n.electionElapsed = 0
		if !n.cfg.DisableCheckQuorum {
			active := 0
			for i, m := range n.members {
				switch {
				case m.Learner:
					if !n.prs[i].active && n.prs[i].state == ProgressReplicate {
						n.prs[i].becomeProbe()
					}
				case m.ID == n.id || n.prs[i].active:
					active++
				case n.prs[i].state == ProgressReplicate:
					// Silent for an election timeout: what was in flight is
					// probably lost. Probe again once it answers.
					n.prs[i].becomeProbe()
				}
				n.prs[i].active = false
			}
			if active < n.quorum() {
				n.event(EventQuorumLost, 0, 0, "stepped down: lost quorum (heard from "+
					itoa(active)+"/"+itoa(len(n.voters))+" within an election timeout)")
				n.becomeFollower(n.term, 0)
				return
			}
		}
		if n.transferee != 0 {
			n.event(EventTransferAborted, n.transferee, 0, "leadership transfer to node "+u(n.transferee)+" timed out")
			n.transferee = 0
		}
	}
	if n.heartbeatElapsed >= n.cfg.HeartbeatTicks {
		n.heartbeatElapsed = 0
		n.bcastHeartbeat(n.readContext())
	}
}

// bcastAppend sends new entries (or at least the commit index) to every
// follower that is not paused.
func (n *Node) bcastAppend() {
	for i, m := range n.members {
		if m.ID != n.id {
			n.sendAppend(i, true)
		}
	}
}

func (n *Node) bcastHeartbeat(ctx []byte) {
	for i, m := range n.members {
		id := m.ID
		if id == n.id {
			continue
		}
		// Never tell a follower to commit beyond what it is known to hold:
		// its log may not match ours further on.
		commit := min(n.prs[i].match, n.log.committed)
		n.send(Message{Type: MsgHeartbeat, To: id, Commit: commit, Context: ctx})
		if n.prs[i].state == ProgressProbe {
			// A probe unanswered for a heartbeat interval is retried.
			n.prs[i].probeSent = false
		}
	}
}

// sendAppend sends follower slot i the entries it lacks, as far as the
// flow-control limits allow. With empty set it sends a MsgApp even when
// there is nothing new, to carry the commit index or to probe. It reports
// whether it sent anything.
func (n *Node) sendAppend(i int, empty bool) bool {
	pr := &n.prs[i]
	if pr.state == ProgressSnapshot {
		return n.sendSnapshot(i)
	}
	if pr.paused(n.cfg.MaxInflightMsgs, n.cfg.MaxInflightBytes) {
		return false
	}
	prev := pr.next - 1
	prevTerm, ok := n.log.term(prev)
	if !ok && prev > n.log.lastIndex() {
		// next is beyond our log: resynchronise.
		pr.becomeProbe()
		prev = pr.next - 1
		prevTerm, ok = n.log.term(prev)
	}
	if !ok {
		// The follower needs entries compacted into the snapshot.
		return n.sendSnapshot(i)
	}
	// Pace by bytes: one message holds at most MaxMsgBytes of entries, and
	// with others in flight, at most what the MaxInflightBytes window has
	// left. Only a message alone in flight may hold a single larger entry.
	budget := n.cfg.MaxMsgBytes
	windowed := pr.state == ProgressReplicate && len(pr.inflight) > 0
	if windowed {
		budget = min(budget, n.cfg.MaxInflightBytes-pr.inflightBytes) // paused: inflightBytes < MaxInflightBytes
	}
	ents := n.log.slice(pr.next, n.log.lastIndex()+1, budget)
	var bytes uint64
	for _, e := range ents {
		bytes += uint64(len(e.Data))
	}
	if windowed && bytes > budget {
		// The next entry alone is over what the window has left: it waits
		// for acknowledgements (an empty MsgApp may still carry the
		// commit index).
		ents, bytes = nil, 0
	}
	if len(ents) == 0 && !empty && pr.state == ProgressReplicate {
		return false
	}
	n.send(Message{Type: MsgApp, To: n.members[i].ID, Index: prev, LogTerm: prevTerm, Entries: ents, Commit: n.log.committed})
	last := prev
	if len(ents) > 0 {
		last = ents[len(ents)-1].Index
	}
	pr.sent(last, bytes, n.now)
	return true
}

// maybeCommit advances the commit index to what a majority holds, counting
// only entries of the current term (paper §5.4.2, Figure 8). It reports
// whether the commit index moved.
func (n *Node) maybeCommit() bool {
	match := n.scratch[:0]
	for i := range n.prs {
		if !n.members[i].Learner {
			match = append(match, n.prs[i].match)
		}
	}
	n.scratch = match
	c := quorum.CommittedIndex(match)
	if t, _ := n.log.term(c); t != n.term {
		return false
	}
	if !n.commitTo(c) {
		return false
	}
	n.event(EventCommitted, 0, c, "committed up to index "+u(c))
	return true
}

// stepLeader handles a message, of the leader's term, while leading.
func (n *Node) stepLeader(m Message) {
	i := n.slot(m.From)
	if i < 0 {
		n.event(EventMessageRejected, m.From, 0, "ignored "+m.Type.String()+" from node "+u(m.From)+": not a member")
		return
	}
	pr := &n.prs[i]
	switch m.Type {
	case MsgAppResp:
		if m.Reject {
			hint := m.RejectHint
			if m.LogTerm > 0 {
				hint, _ = n.log.findConflictByTerm(m.RejectHint, m.LogTerm)
			}
			if pr.rejected(m.Index, hint) {
				n.sendAppend(i, true)
			}
			return
		}
		if m.Index > n.log.lastIndex() {
			n.event(EventMessageRejected, m.From, m.Index, "ignored MsgAppResp from node "+u(m.From)+": acknowledges index "+u(m.Index)+" beyond our log")
			return
		}
		wasProbe := pr.state == ProgressProbe
		if pr.acked(m.Index) {
			if wasProbe || (pr.state == ProgressSnapshot && pr.match >= pr.pendingSnapshot) {
				pr.becomeReplicate()
			}
			if n.maybeCommit() {
				n.needBcast = true
			}
			// A configuration change may have committed: the follower's
			// slot can move, and this node may no longer lead.
			if i = n.slot(m.From); n.role != RoleLeader || i < 0 {
				return
			}
			pr = &n.prs[i]
			if m.From == n.transferee && pr.match == n.log.lastIndex() {
				n.sendTimeoutNow(m.From)
			}
		}
		// Stream what remains, as far as flow control allows.
		for n.sendAppend(i, false) {
		}
	case MsgSnapResp:
		n.snapResp(i, m)
	case MsgHeartbeatResp:
		if pr.state != ProgressSnapshot || n.now-pr.snapSentAt >= uint64(n.cfg.ElectionTicks) {
			// A chunk unanswered for an election timeout is sent again;
			// sooner would flood a slow link.
			pr.probeSent = false
		}
		if pr.state == ProgressReplicate && len(pr.inflight) > 0 &&
			pr.paused(n.cfg.MaxInflightMsgs, n.cfg.MaxInflightBytes) &&
			n.now-pr.oldestSentAt() >= uint64(n.cfg.ElectionTicks) {
			// A full window while the follower answers heartbeats, and its
			// oldest append unanswered for an election timeout: that one
			// is presumed lost. Free its slot so a MsgApp can go out; if
			// the follower lacks entries it rejects it and is probed
			// again. (A follower that is merely slow answers sooner, and
			// freeing slots for it would only queue more bytes at it.)
			pr.freeFirst()
		}
		if pr.match < n.log.lastIndex() {
			// The follower lags. Entries may have been lost on the way:
			// send even an empty MsgApp, whose answer (an ack, or a
			// rejection that turns the follower to probing) resynchronises.
			n.sendAppend(i, true)
		}
		n.readAcked(i, m.Context)
	case MsgTimeoutNow, MsgVoteResp, MsgPreVoteResp, MsgReadIndexResp:
		// Stale answers from earlier roles.
	case MsgApp, MsgHeartbeat, MsgSnap:
		// Another leader in our term would break election safety; a
		// correct peer never sends this. Ignore it.
		n.event(EventMessageRejected, m.From, 0, "ignored "+m.Type.String()+" from node "+u(m.From)+": this node leads term "+u(n.term))
	}
}

// stepFollower handles a message, of the current term, as a follower.
func (n *Node) stepFollower(m Message) {
	switch m.Type {
	case MsgApp:
		n.electionElapsed = 0
		n.setLeader(m.From)
		n.handleAppend(m)
	case MsgSnap:
		n.electionElapsed = 0
		n.setLeader(m.From)
		n.handleSnapshot(m)
	case MsgHeartbeat:
		n.electionElapsed = 0
		n.setLeader(m.From)
		n.commitTo(m.Commit)
		n.send(Message{Type: MsgHeartbeatResp, To: m.From, Context: m.Context})
	case MsgTimeoutNow:
		n.event(EventTransferStarted, m.From, 0, "campaigning at once: leadership handed over by node "+u(m.From))
		n.hup(true)
	case MsgReadIndexResp:
		n.readIndexResp(m)
	}
}

// readIndexResp passes the leader's answer to a forwarded read on.
func (n *Node) readIndexResp(m Message) {
	n.out.ReadStates = append(n.out.ReadStates, ReadState{Index: m.Index, Context: m.Context, Rejected: m.Reject})
}

// handleAppend applies a MsgApp from the leader and answers it.
func (n *Node) handleAppend(m Message) {
	if m.Index < n.log.committed {
		// Everything up to our commit index matches the leader's log.
		n.send(Message{Type: MsgAppResp, To: m.From, Index: n.log.committed})
		return
	}
	if !n.log.matchTerm(m.Index, m.LogTerm) {
		hint, hintTerm := n.log.findConflictByTerm(min(m.Index, n.log.lastIndex()), m.LogTerm)
		n.send(Message{Type: MsgAppResp, To: m.From, Index: m.Index, Reject: true, RejectHint: hint, LogTerm: hintTerm})
		return
	}
	lastNew := m.Index + uint64(len(m.Entries))
	if c := n.log.findConflict(m.Entries); c != 0 {
		if c <= n.log.lastIndex() {
			n.event(EventLogTruncated, m.From, c, "removed conflicting entries from index "+u(c))
		}
		if err := n.log.truncateAndAppend(m.Entries[c-m.Index-1:]); err != nil {
			n.event(EventMessageRejected, m.From, c, "refused MsgApp from "+u(m.From)+": "+err.Error())
			return
		}
	}
	n.commitTo(min(m.Commit, lastNew))
	n.send(Message{Type: MsgAppResp, To: m.From, Index: lastNew})
}
