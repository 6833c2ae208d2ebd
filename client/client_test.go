package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
)

func TestNewNormalisesEndpoints(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"127.0.0.1:8001"}, []string{"http://127.0.0.1:8001"}},
		{[]string{"localhost:8001", "http://127.0.0.1:8002/"}, []string{"http://localhost:8001", "http://127.0.0.1:8002"}},
		{[]string{" https://127.0.0.1:8443 ", "", "  "}, []string{"https://127.0.0.1:8443"}},
		{[]string{"http://127.0.0.1:8001/wraft/"}, []string{"http://127.0.0.1:8001/wraft"}},
	}
	for _, tc := range tests {
		c, err := client.New(tc.in)
		if err != nil {
			t.Errorf("New(%q): %v", tc.in, err)
			continue
		}
		if have := c.Endpoints(); !slices.Equal(have, tc.want) {
			t.Errorf("New(%q).Endpoints():\nhave %q\nwant %q", tc.in, have, tc.want)
		}
	}
	for _, in := range [][]string{nil, {}, {"", " "}, {"http://"}, {"http://%zz"}, {"127.0.0.1:8001", "http:///path"}} {
		if c, err := client.New(in); err == nil || !strings.HasPrefix(err.Error(), "client: ") {
			t.Errorf("New(%q): have %v, %v, want an error starting \"client: \"", in, c, err)
		}
	}
}

// fake is a stand-in node: it answers /v1/status with its id and role and
// every key-value request with what answer returns, and records the
// requests it was sent.
type fake struct {
	id     uint64
	srv    *httptest.Server
	mu     sync.Mutex
	role   string
	leader uint64 // the leader its status names
	answer func(r *http.Request) (int, api.Reply)
	got    []*http.Request
	// frozen makes f hold every request, status or key-value, until the
	// test ends, as a node stopped by SIGSTOP would; delay makes it wait
	// that long before it answers, as a slow node would.
	frozen     bool
	delay      time.Duration
	release    chan struct{}
	statuses   int      // status requests received
	memberReqs []string // methods of the membership requests received
}

