package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/kv"
)

// TestKV walks the key-value API through one cluster: a write and reads at
// the leader and a follower, stale and raw reads, delete and CAS.
func TestKV(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	follower := c.follower(leader)
	kvURL := func(id uint64, key, query string) string { return c.url(id, "/v1/kv/"+key+query) }

	put := do(t, http.MethodPut, kvURL(leader, "temperature", ""), []byte("72.5"))
	w := checkReply(t, "PUT at the leader", put, wantReply{httpCode: 200, code: "ok", ok: true})
	if w.Index == 0 || w.Term == 0 || w.Voters != 3 || w.Acks < 2 || w.Acks > 3 || w.Leader != leader {
		t.Errorf("PUT at the leader: have index %d term %d acks %d/%d leader %d, want index and term > 0, 2 or 3 acks of 3, leader %d",
			w.Index, w.Term, w.Acks, w.Voters, w.Leader, leader)
	}

	for _, id := range []uint64{leader, follower} {
		r := checkReply(t, fmt.Sprintf("GET at node %d", id), do(t, http.MethodGet, kvURL(id, "temperature", ""), nil),
			wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "72.5"})
		if r.Index < w.Index {
			t.Errorf("GET at node %d: read index %d, want at least the write's %d", id, r.Index, w.Index)
		}
	}

	checkReply(t, "GET of a missing key", do(t, http.MethodGet, kvURL(follower, "nothing", ""), nil),
		wantReply{httpCode: 404, code: "ok", ok: true})

	// The leader has applied the write before it answered, so its own copy
	// has it; a follower's copy catches up.
	checkReply(t, "stale GET at the leader", do(t, http.MethodGet, kvURL(leader, "temperature", "?consistency=stale"), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "72.5"})
	checkReply(t, "linearizable GET spelt out", do(t, http.MethodGet, kvURL(leader, "temperature", "?consistency=linearizable"), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "72.5"})
	var stale api.Reply
	for range 500 {
		stale = do(t, http.MethodGet, kvURL(follower, "temperature", "?consistency=stale"), nil).reply(t)
		if stale.Found {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !stale.Found || stale.Value != "72.5" {
		t.Errorf("stale GET at follower %d never saw the write: last answer %+v", follower, stale)
	}

	raw := do(t, http.MethodGet, kvURL(leader, "temperature", "?raw=1"), nil)
	if raw.code != 200 || string(raw.body) != "72.5" || raw.ctype != "application/octet-stream" {
		t.Errorf("raw GET: have %d %q %q, want 200 %q %q", raw.code, raw.ctype, raw.body, "application/octet-stream", "72.5")
	}
	checkReply(t, "raw GET of a missing key", do(t, http.MethodGet, kvURL(leader, "nothing", "?raw=1"), nil),
		wantReply{httpCode: 404, code: "ok", ok: true})

	checkReply(t, "DELETE", do(t, http.MethodDelete, kvURL(leader, "temperature", ""), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true})
	checkReply(t, "GET after DELETE", do(t, http.MethodGet, kvURL(leader, "temperature", ""), nil),
		wantReply{httpCode: 404, code: "ok", ok: true})
	checkReply(t, "DELETE of a missing key", do(t, http.MethodDelete, kvURL(follower, "temperature", ""), nil),
		wantReply{httpCode: 200, code: "ok", ok: true})

	cas := []struct {
		name  string
		query string
		value string
		want  wantReply
	}{
		{"absent, key missing", "?absent=1", "me", wantReply{httpCode: 200, code: "ok", ok: true}},
		{"absent, key present", "?absent=1", "you", wantReply{httpCode: 409, code: "ok", found: true, value: "me", errHas: "exists"}},
		{"expect, value differs", "?expect=you", "us", wantReply{httpCode: 409, code: "ok", found: true, value: "me", errHas: "differs"}},
		{"expect, value matches", "?expect=me", "us", wantReply{httpCode: 200, code: "ok", ok: true, found: true}},
		{"expect and absent", "?expect=us&absent=1", "them", wantReply{httpCode: 400, code: "invalid", errHas: "expect"}},
	}
	for _, tc := range cas {
		checkReply(t, "CAS "+tc.name, do(t, http.MethodPut, kvURL(leader, "lock", tc.query), []byte(tc.value)), tc.want)
	}
	checkReply(t, "GET after CAS", do(t, http.MethodGet, kvURL(follower, "lock", ""), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "us"})
	checkReply(t, "CAS expect on a missing key", do(t, http.MethodPut, kvURL(leader, "absent-key", "?expect=x"), []byte("y")),
		wantReply{httpCode: 409, code: "ok", errHas: "not found"})
}

// TestAcksCountVoters cuts one follower off from the leader, so that a write
// commits with exactly two acknowledgements of three, as the seed prints
// them: "✓ Committed (2/3 acks)".
func TestAcksCountVoters(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	cut := c.follower(leader)
	if r := c.admin(leader, testToken, "faults", fmt.Sprintf(`{"blocked":[%d]}`, cut)); r.code != 200 {
		t.Fatalf("block node %d: %d %s", cut, r.code, r.body)
	}
	w := checkReply(t, "PUT", do(t, http.MethodPut, c.url(leader, "/v1/kv/k"), []byte("v")),
		wantReply{httpCode: 200, code: "ok", ok: true})
	if w.Acks != 2 || w.Voters != 3 {
		t.Errorf("acks: have %d/%d, want 2/3", w.Acks, w.Voters)
	}
}

// TestBadRequests sends malformed requests: each gets a 4xx JSON answer
// with an error.
func TestBadRequests(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	long := strings.Repeat("k", kv.MaxKeyBytes+1)
	tests := []struct {
		name   string
		method string
		path   string
		body   []byte
		header []string
		want   int
	}{
		{"value too long", http.MethodPut, "/v1/kv/k", make([]byte, kv.MaxValueBytes+1), nil, http.StatusRequestEntityTooLarge},
		{"key too long", http.MethodPut, "/v1/kv/" + long, []byte("v"), nil, http.StatusBadRequest},
		{"key too long, read", http.MethodGet, "/v1/kv/" + long, nil, nil, http.StatusBadRequest},
		{"key too long, delete", http.MethodDelete, "/v1/kv/" + long, nil, nil, http.StatusBadRequest},
		{"empty key", http.MethodPut, "/v1/kv/", []byte("v"), nil, http.StatusBadRequest},
		{"key not utf-8", http.MethodPut, "/v1/kv/%ff", []byte("v"), nil, http.StatusBadRequest},
		{"bad consistency", http.MethodGet, "/v1/kv/k?consistency=eventual", nil, nil, http.StatusBadRequest},
		{"client not a number", http.MethodPut, "/v1/kv/k", []byte("v"), []string{api.HeaderClient, "abc", api.HeaderSeq, "1"}, http.StatusBadRequest},
		{"client zero", http.MethodPut, "/v1/kv/k", []byte("v"), []string{api.HeaderClient, "0", api.HeaderSeq, "1"}, http.StatusBadRequest},
		{"seq zero", http.MethodPut, "/v1/kv/k", []byte("v"), []string{api.HeaderClient, "7", api.HeaderSeq, "0"}, http.StatusBadRequest},
		{"seq negative", http.MethodPut, "/v1/kv/k", []byte("v"), []string{api.HeaderClient, "7", api.HeaderSeq, "-1"}, http.StatusBadRequest},
		{"client without seq", http.MethodPut, "/v1/kv/k", []byte("v"), []string{api.HeaderClient, "7"}, http.StatusBadRequest},
		{"seq without client", http.MethodDelete, "/v1/kv/k", nil, []string{api.HeaderSeq, "7"}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, c.url(leader, tc.path), tc.body, tc.header...)
			rep := r.reply(t)
			if r.code != tc.want || rep.Code != "invalid" || rep.Error == "" || rep.OK {
				t.Errorf("have %d code=%q ok=%v error=%q, want %d code=\"invalid\" with an error", r.code, rep.Code, rep.OK, rep.Error, tc.want)
			}
		})
	}
	// The limits themselves are allowed.
	checkReply(t, "value of the largest size", do(t, http.MethodPut, c.url(leader, "/v1/kv/"+long[1:]), make([]byte, kv.MaxValueBytes)),
		wantReply{httpCode: 200, code: "ok", ok: true})
}

