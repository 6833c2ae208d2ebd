package raft

// PreVote (thesis §9.6), CheckQuorum (thesis §6.2) and the disruptive
// "rogue node" of thesis §4.2.3.

import "testing"

// PreVote: a pre-candidate asks about term+1 but changes no persistent
// state: term and vote stay, nothing needs persisting.
func TestPreVoteCandidateKeepsTerm(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 4, Vote: 2}, logOf(1, 4))
	flush(n)
	n.Campaign()
	if n.role != RolePreCandidate || n.term != 4 || n.vote != 2 {
		t.Fatalf("have role %v term %d vote %d, want pre-candidate, term 4, vote 2", n.role, n.term, n.vote)
	}
	rd := flush(n)
	if rd.HardStateChanged {
		t.Errorf("pre-vote changed the HardState to %+v", rd.HardState)
	}
	if len(rd.Messages) != 2 {
		t.Fatalf("have %d messages, want 2 MsgPreVote", len(rd.Messages))
	}
	for _, m := range rd.Messages {
		if m.Type != MsgPreVote || m.Term != 5 || m.Index != 2 || m.LogTerm != 4 {
			t.Errorf("have %+v, want MsgPreVote for term 5 with last (2, 4)", m)
		}
	}
}

// PreVote: a node cut off from the cluster keeps campaigning but its term
// does not climb; without PreVote it does.
func TestPreVotePartitionedTermDoesNotClimb(t *testing.T) {
	for _, preVote := range []bool{true, false} {
		c := newCluster(t, 3, func(cfg *Config) { cfg.DisablePreVote = !preVote })
		l := c.elect()
		f := l%3 + 1
		term := c.nodes[f].term
		c.isolate(f)
		c.tick(100)
		have := c.nodes[f].term
		if preVote && have != term {
			t.Errorf("PreVote on: isolated node's term went %d → %d, want unchanged", term, have)
		}
		if !preVote && have <= term+2 {
			t.Errorf("PreVote off: isolated node's term went %d → %d, want it to climb (sanity check)", term, have)
		}
		if c.leader() != l || c.nodes[l].term != term {
			t.Errorf("preVote %v: leader %d term %d, want %d term %d", preVote, c.leader(), c.nodes[l].term, l, term)
		}
	}
}

// PreVote: a node that heard from a leader within the election timeout
// refuses pre-votes (thesis §9.6); once the timeout passes it grants them.
func TestPreVoteRefusedWithinLeaderLease(t *testing.T) {
	for _, checkQuorum := range []bool{true, false} {
		n := newTestNode(t, 1, 3, func(c *Config) { c.DisableCheckQuorum = !checkQuorum }, HardState{Term: 2}, logOf(1, 2))
		mustStep(t, n, Message{Type: MsgHeartbeat, From: 2, To: 1, Term: 2})
		flush(n)
		pv := Message{Type: MsgPreVote, From: 3, To: 1, Term: 3, Index: 5, LogTerm: 2}
		for range 9 {
			n.Tick()
		}
		mustStep(t, n, pv)
		ms := sent(n, MsgPreVoteResp)
		if len(ms) != 1 || !ms[0].Reject {
			t.Fatalf("checkQuorum %v, 9 ticks after the leader: have %+v, want a refusal", checkQuorum, ms)
		}
		if n.term != 2 || n.lead != 2 || n.role != RoleFollower {
			t.Fatalf("checkQuorum %v: refusing changed term/leader/role to %d/%d/%v", checkQuorum, n.term, n.lead, n.role)
		}
		n.Tick()
		flush(n)
		mustStep(t, n, pv)
		ms = sent(n, MsgPreVoteResp)
		if len(ms) != 1 || ms[0].Reject || ms[0].Term != 3 {
			t.Fatalf("checkQuorum %v, an election timeout after the leader: have %+v, want a grant for term 3", checkQuorum, ms)
		}
		if n.term != 2 || n.vote != 0 {
			t.Errorf("checkQuorum %v: granting a pre-vote changed term/vote to %d/%d", checkQuorum, n.term, n.vote)
		}
	}
}

