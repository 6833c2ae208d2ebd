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
// told no API URL but their own; tweak, if set, changes node id's Config
// (such as its APIURL, the API URL it announces) before it starts.
func startNodes(t *testing.T, tweak func(id uint64, cfg *server.Config)) *cluster {
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
		if tweak != nil {
			tweak(id, &cfg)
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
	c := startNodes(t, func(_ uint64, cfg *server.Config) { cfg.APIURL = dead })
	l := c.waitLeader()
	f := c.follower(l)
	// Every node announces the dead URL; the leader's own announcement
	// reaches the followers.
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

// TestAnnounceAPIsOwnTokens (issue 16 item 8): nodes that each have their
// own admin token (as nodes started without a shared --admin-token do)
// still learn every member's API URL, since it travels over the peer
// transport and needs no token; a follower then forwards a membership
// request to the leader (which judges the client's token itself), and
// one it may not forward is answered 503 not-leader with the leader's
// API URL.
func TestAnnounceAPIsOwnTokens(t *testing.T) {
	apis := map[uint64]string{}
	c := startNodes(t, func(id uint64, cfg *server.Config) {
		addr := freeAddr(t)
		cfg.API, cfg.APIURL = addr, "http://"+addr
		cfg.AdminToken = "token-of-node-" + strconv.FormatUint(id, 10)
		apis[id] = cfg.APIURL
	})
	l := c.waitLeader()
	var have []string
	for i := 0; ; i++ { // 30 s at most
		have = have[:0]
		ok := true
		for _, id := range c.ids() {
			ms := decodeMembers(t, do(t, http.MethodGet, c.url(id, "/v1/members?local"), nil))
			for _, m := range ms.Members {
				have = append(have, strconv.FormatUint(id, 10)+":"+strconv.FormatUint(m.ID, 10)+"="+m.API)
				if m.API != apis[m.ID] {
					ok = false
				}
			}
			if len(ms.Members) != 3 {
				ok = false
			}
		}
		if ok {
			break
		}
		if i == 600 {
			t.Fatalf("API URLs never all announced: have %q (node:member=api), want %v", have, apis)
		}
		time.Sleep(50 * time.Millisecond)
	}

	f := c.follower(l)
	own := "Bearer " + c.cfgs[f].AdminToken
	// Forwarded: the follower accepts its own token, the leader does not.
	req, err := http.NewRequest(http.MethodDelete, c.url(f, "/v1/members/"+strconv.FormatUint(f, 10)), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", own)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if by := resp.Header.Get("X-Wraft-Answered-By"); resp.StatusCode != http.StatusUnauthorized || by != strconv.FormatUint(l, 10) {
		t.Errorf("remove through follower %d with its own token: have %d answered by %q; want 401 from leader %d", f, resp.StatusCode, by, l)
	}
	// Not forwarded (it claims to have been forwarded to the follower):
	// the follower names the leader and its API URL.
	r := do(t, http.MethodDelete, c.url(f, "/v1/members/"+strconv.FormatUint(f, 10)), nil,
		"Authorization", own, "X-Wraft-Forwarded-To", strconv.FormatUint(f, 10))
	rep := r.reply(t)
	if r.code != http.StatusServiceUnavailable || rep.Code != "not-leader" || rep.Leader != l || rep.LeaderAPI != apis[l] {
		t.Errorf("remove through follower %d, not forwarded: have %d %+v; want 503 not-leader with leader %d at %s", f, r.code, rep, l, apis[l])
	}
}
