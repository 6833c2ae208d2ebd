package corewasm_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/wraft/wraft/host/corewasm"
	"github.com/wraft/wraft/host/hosttest"
)

// TestSameBinary checks the promise that one raft.wasm runs everywhere:
// the file `make build` wrote (which the Node and browser hosts load), its
// recorded sha256, the copy embedded in the daemon, and the module this
// checkout builds for the Go tests must all be the same bytes. Without a
// `make build` there is nothing to compare, and the test skips.
func TestSameBinary(t *testing.T) {
	built, err := os.ReadFile("../../bin/raft.wasm")
	if os.IsNotExist(err) {
		t.Skip("no bin/raft.wasm: run `make build`")
	}
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(built)
	recorded, err := os.ReadFile("../../bin/raft.wasm.sha256")
	if err != nil {
		t.Fatalf("bin/raft.wasm has no recorded digest: %v", err)
	}
	if have := strings.Fields(string(recorded)); len(have) == 0 || have[0] != hex.EncodeToString(sum[:]) {
		t.Fatalf("bin/raft.wasm.sha256 says %q, the file's sha256 is %x", recorded, sum)
	}
	if fresh := hosttest.WasmBytes(t); !bytes.Equal(fresh, built) {
		t.Fatalf("this checkout builds raft.wasm %x, but bin/raft.wasm is %x: run `make build`", sha256.Sum256(fresh), sum)
	}
	embedded, err := corewasm.Bytes()
	if err != nil {
		t.Fatalf("the daemon embeds no raft.wasm: %v", err)
	}
	if !bytes.Equal(embedded, built) {
		t.Fatalf("the daemon embeds raft.wasm %x, bin/raft.wasm is %x", sha256.Sum256(embedded), sum)
	}
	t.Logf("bin/raft.wasm, its digest file, the embedded core and a fresh build are all sha256 %x", sum)
}
