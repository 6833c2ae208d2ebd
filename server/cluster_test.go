package server_test

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

// testToken is the admin token of every test node that has one.
const testToken = "test-token"

// cluster is three (or n) in-process nodes on 127.0.0.1, each with the
// native core, its own temporary data directory and (unless
// clusterOptions.sync) fsync off.
type cluster struct {
	t     *testing.T
	peers map[uint64]string
	nodes map[uint64]*server.Node // running nodes; a stopped node is removed
	cfgs  map[uint64]server.Config
}

// clusterOptions adjusts a cluster's nodes.
type clusterOptions struct {
	size int
	// token is every node's admin token ("": testToken).
	token string
	// tls, if set, returns node id's peer TLS config.
	tls func(id uint64) *tls.Config
	// apis gives every node a known API port, and every node the others'
	// API URLs (so that followers forward membership requests).
	apis bool
	// snapshotEntries is every node's engine SnapshotEntries (0: default).
	snapshotEntries int
	// sync turns fsync on.
	sync bool
}

// newCluster starts a cluster of three nodes with admin token testToken,
// and stops it when the test ends.
func newCluster(t *testing.T) *cluster {
	return newClusterWith(t, clusterOptions{size: 3, token: testToken})
}

func newClusterWith(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	c := &cluster{t: t, peers: map[uint64]string{}, nodes: map[uint64]*server.Node{}, cfgs: map[uint64]server.Config{}}
	t.Cleanup(c.stopAll)
	lns := map[uint64]net.Listener{}
	for id := uint64(1); id <= uint64(o.size); id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			t.Fatal(err)
		}
		lns[id] = ln
		c.peers[id] = ln.Addr().String()
	}
	apis := map[uint64]string{}
	if o.apis {
		for id := uint64(1); id <= uint64(o.size); id++ {
			apis[id] = freeAddr(t)
		}
	}
	for id := uint64(1); id <= uint64(o.size); id++ {
		cfg := server.Config{
			ID: id, Peers: c.peers, Listener: lns[id], API: "127.0.0.1:0", DataDir: t.TempDir(),
			NewCore: host.Native, CoreName: "native", AdminToken: cmp.Or(o.token, testToken), NoSync: !o.sync,
			Logger: testLogger(),
		}
		if o.apis {
			cfg.API = apis[id]
			cfg.PeerAPIs = map[uint64]string{}
			for id, a := range apis {
				cfg.PeerAPIs[id] = "http://" + a
			}
		}
		cfg.Engine.SnapshotEntries = o.snapshotEntries
		// Long enough election timeouts (400-800 ms) that a busy machine
		// running -race does not see spurious elections.
		cfg.Engine.Raft.ElectionTicks = 20
		cfg.Engine.Raft.HeartbeatTicks = 2
		cfg.Engine.Raft.Seed = id
		if o.tls != nil {
			cfg.TLS = o.tls(id)
		}
		n, err := server.Start(cfg)
		if err != nil {
			for later := id + 1; later <= uint64(o.size); later++ {
				lns[later].Close()
			}
			t.Fatalf("start node %d: %v", id, err)
		}
		cfg.Listener = nil
		if cfg.API == "127.0.0.1:0" {
			cfg.API = n.APIAddr()
		}
		c.nodes[id], c.cfgs[id] = n, cfg
	}
	return c
}

// freeAddr returns a free 127.0.0.1 address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// restart starts stopped node id again from its data directory, at the
// same addresses.
func (c *cluster) restart(id uint64) {
	c.t.Helper()
	cfg := c.cfgs[id]
	n, err := server.Start(cfg)
	if err != nil {
		c.t.Fatalf("restart node %d: %v", id, err)
	}
	c.nodes[id] = n
}

// stop stops node id.
func (c *cluster) stop(id uint64) {
	c.t.Helper()
	n := c.nodes[id]
	if n == nil {
		return
	}
	delete(c.nodes, id)
	if err := n.Stop(); err != nil {
		c.t.Errorf("stop node %d: %v", id, err)
	}
}

func (c *cluster) stopAll() {
	for id := range c.nodes {
		c.stop(id)
	}
}

