package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// Cluster is a simulated cluster of nodes 1..N. It is driven by its
// methods from one goroutine; nothing in it runs on its own.
//
// The first violation found stops the run: every later Run returns it.
type Cluster struct {
	opts  Options
	rng   *rand.Rand
	now   int64
	steps uint64
	sched scheduler
	net   *network
	nodes []*node
	check *checker
	story *story
	trace *tracer
	err   *Violation

	calls map[uint64]*Call
	// removed lists the nodes a membership change was asked to remove:
	// they are never brought back.
	removed map[uint64]bool
	lastReq uint64
	hist    history
	clients int
	delays  []int64

	handles, persists, crashes, snapshots, changes uint64
	// events lists every event the engines emitted but EventCommitted.
	events []eventRecord
}

// eventRecord is one event an engine emitted.
type eventRecord struct {
	at   int64
	node uint64
	kind raft.EventKind
	term uint64
}

// New starts a cluster: every node is up with an empty disk, its clock
// starting at a random phase.
func New(opts Options) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:    opts,
		rng:     rand.New(rand.NewPCG(opts.Seed, 0x5eed_0f_5a17)),
		story:   newStory(opts.StoryLen),
		trace:   newTracer(),
		calls:   make(map[uint64]*Call),
		removed: make(map[uint64]bool),
	}
	ids := make([]uint64, opts.Nodes+opts.Spares)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	c.net = newNetwork(len(ids), *opts.Network)
	c.check = newChecker(ids)
	voters := ids[:opts.Nodes]
	for i, id := range ids {
		var members []raft.Member
		for _, v := range voters {
			members = append(members, raft.Member{ID: v})
		}
		if i >= opts.Nodes {
			members = append(members, raft.Member{ID: id, Learner: true})
		}
		cfg := engine.Config{
			Raft: raft.Config{
				ID:                 id,
				Members:            members,
				ElectionTicks:      opts.ElectionTicks,
				HeartbeatTicks:     opts.HeartbeatTicks,
				Seed:               nodeSeed(opts.Seed, id),
				DisablePreVote:     opts.DisablePreVote,
				DisableCheckQuorum: opts.DisableCheckQuorum,
			},
			RequestTimeoutTicks: opts.RequestTimeoutTicks,
			SnapshotEntries:     opts.SnapshotEntries,
			SnapshotRetain:      opts.SnapshotRetain,
		}
		n := &node{id: id, idx: i, cfg: cfg, tickEvery: opts.TickMillis}
		c.nodes = append(c.nodes, n)
		if err := c.start(n); err != nil {
			return nil, err
		}
	}
	c.notef(0, "cluster of %d starts (seed %d)", opts.Nodes, opts.Seed)
	return c, nil
}

// Seed returns the cluster's seed.
func (c *Cluster) Seed() uint64 { return c.opts.Seed }

// IDs returns the node ids, 1..N.
func (c *Cluster) IDs() []uint64 { return slices.Clone(c.check.ids) }

// Now returns the simulated time in milliseconds since the start.
func (c *Cluster) Now() int64 { return c.now }

// TickMillis returns the simulated length of a tick.
func (c *Cluster) TickMillis() int64 { return c.opts.TickMillis }

// Err returns the violation that stopped the run, or nil.
func (c *Cluster) Err() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// Stats counts what a run did.
type Stats struct {
	// Time is the simulated time in milliseconds; Ticks is Time in ticks.
	Time, Ticks int64
	// Steps counts events; Handles counts Handle calls.
	Steps, Handles uint64
	// Messages: sent, delivered, lost by the network, duplicated, and
	// lost on cut links.
	Sent, Delivered, Lost, Duplicated, Cut uint64
	// Persists counts Persist effects made durable; Snapshots the
	// snapshots stored.
	Persists, Snapshots uint64
	// MembershipChanges counts the membership changes acknowledged.
	MembershipChanges uint64
	// Crashes counts node crashes; Leaders counts the terms that had a
	// leader, and MaxTerm is the highest of them.
	Crashes, Leaders, MaxTerm uint64
}

// Stats returns what the run did so far.
func (c *Cluster) Stats() Stats {
	return Stats{
		Time: c.now, Ticks: c.now / c.opts.TickMillis,
		Steps: c.steps, Handles: c.handles,
		Sent: c.net.sent, Delivered: c.net.delivered, Lost: c.net.lost,
		Duplicated: c.net.duplicated, Cut: c.net.cut,
		Persists: c.persists, Snapshots: c.snapshots, MembershipChanges: c.changes,
		Crashes: c.crashes,
		Leaders: uint64(len(c.check.leaders)),
		MaxTerm: c.check.maxTerm,
	}
}

