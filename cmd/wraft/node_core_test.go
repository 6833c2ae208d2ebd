package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wrongABIModule is a tiny wasm module with a wraft core's exports whose
// wraft_abi_version returns 2 (see host's wasmbin_test.go).
func wrongABIModule() []byte {
	section := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	code := func(body ...byte) []byte { return append([]byte{byte(len(body) + 2), 0}, append(body, 0x0b)...) }
	export := func(s string, kind, index byte) []byte {
		return append(append([]byte{byte(len(s))}, s...), kind, index)
	}
	m := []byte{0x00, 'a', 's', 'm', 1, 0, 0, 0}
	m = append(m, section(1, 3, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7f)...)
	m = append(m, section(3, 4, 0, 1, 2, 2)...)
	m = append(m, section(5, 1, 0, 1)...)
	exports := []byte{5}
	for i, name := range []string{"wraft_abi_version", "wraft_alloc", "wraft_init", "wraft_handle"} {
		exports = append(exports, export(name, 0, byte(i))...)
	}
	exports = append(exports, export("memory", 2, 0)...)
	m = append(m, section(7, exports...)...)
	codes := []byte{4}
	codes = append(codes, code(0x41, 2)...) // i32.const 2: the ABI version
	codes = append(codes, code(0x41, 0xc0, 0x00)...)
	codes = append(codes, code(0x41, 16)...)
	codes = append(codes, code(0x41, 16)...)
	m = append(m, section(10, codes...)...)
	data := []byte{32, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}
	return append(m, section(11, append([]byte{1, 0, 0x41, 16, 0x0b, byte(len(data))}, data...)...)...)
}

// TestNodeRefusesCoreOfAnotherABI: a rolling upgrade that hands a node a
// raft.wasm of an ABI version it does not speak stops it at start, with an
// error saying so, before it touches its peers.
func TestNodeRefusesCoreOfAnotherABI(t *testing.T) {
	core := filepath.Join(t.TempDir(), "raft.wasm")
	if err := os.WriteFile(core, wrongABIModule(), 0o644); err != nil {
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
