package raft

// Leadership transfer (thesis §3.10): the leader stops accepting
// proposals, brings the target's log up to date, then tells it to campaign
// at once (MsgTimeoutNow); the transfer is abandoned after an election
// timeout.

import (
	"errors"
	"testing"
)

// Thesis §3.10 step 1-2: the leader sends MsgTimeoutNow only once the
// target's log matches its own.
func TestTransferWaitsForTargetToCatchUp(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 1}, logOf(1, 1))
	first := makeLeader(t, n) // no-op at 3
	ackAll(t, n, to(3, first))
	flush(n)
	if err := n.TransferLeadership(2); err != nil {
		t.Fatal(err)
	}
	if st := n.Status(); st.Transferee != 2 {
		t.Fatalf("Transferee: have %d, want 2", st.Transferee)
	}
	if ms := sent(n, MsgTimeoutNow); len(ms) != 0 {
		t.Fatalf("sent %+v before node 2 caught up", ms)
	}
	// Node 2 holds only up to 2: not enough.
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 2, Index: 2})
	if ms := sent(n, MsgTimeoutNow); len(ms) != 0 {
		t.Fatalf("sent %+v with node 2 at match 2 of 3", ms)
	}
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 2, Index: 3})
	ms := sent(n, MsgTimeoutNow)
	if len(ms) != 1 || ms[0].To != 2 || ms[0].Term != 2 {
		t.Fatalf("have %+v, want one MsgTimeoutNow to 2 in term 2", ms)
	}
}

// A target already caught up is told to campaign at once.
func TestTransferToCaughtUpTarget(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n)
	if err := n.TransferLeadership(3); err != nil {
		t.Fatal(err)
	}
	if ms := sent(n, MsgTimeoutNow); len(ms) != 1 || ms[0].To != 3 {
		t.Fatalf("have %+v, want MsgTimeoutNow to 3", ms)
	}
}

// While a transfer is under way the leader refuses proposals, its own with
// ErrTransferring and forwarded ones by dropping them.
func TestTransferRefusesProposals(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	makeLeader(t, n)
	n.TransferLeadership(2)
	flush(n)
	last := n.log.lastIndex()
	if _, err := n.Propose([]byte("x")); !errors.Is(err, ErrTransferring) {
		t.Fatalf("Propose: have %v, want ErrTransferring", err)
	}
	mustStep(t, n, Message{Type: MsgProp, From: 3, To: 1, Entries: []Entry{{Data: []byte("y")}}})
	if n.log.lastIndex() != last {
		t.Fatalf("log grew from %d to %d during the transfer", last, n.log.lastIndex())
	}
}

// The transfer is abandoned after an election timeout if the target never
// catches up (it is down); proposals are accepted again.
func TestTransferAbortedAfterElectionTimeout(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	first := makeLeader(t, n)
	ackAll(t, n, to(3, first))
	flush(n)
	n.TransferLeadership(2) // node 2 is down
	// Node 3 keeps answering, so CheckQuorum keeps the leader in office.
	tick := func() {
		n.Tick()
		for _, m := range sent(n, MsgHeartbeat) {
			if m.To == 3 {
				mustStep(t, n, Message{Type: MsgHeartbeatResp, From: 3, To: 1, Term: m.Term})
			}
		}
	}
	for range 9 {
		tick()
	}
	if n.Status().Transferee != 2 {
		t.Fatalf("transfer abandoned before an election timeout")
	}
	if _, err := n.Propose([]byte("x")); !errors.Is(err, ErrTransferring) {
		t.Fatalf("Propose: have %v, want ErrTransferring", err)
	}
	tick()
	if n.role != RoleLeader {
		t.Fatalf("have %v, want still leader", n.role)
	}
	if have := n.Status().Transferee; have != 0 {
		t.Fatalf("Transferee after an election timeout: have %d, want 0", have)
	}
	if _, err := n.Propose([]byte("x")); err != nil {
		t.Fatalf("Propose after the transfer was abandoned: %v", err)
	}
}