// TraceHash returns the sha256 of every effect batch every node returned
// so far, in order.
func (c *Cluster) TraceHash() [32]byte { return c.trace.sum() }

// Story returns the run's last events, formatted, oldest first.
func (c *Cluster) Story() []string { return c.story.lines(c.opts.TickMillis) }

// Run runs the simulation for ms simulated milliseconds, or until a
// violation, which it returns.
func (c *Cluster) Run(ms int64) error {
	_, err := c.RunUntil(nil, ms)
	return err
}

// RunUntil runs the simulation until cond holds (it is checked before the
// first step and after every step) or for at most limit milliseconds. It
// reports whether cond held; a nil cond never holds. It stops at the first
// violation and returns it.
func (c *Cluster) RunUntil(cond func() bool, limit int64) (bool, error) {
	if c.err != nil {
		return false, c.err
	}
	if cond != nil && cond() {
		return true, nil
	}
	end := c.now + limit
	for {
		e := c.sched.peek()
		if e == nil || e.at > end {
			break
		}
		c.sched.pop()
		c.now = e.at
		c.steps++
		c.fire(e)
		c.sched.release(e)
		if c.err != nil {
			return false, c.err
		}
		if cond != nil && cond() {
			return true, nil
		}
	}
	c.now = end
	return false, nil
}

// fire carries out one event.
func (c *Cluster) fire(e *event) {
	switch e.kind {
	case evTick:
		n := c.nodes[e.node]
		if !n.up || e.inc != n.inc {
			return
		}
		c.input(n, engine.Tick{})
		c.schedule(event{at: c.now + n.tickEvery, kind: evTick, node: n.idx, inc: n.inc})
	case evDeliver:
		c.deliver(e)
	case evProcess:
		n := c.nodes[e.node]
		if !n.up || e.inc != n.inc {
			return
		}
		n.processing = false
		if !c.opts.Pipeline && n.busy() {
			return // drain schedules the inbox once the effects are done
		}
		c.handle(n)
	case evPersistDone:
		n := c.nodes[e.node]
		if !n.up || e.inc != n.inc {
			return
		}
		c.persistDone(n)
	case evFunc:
		e.fn()
	}
}

// schedule queues an event.
func (c *Cluster) schedule(ev event) {
	e := c.sched.alloc()
	*e = ev
	c.sched.push(e)
}

// after schedules fn to run ms milliseconds from now.
func (c *Cluster) after(ms int64, fn func()) {
	c.schedule(event{at: c.now + ms, kind: evFunc, fn: fn})
}

// fail stops the run with the first violation.
func (c *Cluster) fail(err error) {
	if c.err != nil {
		return
	}
	var b *breach
	if !errors.As(err, &b) {
		b = &breach{rule: RuleEngineError, detail: err.Error()}
	}
	c.record(record{kind: recViolation, text: "VIOLATION " + b.rule + ": " + b.detail})
	c.err = &Violation{
		Rule: b.rule, Detail: b.detail,
		Seed: c.opts.Seed, Step: c.steps, Time: c.now,
		Story:      c.story.lines(c.opts.TickMillis),
		Replay:     c.opts.Replay,
		tickMillis: c.opts.TickMillis,
	}
}

// Fail stops the run with a violation of rule found outside the cluster
// (by a test, or a liveness check), told with the run's story.
func (c *Cluster) Fail(rule, format string, args ...any) error {
	c.fail(breachf(rule, format, args...))
	return c.err
}

func (c *Cluster) record(r record) {
	r.at, r.step = c.now, c.steps
	c.story.add(r)
}

// notef records a notable fact in the story and the live log.
func (c *Cluster) notef(node uint64, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	c.record(record{node: node, kind: recNote, text: text})
	if c.opts.Logf != nil {
		c.logf(node, "%s", text)
	}
}

// Note records a line of the caller's in the story and the live log, such
// as a scenario's step.
func (c *Cluster) Note(format string, args ...any) { c.notef(0, format, args...) }

func (c *Cluster) logf(node uint64, format string, args ...any) {
	if c.opts.Logf == nil {
		return
	}
	who := "    "
	if node != 0 {
		who = fmt.Sprintf("n%-3d", node)
	}
	c.opts.Logf("%s %s %s", stamp(c.now, c.opts.TickMillis), who, fmt.Sprintf(format, args...))
}

