package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

// syncBuffer is a log destination safe for the node's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startOne starts a one-node cluster with cfg's token fields and data
// directory, logging to log.
func startOne(t *testing.T, dir string, log *syncBuffer, edit func(*server.Config)) *server.Node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{ID: 1, Peers: map[uint64]string{1: ln.Addr().String()}, Listener: ln, API: "127.0.0.1:0",
		DataDir: dir, NewCore: host.Native, CoreName: "native", NoSync: true,
		Logger: slog.New(slog.NewTextHandler(log, nil))}
	if edit != nil {
		edit(&cfg)
	}
	n, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAdminTokenGenerated: a node started without an admin token makes
// one on its first start, keeps it readable by its owner only, logs it
// that once, and keeps it across restarts; a node that joins without one
// adopts the cluster's (JoinToken).
func TestAdminTokenGenerated(t *testing.T) {
	dir := t.TempDir()
	var log syncBuffer
	n := startOne(t, dir, &log, nil)
	path := filepath.Join(dir, server.AdminTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		n.Stop()
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	tok, err := server.ReadAdminToken(dir)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
		t.Errorf("token %q, %v: want 64 hex digits (32 random bytes)", tok, err)
	}
	if strings.Count(log.String(), tok) != 1 {
		t.Errorf("the first start logged the token %d times, want once:\n%s", strings.Count(log.String(), tok), log.String())
	}
	url := "http://" + n.APIAddr() + "/v1/admin/heal"
	if r := do(t, http.MethodPost, url, nil, "Authorization", ""); r.code != http.StatusUnauthorized {
		t.Errorf("heal without the token: have %d %s, want 401", r.code, r.body)
	}
	if r := do(t, http.MethodPost, url, nil, "Authorization", "Bearer "+tok); r.code != http.StatusOK {
		t.Errorf("heal with the token: have %d %s, want 200", r.code, r.body)
	}
	n.Stop()

	var again syncBuffer
	n = startOne(t, dir, &again, nil)
	url = "http://" + n.APIAddr() + "/v1/admin/heal"
	if r := do(t, http.MethodPost, url, nil, "Authorization", "Bearer "+tok); r.code != http.StatusOK {
		t.Errorf("heal with the kept token after a restart: have %d %s, want 200", r.code, r.body)
	}
	if strings.Contains(again.String(), tok) {
		t.Errorf("the restart logged the token again:\n%s", again.String())
	}
	n.Stop()

	// A given token wins, and is not written down.
	given := t.TempDir()
	n = startOne(t, given, &again, func(c *server.Config) { c.AdminToken = "given" })
	n.Stop()
	if _, err := os.Stat(filepath.Join(given, server.AdminTokenFile)); !os.IsNotExist(err) {
		t.Errorf("a given token was written to the data directory (%v)", err)
	}
	// A joining node's JoinToken becomes its admin token (here through
	// the resolution alone: a one-node cluster with JoinToken set).
	joiner := t.TempDir()
	n = startOne(t, joiner, &again, func(c *server.Config) { c.JoinToken = "cluster-token" })
	n.Stop()
	if tok, err := server.ReadAdminToken(joiner); err != nil || tok != "cluster-token" {
		t.Errorf("a node with JoinToken kept %q, %v; want the join token", tok, err)
	}
	// A bad token is refused at start.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, err = server.Start(server.Config{ID: 1, Peers: map[uint64]string{1: ln.Addr().String()}, Listener: ln, API: "127.0.0.1:0",
		DataDir: t.TempDir(), NewCore: host.Native, AdminToken: "has space"})
	if err == nil || !strings.Contains(err.Error(), "admin token") {
		t.Errorf("start with a token with a space: %v, want an error about the admin token", err)
	}
}

