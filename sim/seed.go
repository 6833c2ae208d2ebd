package sim

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/wraft/wraft/raft"

	"github.com/anishathalye/porcupine"
)

// SeedOptions configures one randomised run.
type SeedOptions struct {
	// Seed decides everything: cluster size, configuration, faults,
	// workload, and every draw of the network and disks.
	Seed uint64
	// Factory builds the cores; default NativeFactory.
	Factory Factory
	// Replay is the command that replays this seed, for violations.
	Replay string
	// Logf, if set, receives the run's live log (faults, elections, role
	// changes).
	Logf func(format string, args ...any)
	// LivenessTicks bounds, in ticks after the faults heal, how long the
	// cluster may take to elect a leader and commit a write, and then again
	// for every node to apply it. Default 300.
	LivenessTicks int64
	// PorcupineTimeout bounds the linearizability check in wall-clock
	// time; a check that times out is reported as undecided, not failed.
	// Default 10 s.
	PorcupineTimeout time.Duration
	// StoryLen is how many recent events a violation tells (default 80).
	StoryLen int
	// VisualizeDir, if set, is where a history that is not linearizable
	// is drawn (porcupine's HTML visualization), as
	// wraft-sim-seed-N.html.
	VisualizeDir string
}

// SeedReport tells what one randomised run did.
type SeedReport struct {
	Seed  uint64
	Nodes int
	// Config names the protocol options the seed chose.
	Config string
	// Plan lists the fault phases.
	Plan []string
	// Stats counts the run's work.
	Stats Stats
	// HealToCommit is how long, in ticks, the cluster took after the
	// faults healed to commit a write.
	HealToCommit int64
	// Ops counts client operations checked for linearizability; Unknown
	// those whose outcome the client never learnt.
	Ops, Unknown int
	// Reused counts the writes that reused a session's sequence number
	// with a different command, and Refused those the cluster refused for
	// it (the rest applied because the first never did, or ended unknown).
	Reused, Refused int
	// Linearizable is porcupine's verdict.
	Linearizable porcupine.CheckResult
	// Trace is the run's trace hash.
	Trace [32]byte
}

// String summarises the report in one line.
func (r SeedReport) String() string {
	verdict := map[porcupine.CheckResult]string{porcupine.Ok: "linearizable", porcupine.Illegal: "NOT LINEARIZABLE", porcupine.Unknown: "undecided"}[r.Linearizable]
	return fmt.Sprintf("seed %d: %d nodes%s, %d phases, %d ticks, %d messages, %d crashes, %d leaders up to term %d, %d ops (%d unknown) %s, commit %d ticks after heal, trace %x",
		r.Seed, r.Nodes, r.Config, len(r.Plan), r.Stats.Ticks, r.Stats.Delivered, r.Stats.Crashes, r.Stats.Leaders, r.Stats.MaxTerm,
		r.Ops, r.Unknown, verdict, r.HealToCommit, r.Trace[:6])
}

// RunSeed runs one randomised simulation: a cluster of 3 or 5 under a
// random fault schedule with concurrent clients, then, the faults healed,
// a liveness phase (a leader must emerge and a write commit within
// LivenessTicks, and every node then apply it), then porcupine on the whole
// history. It returns the report and the first violation, a *Violation.
func RunSeed(o SeedOptions) (SeedReport, error) {
	if o.LivenessTicks == 0 {
		o.LivenessTicks = 300
	}
	if o.PorcupineTimeout == 0 {
		o.PorcupineTimeout = 10 * time.Second
	}
	// The cluster's shape is drawn from the seed before the cluster (and
	// its random source) exists.
	shape := nodeSeed(o.Seed, 0)
	opts := Options{
		Seed:     o.Seed,
		Nodes:    3 + 2*int(shape&1),
		Factory:  o.Factory,
		Replay:   o.Replay,
		Logf:     o.Logf,
		StoryLen: o.StoryLen,
	}
	rep := SeedReport{Seed: o.Seed, Nodes: opts.Nodes}
	if shape&(1<<8) != 0 {
		opts.Pipeline = true
		rep.Config = " pipelined"
	}
	if shape&(1<<9) != 0 {
		opts.SnapshotEntries = 8 + int(shape>>10)%40
		opts.SnapshotRetain = int(shape>>20) % 4
		if opts.SnapshotRetain == 0 {
			opts.SnapshotRetain = 1 // 0 would pick the engine's default
		}
		rep.Config += fmt.Sprintf(" snapshots every %d", opts.SnapshotEntries)
	}
	if shape&(1<<16) != 0 {
		opts.Spares = 1 + int(shape>>17)%2
		rep.Config += fmt.Sprintf(" +%d spares", opts.Spares)
	}
	switch (shape >> 1) % 8 {
	case 0:
		opts.DisablePreVote = true
		rep.Config += " (no PreVote)"
	case 1:
		opts.DisableCheckQuorum = true
		rep.Config += " (no CheckQuorum)"
	}
	c, err := New(opts)
	if err != nil {
		return rep, fmt.Errorf("sim: seed %d: %w", o.Seed, err)
	}
	err = runSeed(c, o, &rep)
	rep.Stats = c.Stats()
	rep.Trace = c.TraceHash()
	if err != nil {
		return rep, err
	}
	lin := c.CheckLinearizable(o.PorcupineTimeout)
	rep.Ops, rep.Unknown, rep.Linearizable = lin.Ops, lin.Unknown, lin.Result
	if lin.Result == porcupine.Illegal {
		drawn := ""
		if o.VisualizeDir != "" {
			path := filepath.Join(o.VisualizeDir, fmt.Sprintf("wraft-sim-seed-%d.html", o.Seed))
			if err := porcupine.VisualizePath(KVModel(), lin.Info, path); err != nil {
				drawn = fmt.Sprintf(" (drawing it failed: %v)", err)
			} else {
				drawn = " (drawn in " + path + ")"
			}
		}
		return rep, c.Fail(RuleLinearizability, "the client history is not linearizable%s (%d operations, %d with unknown outcome); the history:\n%s",
			drawn, lin.Ops, lin.Unknown, c.HistoryString())
	}
	return rep, nil
}

