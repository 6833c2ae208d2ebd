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
	// snaps is each node's stored snapshot; stored holds the entries
	// after it. snapApplied is what was applied up to each snapshot index.
	snaps       map[uint64]*Snapshot
	snapApplied map[uint64][]Entry
	// drop, if set, decides per message whether the network loses it.
	drop func(Message) bool
}

func newCluster(t *testing.T, n int, tweak func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, nodes: map[uint64]*Node{}, stored: map[uint64][]Entry{}, hard: map[uint64]HardState{},
		applied: map[uint64][]Entry{}, reads: map[uint64][]ReadState{}, cut: map[[2]uint64]bool{},
		snaps: map[uint64]*Snapshot{}, snapApplied: map[uint64][]Entry{}}
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
	n, err := New(c.config(id, tweak), c.hard[id], c.snaps[id], slices.Clone(c.stored[id]))
	if err != nil {
		c.t.Fatalf("New(%d): %v", id, err)
	}
	c.nodes[id] = n
	c.applied[id] = nil
	if s := c.snaps[id]; s != nil {
		c.applied[id] = slices.Clone(c.snapApplied[s.Meta.Index])
	}
}

// base returns the index of node id's stored snapshot, or 0.
func (c *cluster) base(id uint64) uint64 {
	if s := c.snaps[id]; s != nil {
		return s.Meta.Index
	}
	return 0
}

// compact snapshots node id at its applied index, as an engine would,
// keeping retain entries in memory.
func (c *cluster) compact(id uint64, retain uint64) uint64 {
	c.t.Helper()
	n := c.nodes[id]
	idx := n.log.applied
	snap := Snapshot{Meta: SnapshotMeta{Index: idx, Term: n.Term(idx), Members: n.Members()}, Data: []byte("state@" + u(idx))}
	if err := n.Compact(snap, retain); err != nil {
		c.t.Fatalf("compact %d: %v", id, err)
	}
	c.snapApplied[idx] = slices.Clone(c.applied[id])
	c.storeSnapshot(id, &snap, true)
	return idx
}

// storeSnapshot does what a host does with a snapshot to save.
func (c *cluster) storeSnapshot(id uint64, s *Snapshot, keep bool) {
	var kept []Entry
	if keep {
		for _, e := range c.stored[id] {
			if e.Index > s.Meta.Index {
				kept = append(kept, e)
			}
		}
	}
	c.snaps[id] = s
	c.stored[id] = kept
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
	if rd.Snapshot != nil {
		applied, ok := c.snapApplied[rd.Snapshot.Meta.Index]
		if !ok {
			c.t.Fatalf("node %d installed unknown snapshot %d", id, rd.Snapshot.Meta.Index)
		}
		c.storeSnapshot(id, rd.Snapshot, rd.SnapshotKeepLog)
		c.applied[id] = slices.Clone(applied)
	}
	if len(rd.Entries) > 0 {
		first := rd.Entries[0].Index - c.base(id)
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

// Unit-level helpers: one node driven by hand-built messages.

// voterIDs returns the ids 1..size.
func voterIDs(size int) []uint64 {
	ids := make([]uint64, size)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	return ids
}

// newTestNode returns node id of a cluster of voters 1..size, restored from
// hs and ents, with ElectionTicks 10 and HeartbeatTicks 1 unless tweak says
// otherwise.
func newTestNode(t *testing.T, id uint64, size int, tweak func(*Config), hs HardState, ents []Entry) *Node {
	t.Helper()
	cfg := Config{ID: id, Voters: voterIDs(size), ElectionTicks: 10, HeartbeatTicks: 1, Seed: 42}
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := New(cfg, hs, nil, ents)
	if err != nil {
		t.Fatalf("New(%d): %v", id, err)
	}
	return n
}

// noPreVote and noCheckQuorum are Config tweaks; all combines tweaks.
func noPreVote(c *Config)     { c.DisablePreVote = true }
func noCheckQuorum(c *Config) { c.DisableCheckQuorum = true }
func all(tweaks ...func(*Config)) func(*Config) {
	return func(c *Config) {
		for _, f := range tweaks {
			f(c)
		}
	}
}

// logOf returns a log holding one normal entry per term given, at indexes
// 1, 2, ...
func logOf(terms ...uint64) []Entry {
	ents := make([]Entry, len(terms))
	for i, t := range terms {
		ents[i] = Entry{Term: t, Index: uint64(i) + 1, Data: []byte{byte(i)}}
	}
	return ents
}

// termsOf returns the term of every entry of n's log, in index order.
func termsOf(n *Node) []uint64 {
	var out []uint64
	for _, e := range n.log.ents[1:] {
		out = append(out, e.Term)
	}
	return out
}

// repeatTerm returns k copies of term.
func repeatTerm(term uint64, k int) []uint64 {
	out := make([]uint64, k)
	for i := range out {
		out[i] = term
	}
	return out
}

// flush takes n's Ready and, as a host would, acknowledges its entries to
// storage.
func flush(n *Node) Ready {
	rd := n.Ready()
	if k := len(rd.Entries); k > 0 {
		n.StorageAck(rd.Entries[k-1].Index, rd.Entries[k-1].Term)
	}
	return rd
}

// sent flushes n and returns the messages it sends, only those of the
// given types if any are given.
func sent(n *Node, types ...MessageType) []Message {
	var out []Message
	for _, m := range flush(n).Messages {
		if len(types) == 0 || slices.Contains(types, m.Type) {
			out = append(out, m)
		}
	}
	return out
}

// to returns the messages of ms addressed to id.
func to(id uint64, ms []Message) []Message {
	var out []Message
	for _, m := range ms {
		if m.To == id {
			out = append(out, m)
		}
	}
	return out
}

// mustStep steps m into n and fails the test on error.
func mustStep(t *testing.T, n *Node, m Message) {
	t.Helper()
	if err := n.Step(m); err != nil {
		t.Fatalf("Step(%+v): %v", m, err)
	}
}

// makeLeader has n campaign and grants it every (pre-)vote it asks for, in
// voter order, until it leads; then it flushes n and returns the messages
// sent as leader (the new term's first MsgApp).
func makeLeader(t *testing.T, n *Node) []Message {
	t.Helper()
	n.Campaign()
	flush(n)
	for _, v := range n.voters {
		if v == n.id || n.role != RolePreCandidate {
			continue
		}
		mustStep(t, n, Message{Type: MsgPreVoteResp, From: v, To: n.id, Term: n.term + 1})
	}
	flush(n)
	for _, v := range n.voters {
		if v == n.id || n.role != RoleCandidate {
			continue
		}
		mustStep(t, n, Message{Type: MsgVoteResp, From: v, To: n.id, Term: n.term})
	}
	if n.role != RoleLeader {
		t.Fatalf("node %d: role %v after winning every vote, want leader", n.id, n.role)
	}
	return flush(n).Messages
}

// ackAll answers every MsgApp in ms with the success a follower holding
// the leader's log would send.
func ackAll(t *testing.T, n *Node, ms []Message) {
	t.Helper()
	for _, m := range ms {
		if m.Type != MsgApp {
			continue
		}
		last := m.Index + uint64(len(m.Entries))
		mustStep(t, n, Message{Type: MsgAppResp, From: m.To, To: m.From, Term: m.Term, Index: last})
	}
}

// progressOf returns the leader's view of voter id.
func progressOf(t *testing.T, n *Node, id uint64) PeerStatus {
	t.Helper()
	for _, p := range n.Status().Progress {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("node %d has no progress for %d (role %v)", n.id, id, n.role)
	return PeerStatus{}
}
