package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// action is one scheduled change to the cluster.
type action struct {
	at int64
	do func(c *Cluster) error
}

// faultPlan is a random schedule of faults in phases: each phase starts
// some faults and ends them all (links healed, network restored, crashed
// nodes restarted, slow nodes restored), so that the run alternates
// trouble with calm.
type faultPlan struct {
	actions []action
	// end is when the last phase is over and everything is healed.
	end int64
	// summary lists the phases in words, for a seed's report.
	summary []string
}

func (p *faultPlan) add(at int64, do func(c *Cluster) error) {
	p.actions = append(p.actions, action{at: at, do: do})
}

// planFaults draws two to five phases starting at start. Each phase may
// degrade the network, cut links (splits, an isolated node or leader,
// one-way cuts, a bridge node, flapping partitions), crash nodes (one, the
// leader, a minority, all in turn, or all at once as in a power failure),
// slow a node or every disk down, and ask for leadership transfers.
func planFaults(rng *rand.Rand, n int, start int64) faultPlan {
	var p faultPlan
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	t := start
	for phase := range 2 + rng.IntN(4) {
		dur := 300 + rng.Int64N(2200)
		if rng.IntN(100) < 15 {
			dur = 3000 + rng.Int64N(3000) // long enough for backlogs to build
		}
		end := t + dur
		var parts []string
		if rng.IntN(100) < 50 {
			parts = append(parts, p.network(rng, t, end))
		}
		if rng.IntN(100) < 60 {
			parts = append(parts, p.partition(rng, ids, t, end))
		}
		if rng.IntN(100) < 50 {
			parts = append(parts, p.crashes(rng, ids, t, end))
		}
		if rng.IntN(100) < 20 {
			id := ids[rng.IntN(n)]
			s := Slowness{
				TickMillis:   []int64{0, 12, 15, 20}[rng.IntN(4)],
				ProcessDelay: rng.Int64N(30),
				DiskDelay:    rng.Int64N(100),
				NetDelay:     rng.Int64N(150),
			}
			p.add(t, func(c *Cluster) error { return c.SetSlow(id, s) })
			p.add(end, func(c *Cluster) error { return c.SetSlow(id, Slowness{}) })
			parts = append(parts, fmt.Sprintf("slow n%d %+v", id, s))
		} else if rng.IntN(100) < 15 {
			for _, id := range ids {
				s := Slowness{DiskDelay: 5 + rng.Int64N(40)}
				p.add(t, func(c *Cluster) error { return c.SetSlow(id, s) })
				p.add(end, func(c *Cluster) error { return c.SetSlow(id, Slowness{}) })
			}
			parts = append(parts, "slow disks")
		}
		if rng.IntN(100) < 20 {
			k := 1 + rng.IntN(3)
			for range k {
				at := t + rng.Int64N(dur)
				via, to := ids[rng.IntN(n)], ids[rng.IntN(n)]
				p.add(at, func(c *Cluster) error { return c.Transfer(via, to) })
			}
			parts = append(parts, fmt.Sprintf("%d leadership transfers", k))
		}
		if len(parts) == 0 {
			parts = append(parts, "calm")
		}
		p.summary = append(p.summary, fmt.Sprintf("phase %d, %d–%d ms: %v", phase+1, t, end, parts))
		t = end + rng.Int64N(500)
	}
	p.end = t
	p.sort()
	return p
}