// PreVote: a leader refuses pre-votes; it is its own lease.
func TestPreVoteRefusedByLeader(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n)
	mustStep(t, n, Message{Type: MsgPreVote, From: 3, To: 1, Term: 2, Index: 9, LogTerm: 1})
	if ms := sent(n, MsgPreVoteResp); len(ms) != 1 || !ms[0].Reject {
		t.Fatalf("have %+v, want a refusal", ms)
	}
	if n.role != RoleLeader || n.term != 1 {
		t.Fatalf("have %v term %d, want leader term 1", n.role, n.term)
	}
}

// PreVote: the up-to-date check applies to pre-votes too, without changing
// any state.
func TestPreVoteRequiresUpToDateLog(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 2}, logOf(1, 2))
	mustStep(t, n, Message{Type: MsgPreVote, From: 3, To: 1, Term: 3, Index: 5, LogTerm: 1})
	if ms := sent(n, MsgPreVoteResp); len(ms) != 1 || !ms[0].Reject {
		t.Fatalf("have %+v, want a refusal", ms)
	}
	if n.term != 2 || n.vote != 0 {
		t.Fatalf("have term %d vote %d, want 2, 0", n.term, n.vote)
	}
}

// PreVote: a quorum of pre-vote grants leads to a real election for term+1;
// a quorum of refusals returns the node to follower without a new term.
func TestPreVoteQuorum(t *testing.T) {
	t.Run("granted", func(t *testing.T) {
		n := newTestNode(t, 1, 5, nil, HardState{Term: 2}, logOf(2))
		n.Campaign()
		flush(n)
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 2, To: 1, Term: 3})
		if n.role != RolePreCandidate || n.term != 2 {
			t.Fatalf("two of five: have %v term %d, want pre-candidate term 2", n.role, n.term)
		}
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 3, To: 1, Term: 3})
		if n.role != RoleCandidate || n.term != 3 || n.vote != 1 {
			t.Fatalf("three of five: have %v term %d vote %d, want candidate term 3 vote 1", n.role, n.term, n.vote)
		}
		rd := flush(n)
		if !rd.HardStateChanged || rd.HardState.Term != 3 || rd.HardState.Vote != 1 {
			t.Errorf("have HardState %+v, want term 3 vote 1 persisted", rd.HardState)
		}
		votes := 0
		for _, m := range rd.Messages {
			if m.Type == MsgVote && m.Term == 3 && m.Index == 1 && m.LogTerm == 2 {
				votes++
			}
		}
		if votes != 4 {
			t.Errorf("have %d MsgVote for term 3, want 4: %+v", votes, rd.Messages)
		}
	})
	t.Run("refused", func(t *testing.T) {
		n := newTestNode(t, 1, 3, nil, HardState{Term: 2}, logOf(2))
		n.Campaign()
		flush(n)
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 2, To: 1, Term: 2, Reject: true})
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 3, To: 1, Term: 2, Reject: true})
		if n.role != RoleFollower || n.term != 2 {
			t.Fatalf("have %v term %d, want follower term 2", n.role, n.term)
		}
		if rd := flush(n); rd.HardStateChanged {
			t.Errorf("a failed pre-vote changed the HardState to %+v", rd.HardState)
		}
	})
	t.Run("refused by a later term", func(t *testing.T) {
		n := newTestNode(t, 1, 3, nil, HardState{Term: 2}, logOf(2))
		n.Campaign()
		flush(n)
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 2, To: 1, Term: 7, Reject: true})
		if n.role != RoleFollower || n.term != 7 {
			t.Fatalf("have %v term %d, want follower term 7 (Rules for all servers)", n.role, n.term)
		}
	})
	t.Run("stale grant after the election started", func(t *testing.T) {
		n := newTestNode(t, 1, 5, nil, HardState{Term: 2}, logOf(2))
		n.Campaign()
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 2, To: 1, Term: 3})
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 3, To: 1, Term: 3})
		// Now a candidate of term 3; a late pre-vote grant is not a vote.
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 4, To: 1, Term: 3})
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: 5, To: 1, Term: 3})
		if n.role != RoleCandidate {
			t.Fatalf("have %v, want candidate: pre-vote grants must not count as votes", n.role)
		}
	})
}