// End to end, with PreVote and CheckQuorum on: the target campaigns at
// once in the next term and wins, though every voter is in the old
// leader's lease; a lagging target is caught up first and keeps every
// committed entry.
func TestTransferEndToEnd(t *testing.T) {
	for _, lagging := range []bool{false, true} {
		c := newCluster(t, 3, nil)
		l := c.elect()
		c.propose(l, "a")
		target := l%3 + 1
		if lagging {
			c.stop(target)
			c.propose(l, "b")
			c.propose(l, "c")
			c.start(target, nil)
			c.settle()
		}
		term := c.nodes[l].term
		if err := c.nodes[l].TransferLeadership(target); err != nil {
			t.Fatal(err)
		}
		c.settle()
		if c.leader() != target || c.nodes[target].term != term+1 {
			t.Fatalf("lagging %v: have leader %d term %d, want %d term %d", lagging, c.leader(), c.nodes[c.leader()].term, target, term+1)
		}
		if c.nodes[l].role != RoleFollower || c.nodes[l].lead != target {
			t.Errorf("lagging %v: old leader is %v following %d, want a follower of %d", lagging, c.nodes[l].role, c.nodes[l].lead, target)
		}
		c.propose(target, "z")
		c.tick(2)
		want := "a"
		if lagging {
			want = "abc"
		}
		for _, id := range c.ids {
			have := ""
			for _, d := range c.appliedData(id) {
				have += d
			}
			if id != target || !lagging { // a restarted target re-applies from 1 too
				if have != want+"z" {
					t.Errorf("lagging %v: node %d applied %q, want %q", lagging, id, have, want+"z")
				}
			}
		}
	}
}

// A follower forwards a transfer request to the leader; unknown targets
// are refused; a transfer to the leader itself does nothing.
func TestTransferRequests(t *testing.T) {
	f := newTestNode(t, 2, 3, nil, HardState{Term: 1}, nil)
	mustStep(t, f, Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 1})
	flush(f)
	if err := f.TransferLeadership(3); err != nil {
		t.Fatal(err)
	}
	ms := sent(f, MsgTransferLeader)
	if len(ms) != 1 || ms[0].To != 1 || ms[0].Index != 3 {
		t.Fatalf("have %+v, want MsgTransferLeader to 1 naming 3", ms)
	}
	if err := f.TransferLeadership(9); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("unknown target on a follower: have %v, want ErrUnknownPeer", err)
	}

	l := newTestNode(t, 1, 3, nil, HardState{}, nil)
	makeLeader(t, l)
	m := ms[0]
	m.From = 2
	mustStep(t, l, m)
	if have := l.Status().Transferee; have != 3 {
		t.Fatalf("forwarded request: Transferee %d, want 3", have)
	}
	if err := l.TransferLeadership(9); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("unknown target on the leader: have %v, want ErrUnknownPeer", err)
	}

	s := newTestNode(t, 1, 3, nil, HardState{}, nil)
	makeLeader(t, s)
	if err := s.TransferLeadership(1); err != nil || s.Status().Transferee != 0 {
		t.Errorf("transfer to self: err %v Transferee %d, want nil, 0", err, s.Status().Transferee)
	}
	if _, err := s.Propose([]byte("x")); err != nil {
		t.Errorf("Propose after a transfer to self: %v", err)
	}
}

// MsgTimeoutNow makes a follower campaign at once, skipping PreVote, with
// a vote request the lease does not block.
func TestTransferTimeoutNowSkipsPreVote(t *testing.T) {
	n := newTestNode(t, 2, 3, nil, HardState{Term: 1}, logOf(1))
	mustStep(t, n, Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 1})
	flush(n)
	mustStep(t, n, Message{Type: MsgTimeoutNow, From: 1, To: 2, Term: 1})
	if n.role != RoleCandidate || n.term != 2 {
		t.Fatalf("have %v term %d, want candidate term 2", n.role, n.term)
	}
	ms := sent(n, MsgVote)
	if len(ms) != 2 {
		t.Fatalf("have %d MsgVote, want 2", len(ms))
	}
	// A voter inside the old leader's lease grants it.
	v := newTestNode(t, 3, 3, nil, HardState{Term: 1}, logOf(1))
	mustStep(t, v, Message{Type: MsgHeartbeat, From: 1, To: 3, Term: 1})
	flush(v)
	mustStep(t, v, to(3, ms)[0])
	if rs := sent(v, MsgVoteResp); len(rs) != 1 || rs[0].Reject {
		t.Fatalf("voter in lease: have %+v, want a grant for the transfer", rs)
	}
}
