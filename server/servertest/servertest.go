// Package servertest starts in-process wraft clusters for tests: real
// nodes (native core, storage without fsync) on 127.0.0.1, stopped when the
// test ends.
package servertest

import (
	"log/slog"
	"net"
	"testing"

	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

// AdminToken is the admin token of every node Start starts.
const AdminToken = "servertest-token"

// Cluster is a running test cluster.
type Cluster struct {
	t testing.TB
	// Nodes are the running nodes by id-1; a node stopped with Stop is nil.
	Nodes []*server.Node
	// Endpoints are the nodes' API addresses (bare host:port) by id-1.
	Endpoints []string
}

// Start starts n nodes with ids 1..n. Peer listeners are made before the
// nodes start, so there is no race for free ports. The election timeout is
// 20 ticks (400-800 ms), long enough for -race runs on a loaded machine.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, Nodes: make([]*server.Node, n)}
	peers := map[uint64]string{}
	lns := map[uint64]net.Listener{}
	for id := uint64(1); id <= uint64(n); id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() }) // in case Start never takes it
		lns[id], peers[id] = ln, ln.Addr().String()
	}
	t.Cleanup(func() {
		for i := range c.Nodes {
			c.Stop(uint64(i + 1))
		}
	})
	for id := uint64(1); id <= uint64(n); id++ {
		cfg := server.Config{ID: id, Peers: peers, Listener: lns[id], API: "127.0.0.1:0", DataDir: t.TempDir(),
			NewCore: host.Native, CoreName: "native", AdminToken: AdminToken, NoSync: true, Logger: slog.New(slog.DiscardHandler)}
		cfg.Engine.Raft.ElectionTicks = 20
		cfg.Engine.Raft.Seed = id
		node, err := server.Start(cfg)
		if err != nil {
			t.Fatalf("start node %d: %v", id, err)
		}
		c.Nodes[id-1] = node
		c.Endpoints = append(c.Endpoints, node.APIAddr())
	}
	return c
}

// Stop stops node id, if it runs.
func (c *Cluster) Stop(id uint64) {
	if n := c.Nodes[id-1]; n != nil {
		n.Stop()
		c.Nodes[id-1] = nil
	}
}