func (c *Cluster) node(id uint64) (*node, error) {
	if id == 0 || id > uint64(len(c.nodes)) {
		return nil, fmt.Errorf("sim: no node n%d in a cluster of %d", id, len(c.nodes))
	}
	return c.nodes[id-1], nil
}

// Crash stops node id at once: it loses its memory, the effects it had not
// carried out, and the Persist in progress (or part of it, torn). Its
// clients' requests in flight end Lost.
func (c *Cluster) Crash(id uint64) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if !n.up {
		return fmt.Errorf("sim: crash n%d: already down", id)
	}
	c.notef(id, "💥 crashes")
	c.crashes++
	c.crash(n)
	return c.Err()
}

// Restart starts node id again from what its disk holds.
func (c *Cluster) Restart(id uint64) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if n.up {
		return fmt.Errorf("sim: restart n%d: already up", id)
	}
	c.notef(id, "restarts from its disk (term %d, vote n%d, commit %d, %d entries)",
		n.disk.hs.Term, n.disk.hs.Vote, n.disk.hs.Commit, n.disk.last())
	if err := c.start(n); err != nil {
		return err
	}
	return c.Err()
}

// Up reports whether node id is running.
func (c *Cluster) Up(id uint64) bool {
	n, err := c.node(id)
	return err == nil && n.up
}

// Status returns node id's last reported status in its current lifetime;
// ok is false when the node is down or has reported nothing yet.
func (c *Cluster) Status(id uint64) (st engine.Status, ok bool) {
	n, err := c.node(id)
	if err != nil || !n.up || !n.hasStatus {
		return engine.Status{}, false
	}
	return n.status, true
}

// Leader returns the node that reports leading the highest term among the
// running nodes, or 0.
func (c *Cluster) Leader() uint64 {
	var leader, term uint64
	for _, n := range c.nodes {
		if n.up && n.hasStatus && n.status.Role == raft.RoleLeader && n.status.Term >= term {
			leader, term = n.id, n.status.Term
		}
	}
	return leader
}

// Disk returns what node id's disk holds: its hard state and log. The
// entries are a copy; their Data must not be modified.
func (c *Cluster) Disk(id uint64) (raft.HardState, []raft.Entry) {
	n, err := c.node(id)
	if err != nil {
		return raft.HardState{}, nil
	}
	return n.disk.hs, slices.Clone(n.disk.entries)
}

func (c *Cluster) indexes(ids []uint64) ([]int, error) {
	out := make([]int, len(ids))
	for i, id := range ids {
		n, err := c.node(id)
		if err != nil {
			return nil, err
		}
		out[i] = n.idx
	}
	return out, nil
}

// Partition cuts every link between nodes of different groups; nodes named
// in no group form one more group together. Links already cut stay cut.
func (c *Cluster) Partition(groups ...[]uint64) error {
	idx := make([][]int, len(groups))
	for g, ids := range groups {
		var err error
		if idx[g], err = c.indexes(ids); err != nil {
			return err
		}
	}
	c.net.partition(idx)
	c.notef(0, "✂ partition %v", groups)
	return nil
}

// Isolate cuts every link to and from node id.
func (c *Cluster) Isolate(id uint64) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.net.isolate(n.idx)
	c.notef(id, "✂ isolated from the others")
	return nil
}

// Cut cuts the link from → to, in that direction only.
func (c *Cluster) Cut(from, to uint64) error {
	idx, err := c.indexes([]uint64{from, to})
	if err != nil {
		return err
	}
	c.net.block(idx[0], idx[1])
	c.notef(0, "✂ one-way cut n%d → n%d", from, to)
	return nil
}

// Heal restores every link.
func (c *Cluster) Heal() {
	c.net.heal()
	c.notef(0, "network healed")
}

// SetNetwork changes how the network treats messages from now on.
func (c *Cluster) SetNetwork(cfg NetworkConfig) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	c.net.set(cfg)
	c.notef(0, "network: delay %d–%d ms, drop %.0f%%, duplicate %.0f%%", cfg.MinDelay, cfg.MaxDelay, cfg.DropRate*100, cfg.DupRate*100)
	return nil
}

// RampNetwork moves the network's delays linearly to cfg's over the next
// over milliseconds (its rates change at once), so that messages keep
// arriving while latency builds up, without the silence of a step change.
func (c *Cluster) RampNetwork(cfg NetworkConfig, over int64) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	c.net.ramp(c.now, over, cfg)
	c.notef(0, "network: delay ramps to %d–%d ms over %d ms", cfg.MinDelay, cfg.MaxDelay, over)
	return nil
}

