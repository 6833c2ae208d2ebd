package sim

import (
	"flag"
	"testing"

	"github.com/wraft/wraft/host/hosttest"
)

var flagWasmSeeds = flag.Int("wasm-seeds", 30, "number of seeds TestWasmEquivalence runs through both cores")

// TestWasmEquivalence runs the same randomised seeds through the engine
// linked natively and through raft.wasm in wazero, and requires the two
// traces (every effect batch of every node, in order) to be byte-identical.
// It is what makes "the same core everywhere" a tested fact.
func TestWasmEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds raft.wasm and runs it under wazero")
	}
	wasm := Factory(hosttest.Factory(t))
	for seed := uint64(1); seed <= uint64(*flagWasmSeeds); seed++ {
		native, err := RunSeed(SeedOptions{Seed: seed, Replay: seedReplay(seed)})
		if err != nil {
			t.Fatalf("native: %v", err)
		}
		inWasm, err := RunSeed(SeedOptions{Seed: seed, Factory: wasm, Replay: seedReplay(seed)})
		if err != nil {
			t.Fatalf("wasm: %v", err)
		}
		if native.Trace != inWasm.Trace {
			t.Fatalf("seed %d: trace through raft.wasm %x differs from the native engine's %x\nreplay: go test ./sim -run TestWasmEquivalence -wasm-seeds=%d -v",
				seed, inWasm.Trace[:8], native.Trace[:8], seed)
		}
		t.Logf("seed %d: %d ticks, %d messages, %d ops: trace %x through both cores", seed,
			native.Stats.Ticks, native.Stats.Delivered, native.Ops, native.Trace[:8])
	}
}