func runSeed(c *Cluster, o SeedOptions, rep *SeedReport) error {
	rng := c.rng
	tick := c.opts.TickMillis
	// Let a first leader emerge, then start the clients and the faults.
	if err := c.Run(300); err != nil {
		return err
	}
	plan := planFaults(rng, c.opts.Nodes, c.now+100)
	if c.opts.Spares > 0 {
		k := 2 + rng.IntN(5)
		for range k {
			plan.add(c.now+100+rng.Int64N(plan.end-c.now-100+1), func(c *Cluster) error { return c.randomMembershipChange() })
		}
		plan.sort()
		plan.summary = append(plan.summary, fmt.Sprintf("%d membership changes", k))
	}
	rep.Plan = plan.summary
	for _, s := range plan.summary {
		c.notef(0, "plan: %s", s)
	}
	keys := []string{"a", "b", "c", "d", "e"}[:2+rng.IntN(4)]
	w := startWorkload(c, 2+rng.IntN(4), keys, plan.end+500)
	for _, a := range plan.actions {
		if err := c.Run(a.at - c.now); err != nil {
			return err
		}
		if err := a.do(c); err != nil {
			if c.err != nil {
				return c.err
			}
			return fmt.Errorf("sim: seed %d: fault at %d ms: %w", o.Seed, a.at, err)
		}
	}
	if err := c.Run(plan.end - c.now); err != nil {
		return err
	}
	// Heal everything; the clients carry on for a while.
	c.notef(0, "all faults healed: liveness phase")
	if err := c.healAll(); err != nil {
		return err
	}
	healed := c.now
	bound := o.LivenessTicks * tick
	probe := c.NewClient().Set("probe", "after-heal", OpOptions{Deadline: bound})
	if _, err := c.RunUntil(func() bool { return probe.Done }, bound+c.guardMillis()); err != nil {
		return err
	}
	if !probe.Known {
		return c.Fail(RuleLiveness, "no write committed within %d ticks after the faults healed (leader now: n%d; probe: %s)",
			o.LivenessTicks, c.Leader(), probe)
	}
	rep.HealToCommit = (c.now - healed) / tick
	index := probe.Reply.Index
	caughtUp := func() bool {
		members := c.Members()
		for _, n := range c.nodes {
			if !slices.ContainsFunc(members, func(m raft.Member) bool { return m.ID == n.id }) {
				continue // never added, or removed: nothing reaches it
			}
			if !n.up || !n.hasStatus || n.status.Applied < index {
				return false
			}
		}
		return true
	}
	if ok, err := c.RunUntil(caughtUp, bound); err != nil {
		return err
	} else if !ok {
		return c.Fail(RuleLiveness, "not every node applied index %d within %d ticks after it committed: %s",
			index, o.LivenessTicks, c.progress())
	}
	// Let the clients finish what they started.
	if ok, err := c.RunUntil(w.idle, 10_000); err != nil {
		return err
	} else if !ok {
		return c.Fail(RuleLiveness, "client operations still in progress 10 s after the workload stopped")
	}
	c.notef(0, "run over: %d operations from %d clients", w.ops, len(w.clients))
	rep.Reused, rep.Refused = w.reused, w.refused
	return nil
}

// progress describes every node's commit and applied index.
func (c *Cluster) progress() string {
	s := ""
	for _, n := range c.nodes {
		switch {
		case !n.up:
			s += fmt.Sprintf(" n%d down;", n.id)
		case !n.hasStatus:
			s += fmt.Sprintf(" n%d silent;", n.id)
		default:
			s += fmt.Sprintf(" n%d %s t%d commit %d applied %d last %d;", n.id, n.status.Role, n.status.Term, n.status.Commit, n.status.Applied, n.status.LastIndex)
			for _, p := range n.status.Progress {
				s += fmt.Sprintf(" [progress of n%d: match %d next %d %s active %v inflight %d]", p.ID, p.Match, p.Next, p.State, p.Active, p.Inflight)
			}
		}
	}
	return s
}
