package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/server/servertest"
)

// TestCluster runs the client against a real cluster: it finds the leader,
// writes, reads and swaps, and goes on writing after the leader stops.
func TestCluster(t *testing.T) {
	cl := servertest.Start(t, 3)
	c := newClient(t, cl.Endpoints...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var leader uint64
	for range 1000 {
		if leader = c.FindLeader(ctx); leader != 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if leader == 0 {
		t.Fatal("no leader found")
	}
	rep, err := c.Set(ctx, "a/b c?", []byte("72.5"))
	if err != nil || rep.Code != "ok" || !rep.OK || rep.Voters != 3 || rep.Index == 0 {
		t.Fatalf("Set: %+v, %v", rep, err)
	}
	for _, stale := range []bool{false, true} {
		if rep, err := c.Get(ctx, "a/b c?", stale); err != nil || !rep.Found || rep.Value != "72.5" {
			t.Errorf("Get (stale %v): %+v, %v", stale, rep, err)
		}
	}
	if rep, err := c.CAS(ctx, "a/b c?", []byte("70"), []byte("73")); err != nil || rep.OK || rep.Value != "72.5" {
		t.Errorf("CAS with the wrong expectation: %+v, %v, want not OK with the current value", rep, err)
	}
	if rep, err := c.CAS(ctx, "a/b c?", []byte("72.5"), []byte("73")); err != nil || !rep.OK {
		t.Errorf("CAS: %+v, %v", rep, err)
	}
	if rep, err := c.CAS(ctx, "lock", nil, []byte("me")); err != nil || !rep.OK {
		t.Errorf("CAS absent: %+v, %v", rep, err)
	}
	if rep, err := c.Delete(ctx, "lock"); err != nil || !rep.OK || !rep.Found {
		t.Errorf("Delete: %+v, %v", rep, err)
	}

	// Stop the leader: the client retries through the election.
	cl.Stop(leader)
	rep, err = c.Set(ctx, "after", []byte("failover"))
	if err != nil || rep.Code != "ok" || rep.Leader == leader {
		t.Fatalf("Set after the leader stopped: %+v, %v", rep, err)
	}
	if rep, err := c.Get(ctx, "a/b c?", false); err != nil || rep.Value != "73" {
		t.Errorf("Get after failover: %+v, %v", rep, err)
	}

	// Stop a second node: no quorum.
	for i, n := range cl.Nodes {
		if n != nil {
			cl.Stop(uint64(i + 1))
			break
		}
	}
	rep, err = c.Set(ctx, "k", []byte("v"))
	if !errors.Is(err, client.ErrNoQuorum) || rep.Alive != 1 || rep.Voters != 3 {
		t.Errorf("Set with one node of three: %+v, %v, want ErrNoQuorum with 1/3 alive", rep, err)
	}
}
