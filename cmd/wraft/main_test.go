package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
)

func TestParsePeers(t *testing.T) {
	good := []struct {
		in   string
		want map[uint64]string
	}{
		{"1=127.0.0.1:7001", map[uint64]string{1: "127.0.0.1:7001"}},
		{"1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003",
			map[uint64]string{1: "127.0.0.1:7001", 2: "127.0.0.1:7002", 3: "127.0.0.1:7003"}},
		{" 3=h3:7003 , 1=h1:7001,", map[uint64]string{1: "h1:7001", 3: "h3:7003"}},
		{"12=[::1]:7012", map[uint64]string{12: "[::1]:7012"}},
	}
	for _, tc := range good {
		have, err := parsePeers(tc.in)
		if err != nil || !maps.Equal(have, tc.want) {
			t.Errorf("parsePeers(%q):\nhave %v, %v\nwant %v", tc.in, have, err, tc.want)
		}
	}
	bad := []struct{ in, errHas string }{
		{"", "--peers is required"},
		{" , ", "--peers is required"},
		{"127.0.0.1:7001", `"127.0.0.1:7001" is not id=host:port`},
		{"0=127.0.0.1:7001", `"0=127.0.0.1:7001" is not id=host:port with a non-zero id`},
		{"x=127.0.0.1:7001", `"x=127.0.0.1:7001" is not`},
		{"-1=127.0.0.1:7001", `"-1=127.0.0.1:7001" is not`},
		{"1=", `"1=" is not`},
		{"=127.0.0.1:7001", `"=127.0.0.1:7001" is not`},
		{"1=a:1,2=b:2,1=c:3", "node 1 is listed twice"},
	}
	for _, tc := range bad {
		have, err := parsePeers(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("parsePeers(%q): have %v, %v, want an error containing %q", tc.in, have, err, tc.errHas)
		}
	}
}

// TestEnvDefaults sets flags of `wraft node` from the environment.
func TestEnvDefaults(t *testing.T) {
	t.Setenv("WRAFT_ID", "2")
	t.Setenv("WRAFT_ADMIN_TOKEN", "secret")
	t.Setenv("WRAFT_ELECTION_TICKS", "15")
	t.Setenv("WRAFT_TICK", "50ms")
	t.Setenv("WRAFT_UNSAFE_NO_FSYNC", "true")
	t.Setenv("WRAFT_DATA", "/from/env")

	cmd := nodeCmd()
	fs := cmd.Flags()
	if err := fs.Parse([]string{"--data", "/from/flag", "--peers", "1=a:1,2=b:2"}); err != nil {
		t.Fatal(err)
	}
	if err := envDefaults(fs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"id":              "2",
		"admin-token":     "secret",
		"election-ticks":  "15",
		"tick":            (50 * time.Millisecond).String(),
		"unsafe-no-fsync": "true",
		"data":            "/from/flag", // the flag wins
		"peers":           "1=a:1,2=b:2",
		"heartbeat-ticks": "2", // neither given: the default
		"core":            "wasm",
	}
	for name, v := range want {
		if have := fs.Lookup(name).Value.String(); have != v {
			t.Errorf("--%s: have %q, want %q", name, have, v)
		}
	}
}

func TestEnvDefaultsBadValue(t *testing.T) {
	for _, tc := range []struct{ env, value string }{
		{"WRAFT_ID", "two"},
		{"WRAFT_ID", "-1"},
		{"WRAFT_ELECTION_TICKS", "1.5"},
		{"WRAFT_TICK", "50"},
		{"WRAFT_UNSAFE_NO_FSYNC", "maybe"},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			fs := nodeCmd().Flags()
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			err := envDefaults(fs)
			if want := fmt.Sprintf("%s=%q: ", tc.env, tc.value); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("have %v, want an error starting %q", err, want)
			}
		})
	}
	// An explicit flag is not overridden, so a bad variable for it is not read.
	t.Setenv("WRAFT_ID", "two")
	fs := nodeCmd().Flags()
	if err := fs.Parse([]string{"--id", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := envDefaults(fs); err != nil || fs.Lookup("id").Value.String() != "3" {
		t.Errorf("--id 3 with WRAFT_ID=two: have id %s, %v, want 3 and no error", fs.Lookup("id").Value, err)
	}
}

// captureStdout runs f and returns what it printed.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	defer func() {
		os.Stdout = old
	}()
	f()
	w.Close()
	s := <-out
	r.Close()
	return s
}

// TestReport checks report's words, the seed's among them, and its exit
// codes.
func TestReport(t *testing.T) {
	noQuorum := fmt.Errorf("%w (only 1/3 alive)", client.ErrNoQuorum)
	tests := []struct {
		name string
		read bool
		rep  api.Reply
		err  error
		out  string
		exit int // 0: no error
	}{
		{"write committed", false, api.Reply{Code: "ok", OK: true, Index: 48, Acks: 2, Voters: 3},
			nil, "✓ Committed (2/3 acks) @ index 48\n", 0},
		{"write answered by a follower", false, api.Reply{Code: "ok", OK: true, Index: 48, Voters: 3},
			nil, "✓ Committed @ index 48\n", 0},
		{"read", true, api.Reply{Code: "ok", OK: true, Found: true, Value: "72.5"}, nil, "→ 72.5\n", 0},
		{"read of a missing key", true, api.Reply{Code: "ok", OK: true}, nil, "∅ (not set)\n", 1},
		{"no quorum", false, api.Reply{Code: "no-quorum", Alive: 1, Voters: 3}, noQuorum,
			"✗ Failed: no quorum (only 1/3 alive)\n", 2},
		{"unavailable", false, api.Reply{}, client.ErrUnavailable, "✗ Failed: cluster unavailable\n", 2},
		{"invalid", false, api.Reply{Code: "invalid", Error: "kv: key too long (300 > 256 bytes)"}, nil,
			"✗ Failed: invalid: kv: key too long (300 > 256 bytes)\n", 2},
		{"cas differs", false, api.Reply{Code: "ok", Found: true, Value: "72.5", Error: "cas: value differs"}, nil,
			"✗ Not applied: cas: value differs (current value: 72.5)\n", 1},
		{"cas missing", false, api.Reply{Code: "ok", Error: "cas: key not found"}, nil,
			"✗ Not applied: cas: key not found\n", 1},
	}
	for _, tc := range tests {
		var err error
		out := captureStdout(t, func() { err = report(tc.read, tc.rep, tc.err) })
		if out != tc.out {
			t.Errorf("%s: printed %q, want %q", tc.name, out, tc.out)
		}
		var exit exitError
		switch {
		case tc.exit == 0 && err != nil:
			t.Errorf("%s: have error %v, want none", tc.name, err)
		case tc.exit != 0 && (!errors.As(err, &exit) || exit.code != tc.exit):
			t.Errorf("%s: have error %v, want exit status %d", tc.name, err, tc.exit)
		}
	}
}