// PreVote end to end: a follower that loses its leader wins the pre-vote
// and then the election, one term up.
func TestPreVoteElectsNewLeader(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	term := c.nodes[l].term
	c.stop(l)
	c.tick(50)
	nl := c.leader()
	if nl == 0 || nl == l {
		t.Fatalf("no new leader after the old one stopped (have %d)", nl)
	}
	if have := c.nodes[nl].term; have != term+1 {
		t.Errorf("new leader's term: have %d, want %d (one pre-vote, one election)", have, term+1)
	}
}

// CheckQuorum: a leader that has not heard from a majority within an
// election timeout steps down; with CheckQuorum disabled it stays leader.
func TestCheckQuorumLeaderStepsDown(t *testing.T) {
	for _, checkQuorum := range []bool{true, false} {
		c := newCluster(t, 3, func(cfg *Config) { cfg.DisableCheckQuorum = !checkQuorum })
		l := c.elect()
		term := c.nodes[l].term
		c.isolate(l)
		ln := c.nodes[l]
		for range 9 {
			ln.Tick()
			c.settle()
		}
		if ln.role != RoleLeader {
			t.Fatalf("checkQuorum %v: stepped down %d ticks after losing the majority, before an election timeout", checkQuorum, 9)
		}
		for range 11 {
			ln.Tick()
			c.settle()
		}
		if checkQuorum {
			if ln.role != RoleFollower || ln.term != term || ln.lead != 0 {
				t.Errorf("CheckQuorum on: have %v term %d leader %d after 2 election timeouts alone, want follower term %d leader 0",
					ln.role, ln.term, ln.lead, term)
			}
			if _, err := ln.Propose([]byte("x")); err != ErrNoLeader {
				t.Errorf("Propose on the deposed leader: have %v, want ErrNoLeader", err)
			}
		} else {
			for range 100 {
				ln.Tick()
				c.settle()
			}
			if ln.role != RoleLeader || ln.term != term {
				t.Errorf("CheckQuorum off: have %v term %d, want leader term %d", ln.role, ln.term, term)
			}
		}
	}
}

// CheckQuorum: a leader that hears from a majority keeps leading however
// long it runs, even with one follower gone.
func TestCheckQuorumLeaderKeepsMajority(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	term := c.nodes[l].term
	c.stop(l%3 + 1)
	c.tick(100)
	if c.leader() != l || c.nodes[l].term != term {
		t.Fatalf("have leader %d term %d, want %d term %d", c.leader(), c.nodes[l].term, l, term)
	}
}

// CheckQuorum: followers in the leader's lease ignore a real vote for a
// later term (thesis §4.2.3), leaving term and vote alone.
func TestCheckQuorumLeaseIgnoresVote(t *testing.T) {
	for _, checkQuorum := range []bool{true, false} {
		n := newTestNode(t, 1, 3, func(c *Config) { c.DisablePreVote = true; c.DisableCheckQuorum = !checkQuorum }, HardState{Term: 2}, logOf(1, 2))
		mustStep(t, n, Message{Type: MsgHeartbeat, From: 2, To: 1, Term: 2})
		flush(n)
		mustStep(t, n, Message{Type: MsgVote, From: 3, To: 1, Term: 3, Index: 5, LogTerm: 2})
		granted := false
		for _, m := range sent(n, MsgVoteResp) {
			granted = granted || !m.Reject
		}
		if checkQuorum && (granted || n.term != 2 || n.lead != 2) {
			t.Errorf("CheckQuorum on: granted %v term %d leader %d, want no grant, term 2, leader 2", granted, n.term, n.lead)
		}
		if !checkQuorum && (!granted || n.term != 3) {
			t.Errorf("CheckQuorum off: granted %v term %d, want a grant in term 3", granted, n.term)
		}
	}
}

