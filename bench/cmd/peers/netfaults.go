package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/internal/netlab"
)

// The network-fault mode (-netfaults) runs each system as three nodes,
// each in its own network namespace joined by a user-space switch
// (internal/netlab, as the e2e/netfault tests do), with writers that know
// every node's endpoint, and puts it through rounds of faults: the leader
// cut off (its packets blackholed, so TCP connections stall rather than
// fail), a follower cut off, a follower frozen (SIGSTOP), a follower
// slowed (its frames held 200-500 ms). Each fault lasts -netfault-duration
// and is then healed. Per fault it reports the time from the fault to the
// next acknowledged write, the longest wait of any writer between two
// acknowledged writes, and the time from the heal until the healed node
// has caught up (it knows the leader and has applied what the leader had
// committed at the heal).
//
// Every system gets the same faults, durations, followers (by rank) and
// delays, from one seed.

// netFaultKinds are the faults of one round, in order.
var netFaultKinds = []string{"isolate leader", "isolate follower", "freeze follower", "slow follower"}

// NetFault is one fault of one round.
type NetFault struct {
	Kind   string  `json:"kind"`
	Round  int     `json:"round"`
	Node   uint64  `json:"node"`
	What   string  `json:"what"`
	Second float64 `json:"seconds"`
	// NextWriteMs is the time from the fault to the first acknowledged
	// write that was sent after it; with NoWrite (none before the next
	// fault) the time to the next fault instead.
	NextWriteMs float64 `json:"next_write_ms"`
	NoWrite     bool    `json:"no_write,omitempty"`
	// LongestGapMs is the longest wait of any writer between two
	// acknowledged writes, among the waits that ended between this fault
	// and the next.
	LongestGapMs float64 `json:"longest_gap_ms"`
	// HealMs is the time from the heal until the healed node had caught
	// up (-1: not within 30 s).
	HealMs float64 `json:"heal_ms"`
	// Failed counts writes that ended in an error or timeout.
	Failed int `json:"failed_writes"`
}

// NetFaultSummary sums up one kind of fault over the rounds.
type NetFaultSummary struct {
	Kind            string  `json:"kind"`
	NextWriteMedMs  float64 `json:"next_write_median_ms"`
	NextWriteMaxMs  float64 `json:"next_write_max_ms"`
	LongestGapMedMs float64 `json:"longest_gap_median_ms"`
	LongestGapMaxMs float64 `json:"longest_gap_max_ms"`
	HealMaxMs       float64 `json:"heal_max_ms"`
	Failed          int     `json:"failed_writes"`
}

// NetFaultRun is one system's run.
type NetFaultRun struct {
	System  string            `json:"system"`
	Faults  []NetFault        `json:"faults"`
	Summary []NetFaultSummary `json:"summary"`
	Writes  int               `json:"writes"`
	Error   string            `json:"error,omitempty"`
}

// NetFaultResults is what the network-fault mode writes as JSON.
type NetFaultResults struct {
	Started   string            `json:"started"`
	Machine   Machine           `json:"machine"`
	Versions  map[string]string `json:"versions"`
	Rounds    int               `json:"rounds"`
	FaultS    float64           `json:"fault_seconds"`
	Writers   int               `json:"writers"`
	OpTimeout float64           `json:"op_timeout_s"`
	Seed      uint64            `json:"seed"`
	Runs      []NetFaultRun     `json:"runs"`
}

// netWriter returns a writer that knows every node of c, as a client of
// that system would be set up to survive a node's trouble: etcd's client
// with all endpoints and gRPC keepalives of 1 s; wraft's Go client; for
// the hashicorp/raft server (which has no client library) the harness's
// HTTP writer bounded to 1 s per node.
func netWriter(c *cluster) (writer, error) {
	switch d := c.drv.(type) {
	case *etcdDriver:
		cl, err := clientv3.New(clientv3.Config{Endpoints: d.eps, DialTimeout: 2 * time.Second,
			DialKeepAliveTime: time.Second, DialKeepAliveTimeout: time.Second, Logger: zap.NewNop()})
		if err != nil {
			return nil, fmt.Errorf("etcd client: %w", err)
		}
		return &etcdWriter{c: cl}, nil
	case *httpDriver:
		if strings.HasPrefix(c.name, "wraft") {
			cl, err := client.New(d.eps)
			if err != nil {
				return nil, err
			}
			return wraftWriter{cl}, nil
		}
		return &httpWriter{d: d, client: rand.Uint64()>>1 | 1, attempt: time.Second}, nil
	}
	return nil, fmt.Errorf("%s: no writer for the network-fault mode", c.name)
}

// wraftWriter writes through wraft's Go client.
type wraftWriter struct{ c *client.Client }

func (w wraftWriter) put(ctx context.Context, key string, value []byte) error {
	rep, err := w.c.Set(ctx, key, value)
	if err != nil {
		return err
	}
	if rep.Code != "ok" {
		return fmt.Errorf("put %s: %s %s", key, rep.Code, rep.Error)
	}
	return nil
}

