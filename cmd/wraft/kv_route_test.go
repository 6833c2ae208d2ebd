package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wraft/wraft/api"
)

// TestKVFrozenFollower: `wraft kv` with a frozen node (one that holds
// every request, as a node stopped by SIGSTOP does) among its endpoints,
// first even, still writes through the leader within its timeout, and
// sends the frozen node at most one request. The timeout is far longer
// than the write takes: before, the command spent all of it waiting on
// the frozen node.
func TestKVFrozenFollower(t *testing.T) {
	release := make(chan struct{})
	var frozenGot atomic.Int32
	frozen := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		frozenGot.Add(1)
		<-release
	}))
	t.Cleanup(frozen.Close)
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/status" {
			json.NewEncoder(w).Encode(api.Status{ID: 1, Role: "leader", Leader: 1})
			return
		}
		json.NewEncoder(w).Encode(api.Reply{Code: "ok", OK: true, Index: 9, Acks: 2, Voters: 3, Alive: 2, Leader: 1})
	}))
	t.Cleanup(leader.Close)
	// Runs before the servers close: held requests end first.
	t.Cleanup(func() { close(release) })

	cmd := kvCmd()
	cmd.SetArgs([]string{"--endpoints=" + frozen.URL + "," + leader.URL, "--timeout=5s", "set", "k", "v"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	var err error
	out := captureStdout(t, func() { err = cmd.Execute() })
	if err != nil || !strings.HasPrefix(out, "✓ Committed (2/3 acks) @ index 9") {
		t.Errorf("wraft kv set with a frozen node first: printed %q, error %v; want it committed", out, err)
	}
	if n := frozenGot.Load(); n > 1 {
		t.Errorf("the frozen node got %d requests, want at most 1", n)
	}
}