// url returns the address of path on node id's API.
func (c *cluster) url(id uint64, path string) string {
	return "http://" + c.nodes[id].APIAddr() + path
}

// waitLeader waits until every running node follows the same leader in the
// same term, and returns that leader.
func (c *cluster) waitLeader() uint64 {
	c.t.Helper()
	return c.waitLeaderAmong(c.ids()...)
}

// waitLeaderAmong is waitLeader for some of the running nodes.
func (c *cluster) waitLeaderAmong(ids ...uint64) uint64 {
	c.t.Helper()
	var last string
	for range 1000 { // 20 s at most
		last = ""
		var leader, term uint64
		agree := true
		for i, id := range ids {
			s := c.nodes[id].Status()
			if i == 0 {
				leader, term = s.Leader, s.Term
			}
			if s.Leader == 0 || s.Leader != leader || s.Term != term {
				agree = false
			}
			last += fmt.Sprintf(" node %d: leader %d term %d;", id, s.Leader, s.Term)
		}
		if agree && c.nodes[leader] != nil && c.nodes[leader].Status().Role.String() == "leader" {
			return leader
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("no leader agreed on by nodes %v:%s", ids, last)
	return 0
}

// ids returns the running nodes' ids.
func (c *cluster) ids() []uint64 {
	var ids []uint64
	for id := uint64(1); id <= uint64(len(c.peers)); id++ {
		if c.nodes[id] != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// follower returns a running node other than leader.
func (c *cluster) follower(leader uint64) uint64 {
	for _, id := range c.ids() {
		if id != leader {
			return id
		}
	}
	c.t.Fatal("no follower running")
	return 0
}

// response is an HTTP answer: its status, content type and body.
type response struct {
	code  int
	ctype string
	body  []byte
}

// reply decodes the body as an api.Reply.
func (r response) reply(t *testing.T) api.Reply {
	t.Helper()
	var rep api.Reply
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatalf("answer %d is not a JSON reply: %v\n%s", r.code, err, r.body)
	}
	return rep
}

// do sends one request; header holds alternating names and values. The
// request carries the admin token testToken unless header sets
// Authorization (to "" for none).
func do(t *testing.T, method, url string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{code: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b}
}

// admin posts body (a JSON string, or "") to an admin endpoint of node id
// with the given token ("": none).
func (c *cluster) admin(id uint64, token, what, body string) response {
	c.t.Helper()
	h := []string{"Authorization", ""}
	if token != "" {
		h[1] = "Bearer " + token
	}
	return do(c.t, http.MethodPost, c.url(id, "/v1/admin/"+what), []byte(body), h...)
}

// status fetches node id's /v1/status.
func (c *cluster) status(id uint64) api.Status {
	c.t.Helper()
	r := do(c.t, http.MethodGet, c.url(id, "/v1/status"), nil)
	if r.code != http.StatusOK {
		c.t.Fatalf("status of node %d: %d %s", id, r.code, r.body)
	}
	var s api.Status
	if err := json.Unmarshal(r.body, &s); err != nil {
		c.t.Fatalf("status of node %d: %v\n%s", id, err, r.body)
	}
	return s
}

// wantReply checks the fields of a reply that a test cares about.
type wantReply struct {
	httpCode int
	code     string
	ok       bool
	found    bool
	value    string
	errHas   string // a substring of Error, if set
}

func checkReply(t *testing.T, what string, r response, want wantReply) api.Reply {
	t.Helper()
	rep := r.reply(t)
	if r.code != want.httpCode || rep.Code != want.code || rep.OK != want.ok || rep.Found != want.found ||
		rep.Value != want.value || !strings.Contains(rep.Error, want.errHas) {
		t.Errorf("%s:\nhave %d code=%q ok=%v found=%v value=%q error=%q\nwant %d code=%q ok=%v found=%v value=%q error containing %q",
			what, r.code, rep.Code, rep.OK, rep.Found, rep.Value, rep.Error,
			want.httpCode, want.code, want.ok, want.found, want.value, want.errHas)
	}
	if !strings.HasPrefix(r.ctype, "application/json") {
		t.Errorf("%s: content type %q, want application/json", what, r.ctype)
	}
	return rep
}

// testLogger discards the nodes' logs, unless WRAFT_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("WRAFT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
