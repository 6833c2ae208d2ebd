package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/storage"
)

func TestRejoinCommand(t *testing.T) {
	apis := map[uint64]string{1: "http://10.0.0.1:8001", 2: "http://10.0.0.2:8002", 3: "http://10.0.0.3:8003"}
	tests := []struct {
		args []string
		f    nodeFlags
		want string
	}{
		{[]string{"/usr/bin/wraft", "node", "--id", "3", "--data", "/var/lib/wraft"}, nodeFlags{id: 3},
			"/usr/bin/wraft node --id 3 --data /var/lib/wraft --rejoin --join http://10.0.0.1:8001"},
		{[]string{"wraft", "node", "--id", "1", "--join", "http://10.0.0.2:8002", "--rejoin"}, nodeFlags{id: 1, join: "http://10.0.0.2:8002"},
			"wraft node --id 1 --join http://10.0.0.2:8002 --rejoin"},
		{[]string{"wraft", "node", "--id=2", "--data", "/srv/my data", "--rejoin=false"}, nodeFlags{id: 2},
			"wraft node --id=2 --data '/srv/my data' --rejoin --join http://10.0.0.1:8001"},
	}
	for _, tt := range tests {
		if have := rejoinCommand(tt.args, tt.f, apis); have != tt.want {
			t.Errorf("rejoinCommand(%q):\nhave %s\nwant %s", tt.args, have, tt.want)
		}
	}
	if have := rejoinCommand([]string{"wraft", "node"}, nodeFlags{id: 1}, map[uint64]string{1: "http://self"}); !strings.Contains(have, "--join 'http://<API of a running member>'") {
		t.Errorf("no other member: have %s", have)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain-1.2:3/x=y,z": "plain-1.2:3/x=y,z",
		"":                  "''",
		"a b":               "'a b'",
		"it's":              `'it'\''s'`,
		"$HOME":             "'$HOME'",
	} {
		if have := shellQuote(in); have != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, have, want)
		}
	}
}

// TestExplainCorrupt: a damaged data directory gives a refusal that names
// the damaged file and the command to run; other errors pass through.
func TestExplainCorrupt(t *testing.T) {
	dir := t.TempDir()
	w, _, err := storage.Open(storage.Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Save(raft.HardState{Term: 4, Vote: 2}, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err := os.Truncate(segs[0], 0); err != nil {
		t.Fatal(err)
	}
	_, _, err = storage.Open(storage.Options{Dir: dir, NoSync: true})
	if !errors.Is(err, storage.ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	f := nodeFlags{id: 2, data: dir}
	msg := explainCorrupt(fmt.Errorf("server: open storage: %w", err), f, map[uint64]string{1: "http://h1:8001", 2: "http://h2:8002"}).Error()
	for _, want := range []string{segs[0], "refusing to start node 2", "--rejoin --join http://h1:8001", dir + ".corrupt-", "docs/OPERATIONS.md"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal lacks %q:\n%s", want, msg)
		}
	}
	other := errors.New("server: listen: address in use")
	if have := explainCorrupt(other, f, nil); have != other {
		t.Errorf("other error changed: %v", have)
	}
	// --rejoin leaves a sound directory alone, and needs --join.
	if err := prepareRejoin(nodeFlags{id: 2, data: t.TempDir()}, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--join") {
		t.Errorf("--rejoin without --join: %v", err)
	}
	sound := t.TempDir()
	if err := prepareRejoin(nodeFlags{id: 2, data: sound, join: "http://127.0.0.1:1"}, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("--rejoin with a sound directory: %v", err)
	}
	if aside, _ := filepath.Glob(sound + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("a sound directory was moved aside: %v", aside)
	}
}
