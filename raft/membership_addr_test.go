package raft

import (
	"errors"
	"slices"
	"testing"
)

// An address update replaces one member's Addr on every node and keeps
// every role: the voters and learners are the same before and after.
func TestConfUpdateAddr(t *testing.T) {
	c := growCluster(t, 4)
	l := c.elect()
	if err := c.change(l, ConfChange{Type: ConfAddLearner, NodeID: 4, Addr: "four"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{l, 4} {
		if err := c.change(l, ConfChange{Type: ConfUpdateAddr, NodeID: id, Addr: "new-" + u(id)}); err != nil {
			t.Fatalf("update node %d: %v", id, err)
		}
	}
	c.propose(l, "after")
	for _, id := range c.ids {
		ms := c.nodes[id].Members()
		for _, m := range ms {
			wantAddr := ""
			if m.ID == l || m.ID == 4 {
				wantAddr = "new-" + u(m.ID)
			}
			if m.Addr != wantAddr || m.Learner != (m.ID == 4) {
				t.Fatalf("node %d has members %+v; want every role kept, and nodes %d and 4 at their new addresses", id, ms, l)
			}
		}
		if v := votersOf(c.nodes[id]); !slices.Equal(v, []uint64{1, 2, 3}) {
			t.Fatalf("node %d voters %v, want [1 2 3]", id, v)
		}
	}
}

// An address update goes one change at a time like the others, and only
// for a member.
func TestConfUpdateAddrRules(t *testing.T) {
	c := growCluster(t, 4)
	l := c.elect()
	n := c.nodes[l]
	if _, err := n.ProposeConfChange(ConfChange{Type: ConfUpdateAddr, NodeID: 4, Addr: "x"}); !errors.Is(err, ErrInvalidConfChange) {
		t.Fatalf("update of a non-member: %v, want ErrInvalidConfChange", err)
	}
	if _, err := n.ProposeConfChange(ConfChange{Type: ConfUpdateAddr, NodeID: 2, Addr: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.ProposeConfChange(ConfChange{Type: ConfUpdateAddr, NodeID: 3, Addr: "y"}); !errors.Is(err, ErrConfChangePending) {
		t.Fatalf("second change while one is pending: %v, want ErrConfChangePending", err)
	}
	c.settle()
	if _, err := n.ProposeConfChange(ConfChange{Type: ConfUpdateAddr, NodeID: 2, Addr: "x"}); !errors.Is(err, ErrInvalidConfChange) {
		t.Fatalf("update to the address a member has: %v, want ErrInvalidConfChange", err)
	}
}

// The encoding of an address update round-trips, and its name is stable.
func TestConfUpdateAddrEncoding(t *testing.T) {
	cc := ConfChange{Type: ConfUpdateAddr, NodeID: 2, Addr: "raft=h:1 api=http://h:2",
		Members: []Member{{ID: 1}, {ID: 2, Addr: "raft=h:1 api=http://h:2"}}}
	have, err := DecodeConfChange(EncodeConfChange(cc))
	if err != nil || have.Type != cc.Type || have.Addr != cc.Addr || !slices.Equal(have.Members, cc.Members) {
		t.Fatalf("round trip: have %+v, %v; want %+v", have, err, cc)
	}
	if s := ConfUpdateAddr.String(); s != "update-addr" {
		t.Fatalf("name %q, want update-addr", s)
	}
}