func newFake(t *testing.T, id uint64, role string, answer func(*http.Request) (int, api.Reply)) *fake {
	t.Helper()
	f := &fake{id: id, role: role, answer: answer, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		role, leader := f.role, f.leader
		f.statuses++
		f.mu.Unlock()
		f.stall()
		writeJSON(w, http.StatusOK, api.Status{ID: f.id, Role: role, Leader: leader})
	})
	mux.HandleFunc("/v1/kv/{key...}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.got = append(f.got, r.Clone(context.Background()))
		answer := f.answer
		f.mu.Unlock()
		f.stall()
		code, rep := answer(r)
		writeJSON(w, code, rep)
	})
	mux.HandleFunc("/v1/members", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.memberReqs = append(f.memberReqs, r.Method)
		role, leader := f.role, f.leader
		f.mu.Unlock()
		f.stall()
		if r.Method != http.MethodGet && role != "leader" {
			writeJSON(w, http.StatusServiceUnavailable, api.Reply{Code: "not-leader", Leader: leader, Error: "not the leader"})
			return
		}
		writeJSON(w, http.StatusOK, api.Members{Leader: leader, From: f.id, Members: []api.Member{{ID: f.id, Role: "voter"}}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	// Cleanups run last first: held requests end before the server closes.
	t.Cleanup(func() { close(f.release) })
	return f
}

// stall holds a request while f is frozen, or delays it while f is slow.
func (f *fake) stall() {
	f.mu.Lock()
	frozen, delay := f.frozen, f.delay
	f.mu.Unlock()
	if frozen {
		<-f.release
		return
	}
	select {
	case <-time.After(delay):
	case <-f.release:
	}
}

// set changes f under its lock.
func (f *fake) set(change func(f *fake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// statusCount returns how many status requests f was sent.
func (f *fake) statusCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statuses
}

func (f *fake) url() string { return f.srv.URL }

// requests returns the key-value requests f was sent.
func (f *fake) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// answers that fakes give.
func ok(leader uint64) func(*http.Request) (int, api.Reply) {
	return func(*http.Request) (int, api.Reply) {
		return 200, api.Reply{Code: "ok", OK: true, Index: 7, Acks: 2, Voters: 3, Alive: 3, Leader: leader}
	}
}

func notLeader(leader uint64) func(*http.Request) (int, api.Reply) {
	return func(*http.Request) (int, api.Reply) {
		return 503, api.Reply{Code: "not-leader", Voters: 3, Alive: 3, Leader: leader, Error: "not the leader"}
	}
}

func noQuorum(*http.Request) (int, api.Reply) {
	return 503, api.Reply{Code: "no-quorum", Voters: 3, Alive: 1, Error: "no quorum (only 1/3 alive)"}
}

// downEndpoint returns the address of a port on 127.0.0.1 where nothing
// listens.
func downEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func newClient(t *testing.T, endpoints ...string) *client.Client {
	t.Helper()
	c, err := client.New(endpoints)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFindLeader(t *testing.T) {
	f1 := newFake(t, 1, "follower", notLeader(2))
	f2 := newFake(t, 2, "leader", ok(2))
	f3 := newFake(t, 3, "follower", notLeader(2))
	c := newClient(t, downEndpoint(t), f1.url(), f2.url(), f3.url())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if id := c.FindLeader(ctx); id != 2 {
		t.Fatalf("FindLeader: have %d, want 2", id)
	}
	// The client now starts at the leader.
	rep, err := c.Set(ctx, "k", []byte("v"))
	if err != nil || rep.Code != "ok" || rep.Acks != 2 {
		t.Fatalf("Set: %+v, %v", rep, err)
	}
	if n1, n2, n3 := len(f1.requests()), len(f2.requests()), len(f3.requests()); n1 != 0 || n2 != 1 || n3 != 0 {
		t.Errorf("requests at nodes 1, 2, 3: have %d, %d, %d, want 0, 1, 0", n1, n2, n3)
	}

	none := newClient(t, f1.url(), f3.url(), downEndpoint(t))
	if id := none.FindLeader(ctx); id != 0 {
		t.Errorf("FindLeader with no leader among the endpoints: have %d, want 0", id)
	}
}

// TestRetries sends a write to a node that is down and to one that is not
// the leader before it reaches the leader; every attempt carries the same
// session, so the write applies at most once.
func TestRetries(t *testing.T) {
	f1 := newFake(t, 1, "follower", notLeader(2))
	f2 := newFake(t, 2, "leader", ok(2))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c := newClient(t, downEndpoint(t), f1.url(), f2.url())
	for i, key := range []string{"a", "b"} {
		rep, err := c.Set(ctx, key, []byte("v"))
		if err != nil || rep.Code != "ok" {
			t.Fatalf("Set %s: %+v, %v", key, rep, err)
		}
		var sessions []string
		for _, r := range append(f1.requests(), f2.requests()...) {
			if strings.HasSuffix(r.URL.Path, "/"+key) {
				sessions = append(sessions, r.Header.Get(api.HeaderClient)+"/"+r.Header.Get(api.HeaderSeq))
			}
		}
		if len(sessions) == 0 {
			t.Fatalf("Set %s reached no node", key)
		}
		client, seq, _ := strings.Cut(sessions[0], "/")
		if client == "" || seq != fmt.Sprint(i+1) {
			t.Errorf("Set %s: session %q, want a client id and sequence %d", key, sessions[0], i+1)
		}
		for _, s := range sessions[1:] {
			if s != sessions[0] {
				t.Errorf("Set %s: attempts carried sessions %q, want one", key, sessions)
			}
		}
	}
	if len(f2.requests()) != 2 {
		t.Errorf("the leader got %d writes, want 2", len(f2.requests()))
	}

	// A down endpoint alone in front of a working one is passed over.
	c = newClient(t, downEndpoint(t), f2.url())
	if rep, err := c.Get(ctx, "a", true); err != nil || rep.Code != "ok" {
		t.Fatalf("Get past a down endpoint: %+v, %v", rep, err)
	}
	if r := f2.requests(); r[len(r)-1].URL.Query().Get("consistency") != "stale" || r[len(r)-1].Header.Get(api.HeaderSeq) != "" {
		t.Errorf("stale Get sent %s with seq %q, want ?consistency=stale and no session", r[len(r)-1].URL, r[len(r)-1].Header.Get(api.HeaderSeq))
	}
}

// TestRequestShapes checks the method, path and query of each operation.
func TestRequestShapes(t *testing.T) {
	f := newFake(t, 1, "leader", ok(1))
	c := newClient(t, f.url())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ops := []struct {
		name string
		do   func() (api.Reply, error)
		want string // method, path and query as the node saw them
	}{
		{"Set", func() (api.Reply, error) { return c.Set(ctx, "k", []byte("v")) }, "PUT /v1/kv/k "},
		{"Set escaped", func() (api.Reply, error) { return c.Set(ctx, "a/b c?", []byte("v")) }, "PUT /v1/kv/a/b c? "},
		{"Get", func() (api.Reply, error) { return c.Get(ctx, "k", false) }, "GET /v1/kv/k "},
		{"Delete", func() (api.Reply, error) { return c.Delete(ctx, "k") }, "DELETE /v1/kv/k "},
		{"CAS absent", func() (api.Reply, error) { return c.CAS(ctx, "k", nil, []byte("v")) }, "PUT /v1/kv/k absent=1"},
		{"CAS expect", func() (api.Reply, error) { return c.CAS(ctx, "k", []byte("a b"), []byte("v")) }, "PUT /v1/kv/k expect=a+b"},
		{"CAS expect empty", func() (api.Reply, error) { return c.CAS(ctx, "k", []byte{}, []byte("v")) }, "PUT /v1/kv/k expect="},
	}
	for i, op := range ops {
		if _, err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		r := f.requests()[i]
		if have := r.Method + " " + r.URL.Path + " " + r.URL.RawQuery; have != op.want {
			t.Errorf("%s: have %q, want %q", op.name, have, op.want)
		}
	}
}

// TestNoQuorum: when every endpoint either says "no quorum" or is down,
// the request fails with ErrNoQuorum and says how many nodes are alive.
func TestNoQuorum(t *testing.T) {
	tests := []struct {
		name      string
		endpoints func(t *testing.T) []string
	}{
		{"all say no quorum", func(t *testing.T) []string {
			return []string{newFake(t, 1, "follower", noQuorum).url(), newFake(t, 2, "follower", noQuorum).url(),
				newFake(t, 3, "follower", noQuorum).url()}
		}},
		{"two endpoints say no quorum", func(t *testing.T) []string {
			return []string{newFake(t, 1, "follower", noQuorum).url(), newFake(t, 2, "follower", noQuorum).url()}
		}},
		{"four endpoints say no quorum", func(t *testing.T) []string {
			var eps []string
			for id := range uint64(4) {
				eps = append(eps, newFake(t, id+1, "follower", noQuorum).url())
			}
			return eps
		}},
		{"one says no quorum, the others are down", func(t *testing.T) []string {
			return []string{downEndpoint(t), newFake(t, 2, "follower", noQuorum).url(), downEndpoint(t)}
		}},
		{"the first two are down", func(t *testing.T) []string {
			return []string{downEndpoint(t), downEndpoint(t), newFake(t, 3, "follower", noQuorum).url()}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.endpoints(t)...)
			// Far longer than the answer takes: running out of time would
			// end in ErrUnavailable instead.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, op := range []struct {
				name string
				do   func() (api.Reply, error)
			}{
				{"Set", func() (api.Reply, error) { return c.Set(ctx, "k", []byte("v")) }},
				{"Get", func() (api.Reply, error) { return c.Get(ctx, "k", false) }},
			} {
				rep, err := op.do()
				if !errors.Is(err, client.ErrNoQuorum) || errors.Is(err, client.ErrUnavailable) ||
					!strings.Contains(err.Error(), "only 1/3 alive") || rep.Alive != 1 || rep.Voters != 3 {
					t.Errorf("%s: have %+v, %v, want ErrNoQuorum (only 1/3 alive)", op.name, rep, err)
				}
			}
		})
	}
}

// TestUnavailable: with every endpoint down, a request ends with
// ErrUnavailable when its context does.
func TestUnavailable(t *testing.T) {
	c := newClient(t, downEndpoint(t), downEndpoint(t))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Set(ctx, "k", []byte("v"))
	if !errors.Is(err, client.ErrUnavailable) || errors.Is(err, client.ErrNoQuorum) {
		t.Errorf("Set with every endpoint down: have %v, want ErrUnavailable", err)
	}
}

// TestInvalidIsFinal: an "invalid" answer is returned at once, not retried.
func TestInvalidIsFinal(t *testing.T) {
	f := newFake(t, 1, "leader", func(*http.Request) (int, api.Reply) {
		return 400, api.Reply{Code: "invalid", Error: "kv: key too long (300 > 256 bytes)"}
	})
	c := newClient(t, f.url())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := c.Set(ctx, "k", []byte("v"))
	if err != nil || rep.Code != "invalid" || len(f.requests()) != 1 {
		t.Errorf("have %+v, %v after %d requests, want the invalid answer after 1", rep, err, len(f.requests()))
	}
}