// sort puts the actions in time order; those at one time stay in the
// order drawn.
func (p *faultPlan) sort() {
	slices.SortStableFunc(p.actions, func(a, b action) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
}

// network degrades the network from t to end.
func (p *faultPlan) network(rng *rand.Rand, t, end int64) string {
	nc := NetworkConfig{
		DropRate: []float64{0, 0, 0.05, 0.2, 0.4}[rng.IntN(5)],
		DupRate:  []float64{0, 0.05, 0.2}[rng.IntN(3)],
	}
	delays := [][2]int64{{1, 5}, {1, 30}, {5, 100}, {20, 300}}[rng.IntN(4)]
	nc.MinDelay, nc.MaxDelay = delays[0], delays[1]
	p.add(t, func(c *Cluster) error { return c.SetNetwork(nc) })
	p.add(end, func(c *Cluster) error { return c.SetNetwork(DefaultNetwork()) })
	return fmt.Sprintf("network %d–%d ms, drop %.0f%%, dup %.0f%%", nc.MinDelay, nc.MaxDelay, nc.DropRate*100, nc.DupRate*100)
}

// partition cuts links at some time in [t, end) and heals them at end.
func (p *faultPlan) partition(rng *rand.Rand, ids []uint64, t, end int64) string {
	at := t + rng.Int64N((end-t)/2)
	p.add(end, func(c *Cluster) error { c.Heal(); return nil })
	if rng.IntN(6) == 0 {
		// Flapping: a new random cut every 100–400 ms.
		k := 0
		for ; at < end; at += 100 + rng.Int64N(300) {
			cut, _ := randomCut(rng, ids)
			p.add(at, func(c *Cluster) error { c.Heal(); return cut(c) })
			k++
		}
		return fmt.Sprintf("flapping partitions (%d)", k)
	}
	cut, what := randomCut(rng, ids)
	p.add(at, cut)
	return what
}

// randomCut draws one way of cutting links.
func randomCut(rng *rand.Rand, ids []uint64) (func(c *Cluster) error, string) {
	n := len(ids)
	shuffled := slices.Clone(ids)
	rng.Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	switch rng.IntN(6) {
	case 0: // a random split
		k := 1 + rng.IntN(n-1)
		a, b := slices.Clone(shuffled[:k]), slices.Clone(shuffled[k:])
		slices.Sort(a)
		slices.Sort(b)
		return func(c *Cluster) error { return c.Partition(a, b) }, fmt.Sprintf("partition %v | %v", a, b)
	case 1: // a random node alone
		id := shuffled[0]
		return func(c *Cluster) error { return c.Isolate(id) }, fmt.Sprintf("isolate n%d", id)
	case 2, 3: // the leader alone, or with a minority
		k := rng.IntN((n + 1) / 2)
		return func(c *Cluster) error {
			l := c.Leader()
			if l == 0 {
				return nil
			}
			group := []uint64{l}
			for _, id := range shuffled {
				if len(group) > k {
					break
				}
				if id != l {
					group = append(group, id)
				}
			}
			return c.Partition(group)
		}, fmt.Sprintf("the leader and %d others apart", k)
	case 4: // one-way cuts
		k := 1 + rng.IntN(n)
		var cuts [][2]uint64
		for range k {
			from, to := ids[rng.IntN(n)], ids[rng.IntN(n)]
			if from != to {
				cuts = append(cuts, [2]uint64{from, to})
			}
		}
		return func(c *Cluster) error {
			for _, cut := range cuts {
				if err := c.Cut(cut[0], cut[1]); err != nil {
					return err
				}
			}
			return nil
		}, fmt.Sprintf("one-way cuts %v", cuts)
	default: // a bridge: two sides that only one node hears both of
		bridge, rest := shuffled[0], shuffled[1:]
		a, b := slices.Clone(rest[:len(rest)/2]), slices.Clone(rest[len(rest)/2:])
		return func(c *Cluster) error {
			for _, x := range a {
				for _, y := range b {
					if err := c.Cut(x, y); err != nil {
						return err
					}
					if err := c.Cut(y, x); err != nil {
						return err
					}
				}
			}
			return nil
		}, fmt.Sprintf("bridge n%d between %v and %v", bridge, a, b)
	}
}

// crashes crashes nodes in [t, end) and restarts them by end.
func (p *faultPlan) crashes(rng *rand.Rand, ids []uint64, t, end int64) string {
	n := len(ids)
	dur := end - t
	shuffled := slices.Clone(ids)
	rng.Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	r := rng.IntN(100)
	if r < 15 {
		// A power failure: every node at the same instant.
		at := t + rng.Int64N(dur/2)
		staggered := rng.IntN(2) == 0
		for _, id := range ids {
			p.add(at, func(c *Cluster) error {
				if !c.Up(id) {
					return nil
				}
				return c.Crash(id)
			})
			back := end
			if staggered {
				back = at + 1 + rng.Int64N(end-at)
			}
			p.add(back, func(c *Cluster) error {
				if c.Up(id) {
					return nil
				}
				return c.Restart(id)
			})
		}
		return fmt.Sprintf("power failure (staggered restarts: %v)", staggered)
	}
	k := 1
	switch {
	case r < 30:
		k = n // all, one after another
	case r < 55:
		k = (n - 1) / 2
	}
	leaderFirst := rng.IntN(2) == 0
	victims := shuffled[:k]
	for j, id := range victims {
		at := t + rng.Int64N(dur/2)
		back := at + 1 + rng.Int64N(end-at)
		crashLeader := leaderFirst && j == 0
		var crashed uint64
		p.add(at, func(c *Cluster) error {
			crashed = id
			if crashLeader {
				if l := c.Leader(); l != 0 {
					crashed = l
				}
			}
			if !c.Up(crashed) {
				crashed = 0
				return nil
			}
			return c.Crash(crashed)
		})
		p.add(back, func(c *Cluster) error {
			if crashed == 0 || c.Up(crashed) {
				return nil
			}
			return c.Restart(crashed)
		})
	}
	if leaderFirst {
		return fmt.Sprintf("crash the leader and %v", victims[1:])
	}
	return fmt.Sprintf("crash %v", victims)
}

// healAll ends every fault: links, network, slowness, crashed nodes.
func (c *Cluster) healAll() error {
	if !c.net.healed() {
		c.Heal()
	}
	if err := c.SetNetwork(DefaultNetwork()); err != nil {
		return err
	}
	for _, n := range c.nodes {
		if n.tickEvery != c.opts.TickMillis || n.procDelay != 0 || n.diskExtra != 0 || c.net.extra[n.idx] != 0 {
			if err := c.SetSlow(n.id, Slowness{}); err != nil {
				return err
			}
		}
	}
	for _, n := range c.nodes {
		if !n.up {
			if err := c.Restart(n.id); err != nil {
				return err
			}
		}
	}
	return nil
}