// TestMutatingRoutesNeedToken: every request that changes membership or
// faults, and any POST, PUT or DELETE outside /v1/kv/ (an admin endpoint
// added later included), is refused with 401 without the admin token, and
// changes nothing. Key-value writes need no token.
func TestMutatingRoutesNeedToken(t *testing.T) {
	c := newClusterWith(t, clusterOptions{size: 3, apis: true})
	leader := c.waitLeader()
	follower := c.follower(leader)
	term := c.nodes[leader].Status().Term
	routes := []struct{ method, path, body string }{
		{"POST", "/v1/members", `{"id":4,"raft":"127.0.0.1:1","api":"127.0.0.1:2"}`},
		{"POST", "/v1/members/" + itoa(follower) + "/promote", ""},
		{"DELETE", "/v1/members/" + itoa(follower), ""},
		{"POST", "/v1/admin/faults", `{"blocked":[` + itoa(follower) + `]}`},
		{"POST", "/v1/admin/heal", ""},
		{"POST", "/v1/admin/transfer", `{"to":` + itoa(follower) + `}`},
		{"POST", "/v1/admin/crash", ""},
		{"POST", "/v1/admin/snapshot", ""},
		{"POST", "/v1/core/upgrade", ""},
		{"PUT", "/v1/status", "x"},
	}
	for _, id := range []uint64{leader, follower} {
		for _, rt := range routes {
			for _, auth := range []string{"", "Bearer wrong", "Basic " + testToken} {
				r := do(t, rt.method, c.url(id, rt.path), []byte(rt.body), "Authorization", auth, "Content-Type", "application/json")
				if rep := r.reply(t); r.code != http.StatusUnauthorized || rep.Code != "unauthorized" || !strings.Contains(rep.Error, "admin token") {
					t.Errorf("node %d: %s %s with Authorization %q: have %d %s, want 401 unauthorized", id, rt.method, rt.path, auth, r.code, r.body)
				}
			}
		}
	}
	ms := decodeMembers(t, do(t, http.MethodGet, c.url(leader, "/v1/members"), nil))
	if len(ms.Members) != 3 || roles(ms) != "1:voter 2:voter 3:voter" {
		t.Errorf("members after the refused requests: %+v, want the three voters", ms.Members)
	}
	for _, id := range c.ids() {
		if s := c.nodes[id].Status(); s.Term != term || s.Leader != leader {
			t.Errorf("node %d: term %d leader %d, want %d and %d as before", id, s.Term, s.Leader, term, leader)
		}
		var f api.Faults
		r := c.admin(id, testToken, "heal", "")
		if err := json.Unmarshal(r.body, &f); err != nil || len(f.Blocked) != 0 {
			t.Errorf("node %d: faults %s, want none", id, r.body)
		}
	}
	// Key-value writes need no token.
	checkReply(t, "PUT without a token", do(t, http.MethodPut, c.url(follower, "/v1/kv/open"), []byte("1"), "Authorization", ""),
		wantReply{httpCode: 200, code: "ok", ok: true})
	checkReply(t, "DELETE without a token", do(t, http.MethodDelete, c.url(follower, "/v1/kv/open"), nil, "Authorization", ""),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true})
	// With the token, at a follower: forwarded to the leader, with it.
	r := do(t, http.MethodPost, c.url(follower, "/v1/members"), []byte(`{"id":4,"raft":"127.0.0.1:1","api":"127.0.0.1:2"}`),
		"Authorization", "Bearer "+testToken)
	if ms := decodeMembers(t, r); r.code != http.StatusOK || len(ms.Members) != 4 {
		t.Errorf("add at a follower with the token: have %d %s, want 200 and four members", r.code, r.body)
	}
}

// TestCORS: only the listed origins get CORS headers, never *; a request
// from any other web page is refused before it reaches a handler, its
// preflight included; requests without an Origin pass.
func TestCORS(t *testing.T) {
	var log syncBuffer
	n := startOne(t, t.TempDir(), &log, func(c *server.Config) {
		c.AdminToken = testToken
		c.CORSOrigins = []string{"http://dash.example:8080/", "HTTP://Other.example"}
	})
	defer n.Stop()
	base := "http://" + n.APIAddr()
	send := func(method, path, origin string, h ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader("v"))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, origin := range []string{"http://dash.example:8080", "http://other.example"} {
		resp := send(http.MethodOptions, "/v1/members", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization,content-type")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight from %s: have %d %v, want 204 allowing that origin and Authorization", origin, resp.StatusCode, resp.Header)
		}
		if resp := send(http.MethodGet, "/v1/status", origin); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("GET from %s: have %d %v, want 200 allowing that origin", origin, resp.StatusCode, resp.Header)
		}
	}
	for _, origin := range []string{"http://evil.example", "http://dash.example:8081", "null", "http://127.0.0.1:8080"} {
		for _, rq := range []struct{ method, path string }{
			{http.MethodOptions, "/v1/members"}, {http.MethodGet, "/v1/status"}, {http.MethodPut, "/v1/kv/x"},
			{http.MethodPost, "/v1/members"}, {http.MethodGet, "/v1/events"},
		} {
			h := []string{"Authorization", "Bearer " + testToken}
			if rq.method == http.MethodOptions {
				h = append(h, "Access-Control-Request-Method", "POST")
			}
			resp := send(rq.method, rq.path, origin, h...)
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s from %s: have %d %v, want 403 without CORS headers", rq.method, rq.path, origin, resp.StatusCode, resp.Header)
			}
		}
	}
	if resp := send(http.MethodGet, "/v1/kv/x?consistency=stale", ""); resp.StatusCode != http.StatusNotFound ||
		resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET without an Origin: have %d %v, want 404 without CORS headers", resp.StatusCode, resp.Header)
	}
	// * is refused: it would let any page in.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, err := server.Start(server.Config{ID: 1, Peers: map[uint64]string{1: ln.Addr().String()}, Listener: ln, API: "127.0.0.1:0",
		DataDir: t.TempDir(), NewCore: host.Native, CORSOrigins: []string{"*"}})
	if err == nil || !strings.Contains(err.Error(), "CORS origin *") {
		t.Errorf("start with CORS origin *: %v, want an error", err)
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
