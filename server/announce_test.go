package server_test

import (
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

// startNodes starts a three-node cluster on 127.0.0.1 whose nodes are
// told no API URL but their own; apiURL, if set, returns the API URL node
// id announces (Config.APIURL).
func startNodes(t *testing.T, apiURL func(id uint64) string) *cluster {
	t.Helper()
	c := &cluster{t: t, peers: map[uint64]string{}, nodes: map[uint64]*server.Node{}, cfgs: map[uint64]server.Config{}}
	t.Cleanup(c.stopAll)
	lns := map[uint64]net.Listener{}
	for id := uint64(1); id <= 3; id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id] = ln
		c.peers[id] = ln.Addr().String()
	}
	for id := uint64(1); id <= 3; id++ {
		cfg := server.Config{ID: id, Peers: c.peers, Listener: lns[id], API: "127.0.0.1:0", DataDir: t.TempDir(),
			NewCore: host.Native, CoreName: "native", AdminToken: testToken, NoSync: true, Logger: testLogger()}
		if apiURL != nil {
			cfg.APIURL = apiURL(id)
		}
		cfg.Engine.Raft.ElectionTicks = 20
		cfg.Engine.Raft.HeartbeatTicks = 2
		cfg.Engine.Raft.Seed = id
		n, err := server.Start(cfg)
		if err != nil {
			for later := id + 1; later <= 3; later++ {
				lns[later].Close()
			}
			t.Fatalf("start node %d: %v", id, err)
		}
		cfg.Listener, cfg.API = nil, n.APIAddr()
		c.nodes[id], c.cfgs[id] = n, cfg
	}
	return c
}

// waitAPIs waits until every node's configuration gives every member the
// API URL want returns.
func (c *cluster) waitAPIs(want func(id uint64) string) {
	c.t.Helper()
	var have []string
	for range 1000 { // 20 s at most
		have = have[:0]
		ok := true
		for _, id := range c.ids() {
			ms := c.nodes[id].Status().Members
			if len(ms) != len(c.nodes) {
				ok = false
			}
			for _, m := range ms {
				_, au := server.ParseAddr(m.Addr)
				have = append(have, m.Addr)
				if au != want(m.ID) {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("API URLs not announced: have %q", have)
}

// TestAnnounceAPIs (issue 16 item 8): nodes told none of the others' API
// URLs each announce their own through the log, so every node learns every
// member's, and a follower forwards membership changes to the leader.
func TestAnnounceAPIs(t *testing.T) {
	c := startNodes(t, nil)
	l := c.waitLeader()
	c.waitAPIs(func(id uint64) string { return "http://" + c.nodes[id].APIAddr() })
	f := c.follower(l)
	r := do(t, http.MethodDelete, c.url(f, "/v1/members/"+strconv.FormatUint(f, 10)), nil)
	if ms := decodeMembers(t, r); r.code != http.StatusOK || len(ms.Members) != 2 {
		t.Fatalf("remove node %d through itself, a follower: have %d %s; want 200, forwarded to leader %d\n%s",
			f, r.code, roles(ms), l, r.body)
	}
}

// TestMembersFollowerCannotForward: a follower that knows the leader's API
// URL but cannot reach it answers 503 not-leader naming the leader and its
// API URL, which a joining node then asks directly.
func TestMembersFollowerCannotForward(t *testing.T) {
	dead := "http://" + freeAddr(t) // nothing listens there
	c := startNodes(t, func(uint64) string { return dead })
	l := c.waitLeader()
	f := c.follower(l)
	// The followers cannot announce theirs (they post to the leader's
	// API), but the leader's own announcement reaches them.
	for i := 0; ; i++ {
		if c.apiOf(f, l) == dead {
			break
		}
		if i == 1000 {
			t.Fatalf("node %d never learned leader %d's API URL", f, l)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := do(t, http.MethodDelete, c.url(f, "/v1/members/3"), nil)
	rep := r.reply(t)
	if r.code != http.StatusServiceUnavailable || rep.Code != "not-leader" || rep.Leader != l || rep.LeaderAPI != dead {
		t.Errorf("remove through a follower that cannot forward: have %d %+v; want 503 not-leader with leader %d at %s",
			r.code, rep, l, dead)
	}
}

// apiOf returns the API URL of member id in node at's configuration.
func (c *cluster) apiOf(at, id uint64) string {
	for _, m := range c.nodes[at].Status().Members {
		if m.ID == id {
			_, au := server.ParseAddr(m.Addr)
			return au
		}
	}
	return ""
}
