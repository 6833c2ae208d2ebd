package refsim

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"github.com/wraft/wraft/host/hosttest"
	"os"
	"strconv"
	"testing"

	"github.com/wraft/wraft/engine"
)

var update = flag.Bool("update", false, "rewrite "+goldenPath+" from the native engine")

// goldenPath holds the trace hashes that every core must reproduce; the
// TypeScript test of raft.wasm reads it too.
const goldenPath = "../testdata/vectors/refsim.json"

// golden is the file at goldenPath. Seeds are decimal strings, as uint64s
// are everywhere in the shared vectors.
type golden struct {
	Comment string      `json:"comment"`
	Runs    []goldenRun `json:"runs"`
}

type goldenRun struct {
	Seed   string `json:"seed"`
	Steps  int    `json:"steps"`
	SHA256 string `json:"sha256"`
}

// The golden runs: a few seeds, the largest uint64 among them.
var runs = []struct {
	seed  uint64
	steps int
}{
	{1, 3000},
	{2, 3000},
	{42, 3000},
	{0xdeadbeef, 3000},
	{1<<64 - 1, 3000},
}

func native(c engine.Config, r engine.Restored) (engine.Core, error) { return engine.New(c, r) }

func TestGolden(t *testing.T) {
	var have golden
	have.Comment = "Trace hashes of the reference simulation (refsim/refsim.go, web/shim/refsim.ts) made with " +
		"the native engine; every core must reproduce them. Regenerate with go test ./refsim -run TestGolden -update."
	for _, r := range runs {
		sum, stats, err := run(r.seed, r.steps, native)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: %s %+v", r.seed, hex.EncodeToString(sum[:8]), stats)
		have.Runs = append(have.Runs, goldenRun{Seed: strconv.FormatUint(r.seed, 10), Steps: r.steps,
			SHA256: hex.EncodeToString(sum[:])})
	}
	out, err := json.MarshalIndent(have, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if *update {
		if err := os.WriteFile(goldenPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./refsim -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("trace hashes differ from %s: have\n%s\nwant\n%s\n(an engine change that alters behaviour must "+
			"regenerate them: go test ./refsim -run TestGolden -update)", goldenPath, out, want)
	}
}

// TestRunsMeanSomething checks that the golden runs elect leaders and
// answer writes and reads, so that equal hashes say more than "nothing
// happened alike".
func TestRunsMeanSomething(t *testing.T) {
	for _, r := range runs {
		_, s, err := run(r.seed, r.steps, native)
		if err != nil {
			t.Fatal(err)
		}
		if s.Elected == 0 || s.WritesOK < 20 || s.ReadsOK < 10 || s.Dropped == 0 {
			t.Errorf("seed %d: have %+v, want a leader elected, 20+ writes and 10+ reads answered OK, drops", r.seed, s)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, err := Run(7, 1000, native)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(7, 1000, native)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(8, 1000, native)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("seed 7 twice: have %x and %x, want equal", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8: both %x, want different", a)
	}
}

func TestFactoryError(t *testing.T) {
	_, err := Run(1, 10, func(engine.Config, engine.Restored) (engine.Core, error) {
		return nil, engine.ErrConfig
	})
	if err == nil {
		t.Fatal("have nil error, want the factory's")
	}
}

func TestSplitmix64(t *testing.T) {
	// The first outputs for seed 0, from the reference implementation.
	s := splitmix64(0)
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if have := s.next(); have != want {
			t.Errorf("output %d: have %#x, want %#x", i, have, want)
		}
	}
}

// TestGoldenThroughWasm runs the golden seeds through raft.wasm in wazero:
// the third host (after the native engine and Node) that must reproduce
// the same hashes.
func TestGoldenThroughWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds raft.wasm")
	}
	factory := hosttest.Factory(t)
	for _, r := range runs {
		want, _, err := run(r.seed, r.steps, native)
		if err != nil {
			t.Fatal(err)
		}
		have, _, err := run(r.seed, r.steps, func(c engine.Config, rs engine.Restored) (engine.Core, error) { return factory(c, rs) })
		if err != nil {
			t.Fatal(err)
		}
		if have != want {
			t.Errorf("seed %d: raft.wasm in wazero gives %x, the native engine %x", r.seed, have[:8], want[:8])
		}
	}
}
