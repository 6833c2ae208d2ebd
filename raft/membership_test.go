package raft

import (
	"errors"
	"slices"
	"strconv"
	"testing"
)

// growCluster returns a cluster of voters 1..3 and idle spare nodes up to
// size, which know the configuration with themselves as learners (what a
// joining node is told).
func growCluster(t *testing.T, size int) *cluster {
	c := newCluster(t, 3, nil)
	for id := uint64(4); id <= uint64(size); id++ {
		c.ids = append(c.ids, id)
		c.start(id, func(cfg *Config) {
			cfg.Voters = nil
			cfg.Members = []Member{{ID: 1}, {ID: 2}, {ID: 3}, {ID: id, Learner: true}}
		})
	}
	return c
}

func (c *cluster) change(id uint64, cc ConfChange) error {
	_, err := c.nodes[id].ProposeConfChange(cc)
	c.settle()
	return err
}

func votersOf(n *Node) []uint64 { return slices.Clone(n.voters) }

// A learner catches up without counting towards quorums, is promoted, and
// the cluster then survives the loss of an original voter.
func TestAddLearnerThenPromote(t *testing.T) {
	c := growCluster(t, 4)
	l := c.elect()
	c.propose(l, "a")
	if err := c.change(l, ConfChange{Type: ConfAddLearner, NodeID: 4, Addr: "four"}); err != nil {
		t.Fatal(err)
	}
	c.propose(l, "b")
	for _, id := range c.ids {
		ms := c.nodes[id].Members()
		if len(ms) != 4 || !ms[3].Learner || ms[3].Addr != "four" {
			t.Fatalf("node %d members %+v, want learner 4 at \"four\"", id, ms)
		}
	}
	if !slices.Equal(c.appliedData(4), c.appliedData(l)) {
		t.Fatalf("learner applied %v, leader %v", c.appliedData(4), c.appliedData(l))
	}
	if got := c.nodes[l].Acks(c.nodes[l].log.committed); got != 3 {
		t.Fatalf("Acks counts %d, want the 3 voters only", got)
	}
	if err := c.change(l, ConfChange{Type: ConfPromote, NodeID: 4}); err != nil {
		t.Fatal(err)
	}
	if v := votersOf(c.nodes[4]); !slices.Equal(v, []uint64{1, 2, 3, 4}) {
		t.Fatalf("voters %v after promotion", v)
	}
	// Two of four voters down: no quorum. One down: fine.
	other := c.ids[0]
	if other == l {
		other = c.ids[1]
	}
	c.stop(other)
	c.propose(l, "c")
	if !slices.Contains(c.appliedData(4), "c") {
		t.Fatalf("write did not commit with 3 of 4 voters: %v", c.appliedData(4))
	}
}

