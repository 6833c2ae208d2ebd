//go:build linux

package netfault

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"
)

// fault is one kind of fault. apply injects it, given the leader, and
// returns the nodes that must carry traffic again after heal, a word on
// what it did, and heal, which returns once the network or the process
// is back as it was.
type fault struct {
	name  string
	apply func(c *cluster, rng *rand.Rand, leader int) (targets []int, what string, heal func())
}

// pick returns a random follower of leader.
func pick(c *cluster, rng *rand.Rand, leader int) int {
	fs := c.followers(leader)
	return fs[rng.IntN(len(fs))]
}

var (
	isolateLeader = fault{"isolate leader", func(c *cluster, _ *rand.Rand, l int) ([]int, string, func()) {
		c.lab.Isolate(l)
		return []int{l}, fmt.Sprintf("node %d cut off peers and clients", l), c.lab.HealAll
	}}
	isolateFollower = fault{"isolate follower", func(c *cluster, rng *rand.Rand, l int) ([]int, string, func()) {
		f := pick(c, rng, l)
		c.lab.Isolate(f)
		return []int{f}, fmt.Sprintf("node %d cut off peers and clients", f), c.lab.HealAll
	}}
	freezeFollower = fault{"freeze follower", func(c *cluster, rng *rand.Rand, l int) ([]int, string, func()) {
		f := pick(c, rng, l)
		c.signal(f, syscall.SIGSTOP)
		return []int{f}, fmt.Sprintf("SIGSTOP node %d", f), func() { c.signal(f, syscall.SIGCONT) }
	}}
	slowFollower = fault{"slow follower", func(c *cluster, rng *rand.Rand, l int) ([]int, string, func()) {
		f := pick(c, rng, l)
		d := time.Duration(200+rng.IntN(301)) * time.Millisecond
		c.lab.Delay(f, d)
		// The heal ends when the last frame held has gone through.
		return []int{f}, fmt.Sprintf("node %d +%s", f, d), func() { c.lab.Delay(f, 0); time.Sleep(d) }
	}}
	// splitLeader cuts the leader and one follower off the other three
	// (five nodes); clients still reach both sides.
	splitLeader = fault{"split leader+1 | 3", func(c *cluster, rng *rand.Rand, l int) ([]int, string, func()) {
		f := pick(c, rng, l)
		var rest []int
		for _, id := range c.followers(l) {
			if id != f {
				rest = append(rest, id)
			}
		}
		c.lab.Partition([]int{l, f}, rest)
		return []int{l, f}, fmt.Sprintf("%d,%d | %v", l, f, rest), c.lab.HealAll
	}}
	// splitFollowers cuts two followers off the leader and the other two.
	splitFollowers = fault{"split 2 followers | 3", func(c *cluster, rng *rand.Rand, l int) ([]int, string, func()) {
		fs := c.followers(l)
		rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		minority, rest := fs[:2], append([]int{l}, fs[2:]...)
		c.lab.Partition(minority, rest)
		return minority, fmt.Sprintf("%v | %v", minority, rest), c.lab.HealAll
	}}
)

// outcome is what one fault did to the clients, for the log.
type outcome struct {
	fault, what       string
	dur               time.Duration
	start, healed     time.Time
	end               time.Time // the next fault's start (or the workload's end)
	firstWrite        time.Duration
	wrote             bool
	longest           time.Duration
	longestBy, over1s int
	carry             time.Duration // heal to the slowest target carrying traffic
}