func (wraftWriter) close() {}

// netOp is one write: when it was sent and answered, and whether it was
// acknowledged.
type netOp struct {
	call, ret time.Time
	ok        bool
}

// runNetFaults runs the rounds of faults against c (whose nodes are in
// lab) with o.netfaultWriters writers.
func runNetFaults(ctx context.Context, c *cluster, lab *netlab.Lab, o options, value []byte) (NetFaultRun, error) {
	run := NetFaultRun{System: c.name}
	rng := rand.New(rand.NewPCG(o.netfaultSeed, 19))
	ws := make([]writer, o.netfaultWriters)
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.close()
			}
		}
	}()
	for i := range ws {
		w, err := netWriter(c)
		if err != nil {
			return run, err
		}
		ws[i] = w
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err := waitLeader(lctx, c.drv)
	cancel()
	if err != nil {
		return run, fmt.Errorf("%s: no leader: %w", c.name, err)
	}
	wctx, stopWriters := context.WithCancel(ctx)
	ops := make([][]netOp, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; wctx.Err() == nil; n++ {
				op := netOp{call: time.Now()}
				octx, cancel := context.WithTimeout(wctx, o.netfaultOpTimeout)
				err := w.put(octx, key(i, n), value)
				cancel()
				op.ret, op.ok = time.Now(), err == nil
				if wctx.Err() != nil {
					return
				}
				ops[i] = append(ops[i], op)
				if !op.ok {
					pause(wctx, 10*time.Millisecond)
				}
			}
		}()
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopWriters()
			wg.Wait()
		}
	}
	defer stop()
	pause(ctx, 2*time.Second) // warm up: every writer has found the leader
	var starts []time.Time
	for round := 1; round <= o.netfaultRounds; round++ {
		for _, kind := range netFaultKinds {
			lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			lead, err := waitLeader(lctx, c.drv)
			cancel()
			if err != nil {
				return run, fmt.Errorf("%s: round %d, before %s: no leader: %w", c.name, round, kind, err)
			}
			var fs []uint64
			for _, n := range c.nodes {
				if n.id != lead {
					fs = append(fs, n.id)
				}
			}
			follower := fs[rng.IntN(len(fs))]
			delay := time.Duration(200+rng.IntN(301)) * time.Millisecond
			f := NetFault{Kind: kind, Round: round, Node: follower, Second: o.netfaultDuration.Seconds()}
			var heal func()
			switch kind {
			case "isolate leader":
				f.Node = lead
				lab.Isolate(int(lead))
				heal = lab.HealAll
				f.What = fmt.Sprintf("node %d (leader) cut off", lead)
			case "isolate follower":
				lab.Isolate(int(follower))
				heal = lab.HealAll
				f.What = fmt.Sprintf("node %d cut off", follower)
			case "freeze follower":
				pid := c.nodes[follower-1].pid()
				if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
					return run, fmt.Errorf("%s: SIGSTOP node %d: %w", c.name, follower, err)
				}
				heal = func() { _ = syscall.Kill(pid, syscall.SIGCONT) }
				f.What = fmt.Sprintf("SIGSTOP node %d", follower)
			case "slow follower":
				lab.Delay(int(follower), delay)
				// The heal ends when the last frame held has gone through.
				heal = func() { lab.Delay(int(follower), 0); pause(ctx, delay) }
				f.What = fmt.Sprintf("node %d +%d ms", follower, delay.Milliseconds())
			}
			starts = append(starts, time.Now())
			pause(ctx, o.netfaultDuration)
			heal()
			healed := time.Now()
			f.HealMs = -1
			if caughtUp(ctx, c, f.Node, 30*time.Second) {
				f.HealMs = ms(time.Since(healed))
			}
			if ctx.Err() != nil {
				return run, ctx.Err()
			}
			slog.Info("netfault", "system", c.name, "round", round, "fault", kind, "what", f.What,
				"heal_ms", fmt.Sprintf("%.0f", f.HealMs))
			run.Faults = append(run.Faults, f)
			pause(ctx, time.Second) // settle before the next fault
		}
	}
	stop()
	end := time.Now()
	for i := range run.Faults {
		to := end
		if i+1 < len(starts) {
			to = starts[i+1]
		}
		measureFault(&run.Faults[i], ops, starts[i], to)
	}
	for _, wops := range ops {
		for _, op := range wops {
			if op.ok {
				run.Writes++
			}
		}
	}
	run.Summary = summarize(run.Faults)
	return run, nil
}

// measureFault fills f's client-side numbers from the writers' ops, for
// the fault that began at from and lasted (with its heal and settling)
// until to.
func measureFault(f *NetFault, ops [][]netOp, from, to time.Time) {
	var next time.Duration = -1
	var gap time.Duration
	for _, wops := range ops {
		last := time.Time{}
		for _, op := range wops {
			if op.ok && !op.call.Before(from) && op.ret.Before(to) {
				if d := op.ret.Sub(from); next < 0 || d < next {
					next = d
				}
			}
			if op.ret.After(from) && op.ret.Before(to) && !op.ok {
				f.Failed++
			}
			if !op.ok {
				continue
			}
			if !last.IsZero() && !op.ret.Before(from) && op.ret.Before(to) {
				gap = max(gap, op.ret.Sub(last))
			}
			last = op.ret
		}
	}
	f.NextWriteMs = ms(next)
	if next < 0 {
		f.NoWrite, f.NextWriteMs = true, ms(to.Sub(from))
	}
	f.LongestGapMs = ms(gap)
}