// Transfer asks node via to hand leadership to node to (a follower
// forwards the request to its leader). It does nothing if via is down.
func (c *Cluster) Transfer(via, to uint64) error {
	n, err := c.node(via)
	if err != nil {
		return err
	}
	if _, err := c.node(to); err != nil {
		return err
	}
	if c.input(n, engine.Transfer{To: to}) {
		c.notef(via, "asked to hand leadership to n%d", to)
	}
	return nil
}

// Slowness makes one node slow. Zero fields mean not slow in that way.
type Slowness struct {
	// TickMillis is the node's tick period (its clock runs slow); 0 keeps
	// the cluster's.
	TickMillis int64
	// ProcessDelay delays the node's handling of its inputs, which then
	// arrive in larger batches.
	ProcessDelay int64
	// DiskDelay is added to every Persist of the node.
	DiskDelay int64
	// NetDelay is added to every message to or from the node.
	NetDelay int64
}

// SetSlow makes node id slow as s says; the zero Slowness restores it.
func (c *Cluster) SetSlow(id uint64, s Slowness) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if s.TickMillis < 0 || s.ProcessDelay < 0 || s.DiskDelay < 0 || s.NetDelay < 0 {
		return fmt.Errorf("%w: slowness %+v", ErrOptions, s)
	}
	n.tickEvery = c.opts.TickMillis
	if s.TickMillis > 0 {
		n.tickEvery = s.TickMillis
	}
	n.procDelay, n.diskExtra, c.net.extra[n.idx] = s.ProcessDelay, s.DiskDelay, s.NetDelay
	if s == (Slowness{}) {
		c.notef(id, "is no longer slow")
	} else {
		c.notef(id, "🐢 slow: tick every %d ms, +%d ms to handle inputs, +%d ms per disk write, +%d ms per message",
			n.tickEvery, s.ProcessDelay, s.DiskDelay, s.NetDelay)
	}
	return nil
}

// Call is one client request sent to one node.
type Call struct {
	// ID is the request id the node was given.
	ID uint64
	// Node is the node the request was sent to.
	Node uint64
	// Command is the proposed command, nil for a read.
	Command *kv.Command
	// Key is the key of a read.
	Key string
	// Sent and At are the times the request was sent and answered.
	Sent, At int64
	// Done says the request is over: answered with Reply, or Lost.
	Done bool
	// Lost says the node was down, or crashed before answering: the
	// outcome of a write is unknown.
	Lost bool
	// Pending says the node answered ReplyPending before its final reply.
	Pending bool
	// Reply is the node's final reply.
	Reply engine.Reply
	// Change is set for a membership change instead of a command or read.
	Change *raft.ConfChange

	onDone func(*Call)
}

// Propose sends a client command to node id. The Call ends when the node
// answers with a final Reply, or Lost if the node is or goes down first.
func (c *Cluster) Propose(id uint64, cmd kv.Command) (*Call, error) {
	return c.request(id, &cmd, "", nil)
}

// Read sends a linearizable read of key to node id.
func (c *Cluster) Read(id uint64, key string) (*Call, error) {
	return c.request(id, nil, key, nil)
}

func (c *Cluster) request(id uint64, cmd *kv.Command, key string, onDone func(*Call)) (*Call, error) {
	n, err := c.node(id)
	if err != nil {
		return nil, err
	}
	c.lastReq++
	call := &Call{ID: c.lastReq, Node: id, Command: cmd, Key: key, Sent: c.now, onDone: onDone}
	var in engine.Input
	if cmd != nil {
		in = engine.Propose{RequestID: call.ID, Command: *cmd}
	} else {
		in = engine.Read{RequestID: call.ID, Key: key}
	}
	c.record(record{node: id, kind: recRequest, first: call.ID, cmd: cmd, text: key})
	if !c.input(n, in) {
		// Connection refused: the client learns it a moment later.
		c.after(1, func() { c.finish(call, engine.Reply{RequestID: call.ID}, true) })
		return call, nil
	}
	c.calls[call.ID] = call
	n.pending = append(n.pending, call)
	return call, nil
}

// finish ends a call.
func (c *Cluster) finish(call *Call, r engine.Reply, lost bool) {
	call.Done, call.Lost, call.Reply, call.At = true, lost, r, c.now
	if call.onDone != nil {
		call.onDone(call)
	}
}