// runFaults starts a cluster of n nodes on core with clients, puts it
// through rounds of faults, each lasting 2-6 s, and checks after each
// that the healed nodes catch up and that writes succeed; at the end it
// checks the history and that no acknowledged write was lost. It logs a
// table of the timings.
func runFaults(t *testing.T, n int, core string, rounds int, faults []fault) {
	if *flagRounds > 0 {
		rounds = *flagRounds
	}
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -netfault.seed %d), %d nodes, core %s, %d rounds", seed, seed, n, core, rounds)
	rng := rand.New(rand.NewPCG(seed, 19))
	c := newCluster(t, n, core)
	c.leader()
	if _, ok := c.probeWrite("probe", 30*time.Second); !ok {
		t.Fatal("no write succeeded within 30 s of the start")
	}
	clients := 3
	if n > 3 {
		clients = 4
	}
	w := startWorkload(t, c.endpoints(), clients)
	stopped := false
	defer func() {
		if !stopped {
			w.halt()
		}
	}()
	time.Sleep(time.Second) // a steady state to compare with
	var outs []outcome
	for round := range rounds {
		for _, f := range faults {
			l := c.leader()
			dur := 2*time.Second + time.Duration(rng.Int64N(int64(4*time.Second)))
			o := outcome{fault: f.name, dur: dur, start: time.Now()}
			targets, what, heal := f.apply(c, rng, l)
			o.what = what
			time.Sleep(dur)
			heal()
			o.healed = time.Now()
			for _, id := range targets {
				if _, ok := c.caughtUp(id, 30*time.Second); !ok {
					t.Errorf("round %d, %s (%s): node %d did not carry traffic again within 30 s of the heal",
						round+1, f.name, what, id)
				}
			}
			o.carry = time.Since(o.healed) // until every target carries traffic
			if _, ok := c.probeWrite("probe", 30*time.Second); !ok {
				t.Errorf("round %d, %s (%s): no write succeeded within 30 s of the heal", round+1, f.name, what)
			}
			outs = append(outs, o)
			t.Logf("round %d: %s (%s) for %s: healed", round+1, f.name, what, dur.Round(time.Millisecond))
		}
	}
	time.Sleep(500 * time.Millisecond)
	w.halt()
	stopped = true
	end := time.Now()
	for i := range outs {
		o := &outs[i]
		o.end = end
		if i+1 < len(outs) {
			o.end = outs[i+1].start
		}
		o.firstWrite, o.wrote = w.firstWrite(o.start, o.healed)
		o.longest, o.longestBy, o.over1s = w.longestWait(o.start, o.end, time.Second)
	}
	base, _, _ := w.longestWait(w.start, outs[0].start, time.Second)
	t.Logf("longest client wait before the first fault: %s\n%s", base.Round(time.Millisecond), table(outs))
	if *flagStrict {
		strict(t, w, outs)
	}
	c.converged()
	w.finalReads(t, c.endpoints())
	w.check(t)
}

// The timing goals, checked with -netfault.strict only.
const (
	goalWait      = 1500 * time.Millisecond // no client waits longer for a success
	goalStall     = 500 * time.Millisecond  // a frozen or slow follower: at most one such wait per client
	goalElection  = 400 * time.Millisecond  // a healed node carries traffic within one election timeout
	goalStallKind = "freeze follower|slow follower"
)

// strict fails t where the outcomes miss the timing goals.
func strict(t *testing.T, w *workload, outs []outcome) {
	t.Helper()
	for _, o := range outs {
		if o.longest > goalWait {
			t.Errorf("strict: %s (%s): client %d waited %s for a success (goal: at most %s)",
				o.fault, o.what, o.longestBy, o.longest.Round(time.Millisecond), goalWait)
		}
		if o.carry > goalElection {
			t.Errorf("strict: %s (%s): the healed node carried traffic after %s (goal: within %s, one election timeout)",
				o.fault, o.what, o.carry.Round(time.Millisecond), goalElection)
		}
		if strings.Contains(goalStallKind, o.fault) {
			for client, n := range w.waitsOver(o.start, o.end, goalStall) {
				if n > 1 {
					t.Errorf("strict: %s (%s): client %d waited over %s %d times (goal: at most once)",
						o.fault, o.what, client, goalStall, n)
				}
			}
		}
	}
}

// table renders the outcomes for the log.
func table(outs []outcome) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\twhat\tfor\tfirst write after\tlongest client wait\twaits > 1 s\thealed node carries traffic after\t")
	for _, o := range outs {
		first := "none during the fault"
		if o.wrote {
			first = o.firstWrite.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (client %d)\t%d\t%s\t\n", o.fault, o.what, o.dur.Round(100*time.Millisecond),
			first, o.longest.Round(time.Millisecond), o.longestBy, o.over1s, o.carry.Round(time.Millisecond))
	}
	tw.Flush()
	return b.String()
}

// TestNetFaults3 puts three nodes of the default (wasm) core through two
// rounds of leader isolation, follower isolation, a frozen follower and
// a slow follower.
func TestNetFaults3(t *testing.T) {
	needLab(t)
	runFaults(t, 3, "wasm", 2, []fault{isolateLeader, isolateFollower, freezeFollower, slowFollower})
}

// TestNetFaults3Native is TestNetFaults3 with the native core, one round.
func TestNetFaults3Native(t *testing.T) {
	needLab(t)
	runFaults(t, 3, "native", 1, []fault{isolateLeader, isolateFollower, freezeFollower, slowFollower})
}

// TestNetFaults5 puts five nodes (wasm core) through 2|3 splits, the
// leader on the minority side and then on the majority side, a frozen
// follower and a slow follower.
func TestNetFaults5(t *testing.T) {
	needLab(t)
	runFaults(t, 5, "wasm", 1, []fault{splitLeader, splitFollowers, freezeFollower, slowFollower})
}
