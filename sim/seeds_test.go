package sim

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var (
	flagSeeds     = flag.Int("seeds", 500, "number of seeds TestSeeds runs")
	flagSeedStart = flag.Uint64("seed-start", 1, "first seed TestSeeds runs")
	flagSeed      = flag.Uint64("seed", 0, "run only this seed, with its live log under -v")
	flagStory     = flag.Int("story", 80, "how many recent events a violation tells")
)

// seedReplay is the command that replays one seed exactly.
func seedReplay(seed uint64) string {
	return fmt.Sprintf("go test ./sim -run TestSeeds -seed=%d -v", seed)
}

// TestSeeds runs randomised simulations, one per seed: random cluster size,
// fault schedule and workload, invariants after every step, a liveness
// phase after the faults heal, and porcupine on the client history. A
// failure prints its seed and the command that replays it.
func TestSeeds(t *testing.T) {
	if *flagSeed != 0 {
		o := SeedOptions{Seed: *flagSeed, Replay: seedReplay(*flagSeed), VisualizeDir: os.TempDir(), StoryLen: *flagStory}
		if testing.Verbose() {
			o.Logf = t.Logf
		}
		rep, err := RunSeed(o)
		for _, p := range rep.Plan {
			t.Log(p)
		}
		t.Log(rep)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	seeds := *flagSeeds
	if testing.Short() {
		seeds = min(seeds, 20)
	}
	start := time.Now()
	var (
		mu                        sync.Mutex
		ran, failed               int
		ticks, delivered, handles uint64
		snapshots, changes        uint64
		ops, unknown, undecided   int
		reused, refused           int
		worstHeal                 int64
		worstHealSeed             uint64
	)
	next := atomic.Uint64{}
	next.Store(*flagSeedStart)
	last := *flagSeedStart + uint64(seeds)
	t.Run("group", func(t *testing.T) {
		// One worker per CPU; each seed is one single-threaded simulation.
		for w := range workers() {
			t.Run(fmt.Sprintf("worker%d", w), func(t *testing.T) {
				t.Parallel()
				for {
					seed := next.Add(1) - 1
					if seed >= last {
						return
					}
					rep, err := RunSeed(SeedOptions{Seed: seed, Replay: seedReplay(seed), VisualizeDir: os.TempDir(), StoryLen: *flagStory})
					mu.Lock()
					ran++
					ticks += uint64(rep.Stats.Ticks)
					delivered += rep.Stats.Delivered
					handles += rep.Stats.Handles
					snapshots += rep.Stats.Snapshots
					changes += rep.Stats.MembershipChanges
					ops += rep.Ops
					unknown += rep.Unknown
					reused += rep.Reused
					refused += rep.Refused
					if rep.Linearizable == porcupine.Unknown {
						undecided++
					}
					if rep.HealToCommit > worstHeal {
						worstHeal, worstHealSeed = rep.HealToCommit, seed
					}
					if err != nil {
						failed++
					}
					mu.Unlock()
					if testing.Verbose() {
						t.Log(rep)
					}
					if err != nil {
						t.Errorf("seed %d failed:\n%v", seed, err)
					}
				}
			})
		}
	})
	elapsed := time.Since(start)
	t.Logf("%d seeds (from %d) took %v: %d failed, %d ticks simulated, %d messages delivered, %d Handle calls, %d snapshots stored, %d membership changes applied, %d client operations (%d unknown, %d histories undecided; %d writes reused a sequence number, %d refused for it), slowest recovery %d ticks after heal (seed %d), %.0f seeds/s",
		ran, *flagSeedStart, elapsed.Round(time.Millisecond), failed, ticks, delivered, handles, snapshots, changes, ops, unknown, undecided,
		reused, refused, worstHeal, worstHealSeed, float64(ran)/elapsed.Seconds())
}

func workers() int { return max(1, runtime.GOMAXPROCS(0)) }