// Thesis §4.2.3 / §9.6, the rogue node: a follower is partitioned away
// long enough to time out many times, then rejoins. With PreVote its term
// has not moved and the leader keeps leading; without PreVote it returns
// with a higher term and the leader is deposed.
func TestRogueNodeRejoins(t *testing.T) {
	tests := []struct {
		name         string
		tweak        func(*Config)
		wantDeposed  bool
		wantSameTerm bool
	}{
		{"PreVote and CheckQuorum", nil, false, true},
		{"PreVote only", noCheckQuorum, false, true},
		{"CheckQuorum only", noPreVote, true, false},
		{"neither", all(noPreVote, noCheckQuorum), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, 3, tt.tweak)
			l := c.elect()
			c.propose(l, "before")
			term := c.nodes[l].term
			rogue := l%3 + 1
			c.isolate(rogue)
			c.tick(60)
			if have := c.nodes[rogue].term; (have == term) != tt.wantSameTerm {
				t.Fatalf("rogue's term after the partition: have %d (cluster %d), want unchanged %v", have, term, tt.wantSameTerm)
			}
			c.heal()
			c.tick(30)
			deposed := c.nodes[l].term != term
			if deposed != tt.wantDeposed {
				t.Errorf("leader %d of term %d: now %v of term %d; deposed %v, want %v",
					l, term, c.nodes[l].role, c.nodes[l].term, deposed, tt.wantDeposed)
			}
			nl := c.leader()
			if nl == 0 {
				t.Fatal("no leader after the rogue rejoined")
			}
			if !tt.wantDeposed && (nl != l || c.nodes[rogue].lead != l) {
				t.Errorf("have leader %d (rogue follows %d), want %d", nl, c.nodes[rogue].lead, l)
			}
			// The rogue's log is behind: it must not have become leader.
			if nl == rogue && c.nodes[rogue].log.lastIndex() < c.nodes[l].log.committed {
				t.Errorf("rogue with a stale log became leader")
			}
			c.propose(nl, "after")
			c.tick(2)
			for _, id := range c.ids {
				if have := c.appliedData(id); len(have) != 2 || have[0] != "before" || have[1] != "after" {
					t.Errorf("node %d applied %q, want [before after]", id, have)
				}
			}
		})
	}
}

// PreVote and CheckQuorum together: a leader cut off from the majority
// steps down and, still cut off, does not raise its term; the majority
// elects a new leader one term up; when the old leader rejoins it follows
// that leader without another election.
func TestPreVotePartitionedLeaderRejoinsQuietly(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.elect()
	term := c.nodes[old].term
	c.isolate(old)
	c.tick(60)
	if n := c.nodes[old]; n.role == RoleLeader || n.term != term {
		t.Fatalf("isolated old leader: have %v term %d, want not leading, term %d", n.role, n.term, term)
	}
	nl := c.leader()
	if nl == 0 || nl == old || c.nodes[nl].term != term+1 {
		t.Fatalf("majority: have leader %d, want a new leader in term %d", nl, term+1)
	}
	c.heal()
	c.tick(30)
	if c.leader() != nl || c.nodes[nl].term != term+1 {
		t.Fatalf("after the old leader rejoined: leader %d term %d, want %d term %d", c.leader(), c.nodes[c.leader()].term, nl, term+1)
	}
	if n := c.nodes[old]; n.role != RoleFollower || n.lead != nl || n.term != term+1 {
		t.Errorf("old leader: have %v term %d following %d, want a follower of %d in term %d", n.role, n.term, n.lead, nl, term+1)
	}
}
