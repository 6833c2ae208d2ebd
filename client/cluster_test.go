package client_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

// startCluster starts three in-process nodes on 127.0.0.1 with the native
// core and returns them and their API endpoints; they stop when the test
// ends (a test may stop one earlier: Stop twice is not allowed, so it sets
// the node to nil).
func startCluster(t *testing.T) ([]*server.Node, []string) {
	t.Helper()
	peers := map[uint64]string{}
	lns := map[uint64]net.Listener{}
	for id := uint64(1); id <= 3; id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() }) // in case Start never takes it
		lns[id], peers[id] = ln, ln.Addr().String()
	}
	nodes := make([]*server.Node, 3)
	t.Cleanup(func() {
		for _, n := range nodes {
			if n != nil {
				n.Stop()
			}
		}
	})
	var endpoints []string
	for id := uint64(1); id <= 3; id++ {
		cfg := server.Config{ID: id, Peers: peers, Listener: lns[id], API: "127.0.0.1:0", DataDir: t.TempDir(),
			NewCore: host.Native, CoreName: "native", NoSync: true, Logger: slog.New(slog.DiscardHandler)}
		cfg.Engine.Raft.ElectionTicks = 20
		cfg.Engine.Raft.Seed = id
		n, err := server.Start(cfg)
		if err != nil {
			t.Fatalf("start node %d: %v", id, err)
		}
		nodes[id-1] = n
		endpoints = append(endpoints, n.APIAddr()) // bare host:port, as a user may give them
	}
	return nodes, endpoints
}

// TestCluster runs the client against a real cluster: it finds the leader,
// writes, reads and swaps, and goes on writing after the leader stops.
func TestCluster(t *testing.T) {
	nodes, endpoints := startCluster(t)
	c := newClient(t, endpoints...)
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
	nodes[leader-1].Stop()
	nodes[leader-1] = nil
	rep, err = c.Set(ctx, "after", []byte("failover"))
	if err != nil || rep.Code != "ok" || rep.Leader == leader {
		t.Fatalf("Set after the leader stopped: %+v, %v", rep, err)
	}
	if rep, err := c.Get(ctx, "a/b c?", false); err != nil || rep.Value != "73" {
		t.Errorf("Get after failover: %+v, %v", rep, err)
	}

	// Stop a second node: no quorum.
	for i, n := range nodes {
		if n != nil {
			n.Stop()
			nodes[i] = nil
			break
		}
	}
	rep, err = c.Set(ctx, "k", []byte("v"))
	if !errors.Is(err, client.ErrNoQuorum) || rep.Alive != 1 || rep.Voters != 3 {
		t.Errorf("Set with one node of three: %+v, %v, want ErrNoQuorum with 1/3 alive", rep, err)
	}
}
