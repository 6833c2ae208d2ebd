package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/server/servertest"
)

// startCluster starts three in-process nodes, waits for a leader and
// returns their API endpoints.
func startCluster(t *testing.T) []string {
	t.Helper()
	endpoints := servertest.Start(t, 3).Endpoints
	c, err := client.New(endpoints)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for c.FindLeader(ctx) == 0 {
		if ctx.Err() != nil {
			t.Fatal("no leader elected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return endpoints
}

// TestKVCommand runs `wraft kv` against an in-process cluster and checks
// what it prints and how it exits.
func TestKVCommand(t *testing.T) {
	endpoints := "--endpoints=" + strings.Join(startCluster(t), ",")
	tests := []struct {
		args []string
		out  string // a regular expression for the whole output
		exit int
	}{
		{[]string{"set", "temperature", "72.5"}, `✓ Committed \([23]/3 acks\) @ index \d+\n`, 0},
		{[]string{"get", "temperature"}, `→ 72\.5\n`, 0},
		{[]string{"get", "--stale", "temperature"}, `→ 72\.5\n`, 0},
		{[]string{"get", "humidity"}, `∅ \(not set\)\n`, 1},
		{[]string{"cas", "temperature", "70", "73"}, `✗ Not applied: cas: value differs \(current value: 72\.5\)\n`, 1},
		{[]string{"cas", "temperature", "72.5", "73"}, `✓ Committed \([23]/3 acks\) @ index \d+\n`, 0},
		{[]string{"cas", "--absent", "lock", "me"}, `✓ Committed \([23]/3 acks\) @ index \d+\n`, 0},
		{[]string{"cas", "--absent", "lock", "you"}, `✗ Not applied: cas: key exists \(current value: me\)\n`, 1},
		{[]string{"del", "lock"}, `✓ Committed \([23]/3 acks\) @ index \d+\n`, 0},
		{[]string{"get", "lock"}, `∅ \(not set\)\n`, 1},
		{[]string{"set", strings.Repeat("k", 300), "v"}, `✗ Failed: invalid: server: key too long \(300 > 256 bytes\)\n`, 2},
	}
	for _, tc := range tests {
		cmd := kvCmd()
		cmd.SetArgs(append([]string{endpoints, "--timeout=30s"}, tc.args...))
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		var err error
		out := captureStdout(t, func() { err = cmd.Execute() })
		if !regexp.MustCompile(`^` + tc.out + `$`).MatchString(out) {
			t.Errorf("wraft kv %s: printed %q, want %q", strings.Join(tc.args, " "), out, tc.out)
		}
		var exit exitError
		switch {
		case tc.exit == 0 && err != nil:
			t.Errorf("wraft kv %s: have error %v, want none", strings.Join(tc.args, " "), err)
		case tc.exit != 0 && (!errors.As(err, &exit) || exit.code != tc.exit):
			t.Errorf("wraft kv %s: have error %v, want exit status %d", strings.Join(tc.args, " "), err, tc.exit)
		}
	}
}