// caughtUp waits (up to limit) until node id answers, knows a leader and
// has applied what the leader had committed when the wait began.
func caughtUp(ctx context.Context, c *cluster, id uint64, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	var target uint64
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if target == 0 {
			if lead, err := c.drv.leader(ctx); err == nil && lead != 0 {
				if st, err := c.drv.state(ctx, lead); err == nil {
					target = max(st.Commit, 1)
				}
			}
		}
		if target != 0 {
			if st, err := c.drv.state(ctx, id); err == nil && st.Leader != 0 && st.Applied >= target {
				return true
			}
		}
		pause(ctx, 20*time.Millisecond)
	}
	return false
}

// summarize sums the faults up per kind.
func summarize(faults []NetFault) []NetFaultSummary {
	var out []NetFaultSummary
	for _, kind := range netFaultKinds {
		s := NetFaultSummary{Kind: kind}
		var next, gap []float64
		for _, f := range faults {
			if f.Kind != kind {
				continue
			}
			next = append(next, f.NextWriteMs)
			gap = append(gap, f.LongestGapMs)
			if f.HealMs < 0 {
				s.HealMaxMs = -1
			} else if s.HealMaxMs >= 0 {
				s.HealMaxMs = max(s.HealMaxMs, f.HealMs)
			}
			s.Failed += f.Failed
		}
		if len(next) == 0 {
			continue
		}
		slices.Sort(next)
		slices.Sort(gap)
		s.NextWriteMedMs, s.NextWriteMaxMs = next[len(next)/2], next[len(next)-1]
		s.LongestGapMedMs, s.LongestGapMaxMs = gap[len(gap)/2], gap[len(gap)-1]
		out = append(out, s)
	}
	return out
}

// netfaultMode runs every system in o.systems, one at a time, each in a
// lab of its own.
func netfaultMode(ctx context.Context, specs map[string]spec, tmp string, o options, value []byte, res *NetFaultResults) error {
	if err := netlab.Available(); err != nil {
		return fmt.Errorf("-netfaults: %w", err)
	}
	for _, name := range o.systems {
		slog.Info("netfaults: starting", "system", name)
		run, err := netfaultSystem(ctx, specs[name], tmp, o, value)
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		if err != nil {
			run.System, run.Error = name, err.Error()
			slog.Error("system failed", "system", name, "err", err)
		}
		res.Runs = append(res.Runs, run)
	}
	return nil
}

func netfaultSystem(ctx context.Context, s spec, tmp string, o options, value []byte) (NetFaultRun, error) {
	lab, err := netlab.New(netlab.Config{Nodes: 3})
	if err != nil {
		return NetFaultRun{}, err
	}
	defer lab.Close()
	c, err := startClusterIn(ctx, s, tmp, lab)
	if err != nil {
		return NetFaultRun{}, err
	}
	defer c.stop()
	return runNetFaults(ctx, c, lab, o, value)
}

// printNetFaults prints one table: a row per system and kind of fault,
// then the runs that failed and the faults after which no write was
// acknowledged.
func printNetFaults(w io.Writer, res *NetFaultResults) {
	fmt.Fprintf(w, "\nnetwork faults: 3 nodes, each in its own network namespace; %d writers, each with every endpoint "+
		"(%.0f s per write at most); each fault %.0f s, then healed; %d rounds; seed %d\n",
		res.Writers, res.OpTimeout, res.FaultS, res.Rounds, res.Seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "system\tfault\tnext write ms\tlongest client gap ms\theal to traffic ms\tfailed writes\t")
	fmt.Fprintln(tw, "\t\tmedian / max\tmedian / max\tmax\t\t")
	for _, r := range res.Runs {
		for _, s := range r.Summary {
			heal := fmt.Sprintf("%.0f", s.HealMaxMs)
			if s.HealMaxMs < 0 {
				heal = "> 30000"
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f / %.0f\t%.0f / %.0f\t%s\t%d\t\n", r.System, s.Kind,
				s.NextWriteMedMs, s.NextWriteMaxMs, s.LongestGapMedMs, s.LongestGapMaxMs, heal, s.Failed)
		}
	}
	tw.Flush()
	for _, r := range res.Runs {
		if r.Error != "" {
			fmt.Fprintf(w, "  %s failed: %s\n", r.System, r.Error)
		}
		for _, f := range r.Faults {
			if f.NoWrite {
				fmt.Fprintf(w, "  %s round %d, %s (%s): no write acknowledged before the next fault\n", r.System, f.Round, f.Kind, f.What)
			}
		}
	}
}