// TestSessionRetry retries writes with the same session headers: each
// applies once, and a retry gets the first attempt's answer.
func TestSessionRetry(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	follower := c.follower(leader)
	session := func(client, seq int) []string {
		return []string{api.HeaderClient, fmt.Sprint(client), api.HeaderSeq, fmt.Sprint(seq)}
	}
	url := func(id uint64, key, query string) string { return c.url(id, "/v1/kv/"+key+query) }

	// A SET retried after another client's write does not overwrite it.
	checkReply(t, "SET", do(t, http.MethodPut, url(leader, "k", ""), []byte("v1"), session(101, 1)...),
		wantReply{httpCode: 200, code: "ok", ok: true})
	checkReply(t, "SET by another client", do(t, http.MethodPut, url(leader, "k", ""), []byte("v2"), session(202, 1)...),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true})
	// The follower may answer from the first attempt's entry, or from the
	// retry's, which the session turns into a replay: the same answer.
	checkReply(t, "SET retried", do(t, http.MethodPut, url(follower, "k", ""), []byte("v1"), session(101, 1)...),
		wantReply{httpCode: 200, code: "ok", ok: true})
	checkReply(t, "GET after the retry", do(t, http.MethodGet, url(leader, "k", ""), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "v2"})

	// A CAS-absent retried returns its first result, not "exists".
	checkReply(t, "CAS absent", do(t, http.MethodPut, url(leader, "lock", "?absent=1"), []byte("me"), session(303, 1)...),
		wantReply{httpCode: 200, code: "ok", ok: true})
	checkReply(t, "CAS absent retried", do(t, http.MethodPut, url(leader, "lock", "?absent=1"), []byte("me"), session(303, 1)...),
		wantReply{httpCode: 200, code: "ok", ok: true})
	checkReply(t, "CAS absent by another client", do(t, http.MethodPut, url(leader, "lock", "?absent=1"), []byte("you"), session(404, 1)...),
		wantReply{httpCode: 409, code: "ok", found: true, value: "me", errHas: "exists"})

	// A sequence number older than the session's is refused.
	checkReply(t, "next in session", do(t, http.MethodPut, url(leader, "k", ""), []byte("v3"), session(101, 2)...),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true})
	checkReply(t, "stale sequence", do(t, http.MethodPut, url(leader, "k", ""), []byte("v1"), session(101, 1)...),
		wantReply{httpCode: 409, code: "ok", errHas: "stale sequence"})
	checkReply(t, "GET at the end", do(t, http.MethodGet, url(follower, "k", ""), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "v3"})
}

