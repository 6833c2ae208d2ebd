package sim

import "math/rand/v2"

// network is the simulated network between n nodes, addressed by index.
//
// A message's fate is drawn when it is sent (lost, delivered once, or
// delivered twice, each copy with its own delay); whether its link is open
// is decided when it arrives, so cutting a link also loses what was in
// flight on it, as a pulled cable does.
type network struct {
	n   int
	cfg NetworkConfig
	// While a ramp is in progress (rampStart <= now < rampEnd), delays
	// move linearly from rampFrom's to cfg's. A gradual change keeps
	// messages arriving without a gap, as a congesting link does; a step
	// from 5 to 500 ms would silence every link for 500 ms at once.
	rampFrom           NetworkConfig
	rampStart, rampEnd int64
	// blocked[from*n+to] cuts the link from → to (one way).
	blocked []bool
	// extra[i] is added to the delay of every message to or from node i
	// (a slow node).
	extra []int64

	sent, lost, duplicated, delivered, cut uint64
}

func newNetwork(n int, cfg NetworkConfig) *network {
	return &network{n: n, cfg: cfg, blocked: make([]bool, n*n), extra: make([]int64, n)}
}

// set replaces the network's behaviour at once.
func (nw *network) set(cfg NetworkConfig) {
	nw.cfg = cfg
	nw.rampEnd = 0
}

// ramp moves the delays linearly from the current ones to cfg's over the
// next over milliseconds, starting at now; drop and duplication rates
// change at once.
func (nw *network) ramp(now, over int64, cfg NetworkConfig) {
	from := nw.current(now)
	nw.cfg = cfg
	if over <= 0 {
		nw.rampEnd = 0
		return
	}
	nw.rampFrom, nw.rampStart, nw.rampEnd = from, now, now+over
}

// current returns the behaviour in force at now.
func (nw *network) current(now int64) NetworkConfig {
	if now >= nw.rampEnd || now < nw.rampStart {
		return nw.cfg
	}
	c := nw.cfg
	span, done := nw.rampEnd-nw.rampStart, now-nw.rampStart
	c.MinDelay = nw.rampFrom.MinDelay + (nw.cfg.MinDelay-nw.rampFrom.MinDelay)*done/span
	c.MaxDelay = nw.rampFrom.MaxDelay + (nw.cfg.MaxDelay-nw.rampFrom.MaxDelay)*done/span
	return c
}

// route draws the fate of one message sent at now from node from to node
// to: it appends the delay of each copy to be delivered (none if the
// message is lost) to buf and returns it.
func (nw *network) route(rng *rand.Rand, now int64, from, to int, buf []int64) []int64 {
	nw.sent++
	c := nw.current(now)
	if c.DropRate > 0 && rng.Float64() < c.DropRate {
		nw.lost++
		return buf
	}
	copies := 1
	if c.DupRate > 0 && rng.Float64() < c.DupRate {
		nw.duplicated++
		copies = 2
	}
	for range copies {
		d := c.MinDelay
		if c.MaxDelay > c.MinDelay {
			d += rng.Int64N(c.MaxDelay - c.MinDelay + 1)
		}
		buf = append(buf, d+nw.extra[from]+nw.extra[to])
	}
	return buf
}

// open reports whether the link from → to is up.
func (nw *network) open(from, to int) bool { return !nw.blocked[from*nw.n+to] }

// block cuts the link from → to, one way.
func (nw *network) block(from, to int) { nw.blocked[from*nw.n+to] = true }

// isolate cuts every link to and from node i.
func (nw *network) isolate(i int) {
	for j := range nw.n {
		if j != i {
			nw.block(i, j)
			nw.block(j, i)
		}
	}
}

// partition cuts every link between nodes of different groups. Nodes in
// no group form one more group together.
func (nw *network) partition(groups [][]int) {
	group := make([]int, nw.n)
	for i := range group {
		group[i] = -1
	}
	for g, members := range groups {
		for _, i := range members {
			group[i] = g
		}
	}
	for i := range nw.n {
		for j := range nw.n {
			if group[i] != group[j] {
				nw.block(i, j)
			}
		}
	}
}

// heal restores every link.
func (nw *network) heal() { clear(nw.blocked) }

// healed reports whether every link is up.
func (nw *network) healed() bool {
	for _, b := range nw.blocked {
		if b {
			return false
		}
	}
	return true
}
