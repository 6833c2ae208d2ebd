package corewasm_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/wraft/wraft/host/corewasm"
	"github.com/wraft/wraft/host/hosttest"
)

// TestEmbeddedIsCurrent compares the raft.wasm that `make wasm` embedded,
// if any, with what this checkout builds. A stale copy only matters to a
// daemon built from it, and the engine changes all the time while others
// work in the tree, so a mismatch skips the test with a warning rather than
// failing it: run `make build` before building the daemon.
func TestEmbeddedIsCurrent(t *testing.T) {
	embedded, err := corewasm.Bytes()
	if errors.Is(err, corewasm.ErrNotBuilt) {
		t.Skip("no raft.wasm embedded (`make wasm` embeds one)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if fresh := hosttest.WasmBytes(t); !bytes.Equal(embedded, fresh) {
		t.Skipf("STALE: host/corewasm/core/raft.wasm has sha256 %x, but this checkout builds %x: "+
			"run `make wasm` before building the daemon", sha256.Sum256(embedded), sha256.Sum256(fresh))
	}
}
