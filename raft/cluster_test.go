package raft

import (
	"slices"
	"testing"
)

func TestClusterElectsAndCommits(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	c.propose(l, "a")
	follower := c.ids[0]
	if follower == l {
		follower = c.ids[1]
	}
	c.propose(follower, "b") // forwarded to the leader
	c.tick(2)                // a heartbeat carries the commit index
	for _, id := range c.ids {
		if have, want := c.appliedData(id), []string{"a", "b"}; !slices.Equal(have, want) {
			t.Errorf("node %d applied %q, want %q", id, have, want)
		}
	}
}

func TestSingleNodeCommits(t *testing.T) {
	c := newCluster(t, 1, nil)
	l := c.elect()
	c.propose(l, "x")
	if have := c.appliedData(l); !slices.Equal(have, []string{"x"}) {
		t.Fatalf("applied %q, want [x]", have)
	}
}
