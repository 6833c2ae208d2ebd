package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wraft/wraft/host/hosttest"
)

// TestNodeRefusesCoreOfAnotherABI: a rolling upgrade that hands a node a
// raft.wasm of an ABI version it does not speak stops it at start, with an
// error saying so, before it touches its peers.
func TestNodeRefusesCoreOfAnotherABI(t *testing.T) {
	core := filepath.Join(t.TempDir(), "raft.wasm")
	if err := os.WriteFile(core, hosttest.FakeCoreModule(2, false), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runNode(nodeFlags{id: 1, peers: "1=127.0.0.1:0", data: t.TempDir(), api: "127.0.0.1:0",
		core: core, logLevel: "error", led: "none"})
	for _, want := range []string{"--core " + core, "unsupported ABI version", "wraft_abi_version is 2", "this host speaks 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("runNode(--core <ABI 2 module>) = %v\nwant an error containing %q", err, want)
		}
	}
}

func TestNodeRejectsBadLEDSpec(t *testing.T) {
	err := runNode(nodeFlags{id: 1, peers: "1=127.0.0.1:0", data: t.TempDir(), api: "127.0.0.1:0",
		core: "native", logLevel: "error", led: "gpio:17,27"})
	if err == nil || !strings.Contains(err.Error(), `led: --led "gpio:17,27": gpio takes three line numbers`) {
		t.Errorf("runNode(--led gpio:17,27) = %v, want a clear error", err)
	}
}