// Changes go one at a time, and not before the leader's first entry commits.
func TestConfChangeOneAtATime(t *testing.T) {
	c := growCluster(t, 5)
	l := c.elect()
	n := c.nodes[l]
	if _, err := n.ProposeConfChange(ConfChange{Type: ConfAddLearner, NodeID: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.ProposeConfChange(ConfChange{Type: ConfAddLearner, NodeID: 5}); !errors.Is(err, ErrConfChangePending) {
		t.Fatalf("second change: %v, want ErrConfChangePending", err)
	}
	c.settle()
	if _, err := n.ProposeConfChange(ConfChange{Type: ConfAddLearner, NodeID: 5}); err != nil {
		t.Fatalf("change after the first committed: %v", err)
	}
	f := c.ids[0]
	if f == l {
		f = c.ids[1]
	}
	if _, err := c.nodes[f].ProposeConfChange(ConfChange{Type: ConfRemove, NodeID: 5}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("change on a follower: %v, want ErrNotLeader", err)
	}
	for _, tt := range []ConfChange{
		{Type: ConfAddLearner, NodeID: 1},
		{Type: ConfPromote, NodeID: 1},
		{Type: ConfRemove, NodeID: 9},
		{Type: ConfForce, NodeID: 1},
		{Type: ConfAddVoter, NodeID: 0},
	} {
		c.settle()
		if _, err := n.ProposeConfChange(tt); !errors.Is(err, ErrInvalidConfChange) {
			t.Errorf("%s of %d: %v, want ErrInvalidConfChange", tt.Type, tt.NodeID, err)
		}
	}
}

// A learner that lags cannot be promoted.
func TestPromoteRefusesALaggingLearner(t *testing.T) {
	c := growCluster(t, 4)
	l := c.elect()
	if err := c.change(l, ConfChange{Type: ConfAddLearner, NodeID: 4}); err != nil {
		t.Fatal(err)
	}
	c.isolate(4)
	c.propose(l, "x")
	if err := c.change(l, ConfChange{Type: ConfPromote, NodeID: 4}); !errors.Is(err, ErrLearnerBehind) {
		t.Fatalf("promote: %v, want ErrLearnerBehind", err)
	}
}

// A leader that removes itself steps down once the change commits, hands
// over, and never campaigns again; the rest go on.
func TestRemoveLeader(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	term := c.nodes[l].term
	if err := c.change(l, ConfChange{Type: ConfRemove, NodeID: l}); err != nil {
		t.Fatal(err)
	}
	if c.nodes[l].role == RoleLeader {
		t.Fatal("removed leader still leads")
	}
	nl := c.elect()
	if nl == l {
		t.Fatal("removed node elected")
	}
	if c.nodes[nl].term != term+1 {
		t.Fatalf("new leader's term %d, want %d (handed over at once)", c.nodes[nl].term, term+1)
	}
	c.propose(nl, "after")
	c.tick(100)
	if c.leader() != nl || c.nodes[nl].term != term+1 {
		t.Fatalf("leadership moved: leader %d term %d", c.leader(), c.nodes[nl].term)
	}
	if r := c.nodes[l].role; r != RoleFollower {
		t.Fatalf("removed node is %v", r)
	}
}

// A removed node that never learned of its removal campaigns, and the
// members ignore it.
func TestRemovedNodeCannotDisrupt(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	victim := c.ids[0]
	if victim == l {
		victim = c.ids[1]
	}
	c.isolate(victim)
	if err := c.change(l, ConfChange{Type: ConfRemove, NodeID: victim}); err != nil {
		t.Fatal(err)
	}
	c.propose(l, "x")
	term := c.nodes[l].term
	c.tick(50) // the victim times out, again and again
	c.heal()
	c.tick(50)
	if c.leader() != l || c.nodes[l].term != term {
		t.Fatalf("cluster disrupted: leader %d term %d (was %d, %d)", c.leader(), c.nodes[l].term, l, term)
	}
	c.propose(l, "y")
	if !slices.Contains(c.appliedData(l), "y") {
		t.Fatal("cluster of two stopped committing")
	}
}

// Configuration changes survive restarts: a node replays committed changes.
func TestConfChangeSurvivesRestart(t *testing.T) {
	c := growCluster(t, 4)
	l := c.elect()
	if err := c.change(l, ConfChange{Type: ConfAddLearner, NodeID: 4}); err != nil {
		t.Fatal(err)
	}
	if err := c.change(l, ConfChange{Type: ConfPromote, NodeID: 4}); err != nil {
		t.Fatal(err)
	}
	for _, id := range c.ids {
		c.stop(id)
	}
	for _, id := range c.ids {
		c.start(id, nil)
	}
	for _, id := range c.ids {
		if v := votersOf(c.nodes[id]); !slices.Equal(v, []uint64{1, 2, 3, 4}) {
			t.Fatalf("node %d voters %v after restart", id, v)
		}
	}
	l = c.elect()
	c.propose(l, "z")
}

// A snapshot carries the configuration to a node that missed the change.
func TestSnapshotCarriesConfiguration(t *testing.T) {
	c := growCluster(t, 4)
	l := c.elect()
	f := c.ids[0]
	if f == l {
		f = c.ids[1]
	}
	c.isolate(f)
	if err := c.change(l, ConfChange{Type: ConfAddLearner, NodeID: 4}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		c.propose(l, "v"+strconv.Itoa(i))
	}
	c.compact(l, 0)
	c.heal()
	c.tick(5)
	if ms := c.nodes[f].Members(); len(ms) != 4 {
		t.Fatalf("follower members %+v after the snapshot", ms)
	}
}

func TestConfChangeEncoding(t *testing.T) {
	cc := ConfChange{Type: ConfPromote, NodeID: 300, Addr: "a b", Members: []Member{{ID: 1, Addr: "x"}, {ID: 300, Learner: true}}}
	got, err := DecodeConfChange(EncodeConfChange(cc))
	if err != nil || got.Type != cc.Type || got.NodeID != 300 || got.Addr != "a b" || !slices.Equal(got.Members, cc.Members) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	b := EncodeConfChange(cc)
	for i := range b {
		if _, err := DecodeConfChange(b[:i]); err == nil {
			t.Fatalf("decoded a %d-byte prefix", i)
		}
	}
	for _, bad := range [][]Member{{{ID: 2}, {ID: 1}}, {{ID: 0}}, {{ID: 1, Learner: true}}} {
		if _, err := DecodeConfChange(EncodeConfChange(ConfChange{Type: ConfForce, Members: bad})); err == nil {
			t.Errorf("decoded members %+v", bad)
		}
	}
}