// TestHealthStatusMetrics checks the read-only endpoints.
func TestHealthStatusMetrics(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	follower := c.follower(leader)

	h := do(t, http.MethodGet, c.url(follower, "/healthz"), nil)
	if h.code != 200 || string(h.body) != "ok\n" {
		t.Errorf("/healthz: have %d %q, want 200 %q", h.code, h.body, "ok\n")
	}

	w := checkReply(t, "PUT", do(t, http.MethodPut, c.url(leader, "/v1/kv/a"), []byte("1")),
		wantReply{httpCode: 200, code: "ok", ok: true})
	s := c.status(leader)
	if s.ID != leader || s.Role != "leader" || s.Leader != leader || s.Term == 0 || s.Commit < w.Index ||
		s.Applied < w.Index || s.LastIndex < w.Index || s.Keys != 1 || s.Quorum != 2 || s.Alive < 2 ||
		fmt.Sprint(s.Voters) != "[1 2 3]" || !s.PreVote || !s.CheckQuorum || len(s.Progress) != 3 ||
		s.Core != "native" || s.API != c.nodes[leader].APIAddr() || s.Peer != c.peers[leader] || s.PID != os.Getpid() {
		t.Errorf("leader's status after a write at index %d: %+v", w.Index, s)
	}
	fs := c.status(follower)
	if fs.ID != follower || fs.Role != "follower" || fs.Leader != leader || fs.Peer != c.peers[follower] {
		t.Errorf("follower %d's status: %+v", follower, fs)
	}

	m := do(t, http.MethodGet, c.url(leader, "/metrics"), nil)
	if m.code != 200 {
		t.Fatalf("/metrics: %d", m.code)
	}
	for _, want := range []string{
		fmt.Sprintf("wraft_term{node=\"%d\"} %d", leader, s.Term),
		"wraft_commit_index{node=",
		fmt.Sprintf("wraft_is_leader{node=\"%d\"} 1", leader),
		"wraft_replies_total{code=\"ok\"",
	} {
		if !bytes.Contains(m.body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	opt := do(t, http.MethodOptions, c.url(leader, "/v1/kv/a"), nil, "Origin", "http://127.0.0.1:8080", "Access-Control-Request-Method", "PUT")
	if opt.code != http.StatusNoContent {
		t.Errorf("OPTIONS (CORS preflight) from the demo's dashboard: have %d, want 204", opt.code)
	}
}

// TestNoQuorum stops two of three nodes: the last one answers writes and
// linearizable reads with 503 "no-quorum" once it has judged that it
// hears from too few voters, and still serves stale reads.
func TestNoQuorum(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	checkReply(t, "PUT", do(t, http.MethodPut, c.url(leader, "/v1/kv/k"), []byte("v")),
		wantReply{httpCode: 200, code: "ok", ok: true})
	for _, id := range c.ids() {
		if id != leader {
			c.stop(id)
		}
	}
	for _, tc := range []struct {
		method, path string
	}{{http.MethodPut, "/v1/kv/k"}, {http.MethodGet, "/v1/kv/k"}} {
		r := checkReply(t, tc.method+" alone", do(t, tc.method, c.url(leader, tc.path), []byte("w")),
			wantReply{httpCode: 503, code: "no-quorum", errHas: "no quorum"})
		if r.Alive != 1 || r.Voters != 3 {
			t.Errorf("%s alone: have %d/%d alive, want 1/3", tc.method, r.Alive, r.Voters)
		}
	}
	checkReply(t, "stale GET alone", do(t, http.MethodGet, c.url(leader, "/v1/kv/k?consistency=stale"), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "v"})
}
