package raft

import (
	"slices"
	"testing"
)

// cluster is an in-memory network of nodes for tests: it carries out every
// Ready at once (persist, acknowledge, deliver) and records what was
// applied. Links can be cut per direction.
type cluster struct {
	t       *testing.T
	nodes   map[uint64]*Node
	ids     []uint64
	stored  map[uint64][]Entry
	hard    map[uint64]HardState
	applied map[uint64][]Entry
	reads   map[uint64][]ReadState
	cut     map[[2]uint64]bool
	queue   []Message
	// drop, if set, decides per message whether the network loses it.
	drop func(Message) bool
}

func newCluster(t *testing.T, n int, tweak func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, nodes: map[uint64]*Node{}, stored: map[uint64][]Entry{}, hard: map[uint64]HardState{},
		applied: map[uint64][]Entry{}, reads: map[uint64][]ReadState{}, cut: map[[2]uint64]bool{}}
	for i := 1; i <= n; i++ {
		c.ids = append(c.ids, uint64(i))
	}
	for _, id := range c.ids {
		c.start(id, tweak)
	}
	return c
}

func (c *cluster) config(id uint64, tweak func(*Config)) Config {
	cfg := Config{ID: id, Voters: slices.Clone(c.ids), ElectionTicks: 10, HeartbeatTicks: 1, Seed: 42}
	if tweak != nil {
		tweak(&cfg)
	}
	return cfg
}

// start (re)starts node id from what it stored.
func (c *cluster) start(id uint64, tweak func(*Config)) {
	c.t.Helper()
	n, err := New(c.config(id, tweak), c.hard[id], slices.Clone(c.stored[id]))
	if err != nil {
		c.t.Fatalf("New(%d): %v", id, err)
	}
	c.nodes[id] = n
	c.applied[id] = nil
}

// stop crashes node id: it loses everything but its storage.
func (c *cluster) stop(id uint64) { delete(c.nodes, id) }

// isolate cuts every link to and from id; heal restores all links.
func (c *cluster) isolate(id uint64) {
	for _, o := range c.ids {
		if o != id {
			c.cut[[2]uint64{id, o}] = true
			c.cut[[2]uint64{o, id}] = true
		}
	}
}

func (c *cluster) heal() { clear(c.cut) }

// process carries out node id's Ready.
func (c *cluster) process(id uint64) {
	n := c.nodes[id]
	if n == nil || !n.HasReady() {
		return
	}
	rd := n.Ready()
	if len(rd.Entries) > 0 {
		first := rd.Entries[0].Index
		s := c.stored[id]
		s = slices.Clone(s[:min(uint64(len(s)), first-1)])
		c.stored[id] = append(s, rd.Entries...)
	}
	c.hard[id] = rd.HardState
	c.queue = append(c.queue, rd.Messages...)
	c.applied[id] = append(c.applied[id], rd.Committed...)
	c.reads[id] = append(c.reads[id], rd.ReadStates...)
	if len(rd.Entries) > 0 {
		last := rd.Entries[len(rd.Entries)-1]
		n.StorageAck(last.Index, last.Term)
	}
}

// settle delivers messages until the network is quiet (bounded).
func (c *cluster) settle() {
	c.t.Helper()
	for range 10000 {
		for _, id := range c.ids {
			c.process(id)
		}
		if len(c.queue) == 0 {
			busy := false
			for _, id := range c.ids {
				if n := c.nodes[id]; n != nil && n.HasReady() {
					busy = true
				}
			}
			if !busy {
				return
			}
			continue
		}
		m := c.queue[0]
		c.queue = c.queue[1:]
		if c.cut[[2]uint64{m.From, m.To}] || (c.drop != nil && c.drop(m)) {
			continue
		}
		if n := c.nodes[m.To]; n != nil {
			_ = n.Step(m)
		}
	}
	c.t.Fatal("network did not settle")
}

// tick advances every running node's clock k times, settling after each.
func (c *cluster) tick(k int) {
	for range k {
		for _, id := range c.ids {
			if n := c.nodes[id]; n != nil {
				n.Tick()
			}
		}
		c.settle()
	}
}

// leader returns the id of the running leader with the highest term, or 0.
func (c *cluster) leader() uint64 {
	var best, term uint64
	for _, id := range c.ids {
		if n := c.nodes[id]; n != nil && n.role == RoleLeader && n.term >= term {
			best, term = id, n.term
		}
	}
	return best
}

// elect ticks until some node leads, and returns it.
func (c *cluster) elect() uint64 {
	c.t.Helper()
	for range 100 {
		if l := c.leader(); l != 0 {
			return l
		}
		c.tick(1)
	}
	c.t.Fatal("no leader elected within 100 ticks")
	return 0
}

func (c *cluster) propose(id uint64, data string) {
	c.t.Helper()
	if _, err := c.nodes[id].Propose([]byte(data)); err != nil {
		c.t.Fatalf("propose on %d: %v", id, err)
	}
	c.settle()
}

// appliedData returns the Data of the normal entries node id applied.
func (c *cluster) appliedData(id uint64) []string {
	var out []string
	for _, e := range c.applied[id] {
		if e.Type == EntryNormal {
			out = append(out, string(e.Data))
		}
	}
	return out
}
