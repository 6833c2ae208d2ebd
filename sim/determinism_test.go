package sim

import (
	"testing"

	"github.com/wraft/wraft/engine"
)

// passThrough is a core that forwards to another: what a wasm-backed core
// looks like from the simulator's side.
type passThrough struct{ inner engine.Core }

func (p passThrough) Handle(in []engine.Input) ([]engine.Effect, error) { return p.inner.Handle(in) }

func TestSameSeedSameTrace(t *testing.T) {
	wrapped := func(cfg engine.Config, r engine.Restored) (engine.Core, error) {
		c, err := NativeFactory(cfg, r)
		return passThrough{c}, err
	}
	for _, seed := range []uint64{3, 4} {
		a, errA := RunSeed(SeedOptions{Seed: seed})
		b, errB := RunSeed(SeedOptions{Seed: seed, Factory: wrapped})
		if (errA == nil) != (errB == nil) {
			t.Fatalf("seed %d: errors differ between runs: %v / %v", seed, errA, errB)
		}
		if a.Trace != b.Trace || a.Stats != b.Stats {
			t.Errorf("seed %d: two runs differ:\n  %v\n  %v", seed, a, b)
		}
	}
	a, _ := RunSeed(SeedOptions{Seed: 3})
	b, _ := RunSeed(SeedOptions{Seed: 4})
	if a.Trace == b.Trace {
		t.Errorf("seeds 3 and 4 give the same trace %x", a.Trace)
	}
}

func TestScriptTraceIsStable(t *testing.T) {
	run := func() [32]byte {
		c, err := New(Options{Seed: 9, Nodes: 5})
		if err != nil {
			t.Fatal(err)
		}
		cl := c.NewClient()
		op := cl.Set("k", "v", OpOptions{})
		if _, err := c.RunUntil(func() bool { return op.Done }, 5000); err != nil {
			t.Fatal(err)
		}
		if err := c.Crash(c.Leader()); err != nil {
			t.Fatal(err)
		}
		if err := c.Run(1000); err != nil {
			t.Fatal(err)
		}
		return c.TraceHash()
	}
	if a, b := run(), run(); a != b {
		t.Errorf("the same script gave traces %x and %x", a, b)
	}
}
