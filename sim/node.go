package sim

import (
	"fmt"
	"runtime/debug"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// node is one simulated host: an engine core, its disk, its inbox of inputs
// and its queue of effects still to carry out.
type node struct {
	id  uint64
	idx int
	cfg engine.Config
	// core is nil while the node is down.
	core engine.Core
	up   bool
	// inc counts crashes and restarts; events scheduled in an earlier
	// incarnation are void.
	inc  uint64
	disk disk
	// inbox holds the inputs that arrived since the node last handled them.
	inbox []engine.Input
	// processing says an evProcess is scheduled for the inbox.
	processing bool
	// queue holds effects not yet carried out; while persisting, queue[0]
	// is the Persist in progress and everything behind it waits.
	queue      []engine.Effect
	persisting bool
	// Slowness: the tick period, the delay before the node handles its
	// inbox, and extra latency for every Persist, in milliseconds.
	tickEvery, procDelay, diskExtra int64
	// status is the node's last StatusReport in this lifetime.
	status    engine.Status
	hasStatus bool
	// pending lists the client requests in flight at this node, in the
	// order they were sent.
	pending []*Call
}

// input hands node n an input: it joins the inbox, which the node handles
// after its processing delay (and, unless pipelining, once it has carried
// out its effects). Inputs for a node that is down are lost.
func (c *Cluster) input(n *node, in engine.Input) bool {
	if !n.up {
		return false
	}
	n.inbox = append(n.inbox, in)
	// A blocking host that is busy gets to its inbox when drain is done.
	if !n.processing && (c.opts.Pipeline || !n.busy()) {
		n.processing = true
		c.schedule(event{at: c.now + n.procDelay, kind: evProcess, node: n.idx, inc: n.inc})
	}
	return true
}

// handle runs node n's core on its inbox and carries out the effects.
func (c *Cluster) handle(n *node) {
	in := n.inbox
	effs, err := c.callCore(n, in)
	// The engine keeps nothing of its inputs beyond the call: the inbox
	// is reused.
	clear(in)
	n.inbox = in[:0]
	if err != nil {
		c.fail(err)
		return
	}
	c.handles++
	c.trace.add(n.id, effs)
	for _, e := range effs {
		switch e := e.(type) {
		case engine.Persist:
			// The host owns what it queues: copy the entries now, as a
			// host that encodes them at once would.
			e.Entries = append([]raft.Entry(nil), e.Entries...)
			n.queue = append(n.queue, e)
			continue
		case engine.Emit:
			c.record(record{node: n.id, kind: recEvent, ev: e.Event})
			if e.Event.Kind != raft.EventCommitted {
				c.events = append(c.events, eventRecord{at: c.now, node: n.id, kind: e.Event.Kind, term: e.Event.Term})
			}
			if loggedEvent(e.Event.Kind) {
				c.logf(n.id, "%s", e.Event.Text)
			}
		case engine.StatusReport:
			c.observeStatus(n, e.Status)
		}
		n.queue = append(n.queue, e)
	}
	// Checked once the batch's events are in the story, so that a
	// violation's story ends with what caused it.
	if b := c.check.observe(n.idx, effs); b != nil {
		c.fail(b)
		return
	}
	c.drain(n)
}

// callCore calls the core, turning an error or a panic into a breach.
func (c *Cluster) callCore(n *node, in []engine.Input) (effs []engine.Effect, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = breachf(RuleEngineError, "n%d panicked in Handle: %v\n%s", n.id, r, debug.Stack())
		}
	}()
	effs, err = n.core.Handle(in)
	if err != nil {
		return nil, breachf(RuleEngineError, "n%d: Handle: %v", n.id, err)
	}
	return effs, nil
}

// loggedEvent says which events the live log shows: the protocol's story
// without the per-vote and per-commit chatter.
func loggedEvent(k raft.EventKind) bool {
	switch k {
	case raft.EventVoteGranted, raft.EventVoteRejected, raft.EventCommitted, raft.EventMessageRejected:
		return false
	}
	return true
}

// observeStatus records a node's new status and logs role, term and
// leader changes.
func (c *Cluster) observeStatus(n *node, st engine.Status) {
	prev, had := n.status, n.hasStatus
	n.status, n.hasStatus = st, true
	if had && prev.Role == st.Role && prev.Term == st.Term && prev.Leader == st.Leader && prev.Commit == st.Commit {
		return
	}
	c.record(record{node: n.id, kind: recStatus, role: st.Role, hs: raft.HardState{Term: st.Term}, first: st.Leader, last: st.Commit})
	if !had || prev.Role != st.Role || prev.Term != st.Term || prev.Leader != st.Leader {
		c.logf(n.id, "is %s in term %d (leader n%d, commit %d)", st.Role, st.Term, st.Leader, st.Commit)
	}
}

// drain carries out node n's queued effects until one must wait for the
// disk.
func (c *Cluster) drain(n *node) {
	for len(n.queue) > 0 && !n.persisting && c.err == nil {
		switch e := n.queue[0].(type) {
		case engine.SaveSnapshot:
			// A snapshot file is written, fsynced and renamed into place:
			// it occupies the disk like a Persist.
			n.persisting = true
			lat := c.opts.Disk.MinLatency + n.diskExtra
			c.schedule(event{at: c.now + lat, kind: evPersistDone, node: n.idx, inc: n.inc})
			c.record(record{node: n.id, kind: recPersist, first: e.Snapshot.Meta.Index, last: e.Snapshot.Meta.Index})
			return
		case engine.Persist:
			if c.opts.Pipeline {
				e = n.coalesce()
			}
			n.persisting = true
			lat := c.opts.Disk.MinLatency + n.diskExtra
			if d := c.opts.Disk.MaxLatency - c.opts.Disk.MinLatency; d > 0 {
				lat += c.rng.Int64N(d + 1)
			}
			c.schedule(event{at: c.now + lat, kind: evPersistDone, node: n.idx, inc: n.inc})
			c.record(record{node: n.id, kind: recPersist, hs: e.HardState, first: firstIndex(e), last: lastIndex(e)})
			return
		case engine.Send:
			c.send(n, e.Message)
		case engine.Reply:
			c.reply(n, e)
		}
		n.queue[0] = nil
		n.queue = n.queue[1:]
	}
	// A host that blocks while it carries out effects handles what
	// arrived meanwhile once it is free, in one batch.
	if !c.opts.Pipeline && len(n.queue) == 0 && !n.persisting && len(n.inbox) > 0 && !n.processing && n.up {
		n.processing = true
		c.schedule(event{at: c.now + n.procDelay, kind: evProcess, node: n.idx, inc: n.inc})
	}
}

// busy reports whether node n is still carrying out effects.
func (n *node) busy() bool { return n.persisting || len(n.queue) > 0 }

// coalesce merges every Persist in node n's queue into the one at its
// head, as a pipelining host writes all it has in one go, and moves the
// other effects behind it, in order: they leave once the merged write is
// durable, which is later than they might, and so safe. It returns the
// merged Persist.
func (n *node) coalesce() engine.Persist {
	merged := n.queue[0].(engine.Persist)
	rest := n.queue[:1]
	for k, e := range n.queue[1:] {
		if _, ok := e.(engine.SaveSnapshot); ok {
			// No write moves across a snapshot: keep the rest in order.
			rest = append(rest, n.queue[1+k:]...)
			break
		}
		p, ok := e.(engine.Persist)
		if !ok {
			rest = append(rest, e)
			continue
		}
		merged.HardState = p.HardState
		switch {
		case len(p.Entries) == 0:
		case len(merged.Entries) == 0 || p.Entries[0].Index <= merged.Entries[0].Index:
			merged.Entries = p.Entries
		default:
			keep := p.Entries[0].Index - merged.Entries[0].Index
			merged.Entries = append(merged.Entries[:keep:keep], p.Entries...)
		}
	}
	clear(n.queue[len(rest):])
	n.queue = rest
	n.queue[0] = merged
	return merged
}

func firstIndex(p engine.Persist) uint64 {
	if len(p.Entries) == 0 {
		return 0
	}
	return p.Entries[0].Index
}

func lastIndex(p engine.Persist) uint64 {
	if len(p.Entries) == 0 {
		return 0
	}
	return p.Entries[len(p.Entries)-1].Index
}

// persistDone makes node n's Persist in progress durable, acknowledges it
// and carries on with the queue.
func (c *Cluster) persistDone(n *node) {
	if s, ok := n.queue[0].(engine.SaveSnapshot); ok {
		n.queue[0] = nil
		n.queue = n.queue[1:]
		n.persisting = false
		c.snapshotDone(n, s)
		c.drain(n)
		return
	}
	p := n.queue[0].(engine.Persist)
	n.queue[0] = nil
	n.queue = n.queue[1:]
	n.persisting = false
	c.persists++
	from, err := n.disk.write(p)
	if err != nil {
		c.fail(breachf(RuleHostContract, "n%d: %v", n.id, err))
		return
	}
	c.record(record{node: n.id, kind: recDurable, hs: p.HardState, first: firstIndex(p), last: lastIndex(p)})
	if b := c.check.durable(n.idx, &n.disk, from); b != nil {
		c.fail(b)
		return
	}
	if len(p.Entries) > 0 {
		last := p.Entries[len(p.Entries)-1]
		c.input(n, engine.StorageAck{Index: last.Index, Term: last.Term})
	}
	c.drain(n)
}

// send hands a message node n sent to the network.
func (c *Cluster) send(n *node, m raft.Message) {
	if m.From != n.id || m.To == n.id || m.To == 0 || m.To > uint64(len(c.nodes)) {
		c.fail(breachf(RuleHostContract, "n%d sends a message it cannot send: %s", n.id, messageString(m)))
		return
	}
	if err := sending(n.id, &n.disk, m); err != nil {
		c.fail(err)
		return
	}
	to := int(m.To - 1)
	// The host encodes a message when it sends it: later changes to the
	// engine's slices must not reach the wire.
	m.Entries = append([]raft.Entry(nil), m.Entries...)
	m.Context = append([]byte(nil), m.Context...)
	c.delays = c.net.route(c.rng, c.now, n.idx, to, c.delays[:0])
	if len(c.delays) == 0 {
		c.record(record{node: n.id, kind: recLost, msg: m})
	}
	for _, d := range c.delays {
		c.schedule(event{at: c.now + d, kind: evDeliver, node: to, msg: m})
	}
}

// deliver hands an arriving message to its node, if the link and the node
// are up.
func (c *Cluster) deliver(e *event) {
	n := c.nodes[e.node]
	from := int(e.msg.From - 1)
	switch {
	case !c.net.open(from, e.node):
		c.net.cut++
		c.record(record{node: n.id, kind: recCut, msg: e.msg})
		return
	case !n.up:
		c.record(record{node: n.id, kind: recDown, msg: e.msg})
		return
	}
	c.net.delivered++
	c.record(record{node: n.id, kind: recDeliver, msg: e.msg})
	m := e.msg
	// Each delivery gets its own entries slice: a duplicate must not
	// share one with its twin.
	m.Entries = append([]raft.Entry(nil), m.Entries...)
	c.input(n, engine.Receive{Message: m})
}

// reply carries out a Reply of node n: it answers the request's Call.
func (c *Cluster) reply(n *node, r engine.Reply) {
	call := c.calls[r.RequestID]
	if call == nil || call.Node != n.id {
		c.fail(breachf(RuleHostContract, "n%d replies %s to request %d, which it was never sent", n.id, r.Code, r.RequestID))
		return
	}
	if call.Done {
		c.fail(breachf(RuleHostContract, "n%d gives request %d a second final reply (%s after %s)", n.id, r.RequestID, r.Code, call.Reply.Code))
		return
	}
	c.record(record{node: n.id, kind: recReply, reply: r})
	if r.Code == engine.ReplyPending {
		call.Pending = true
		return
	}
	if call.Change != nil {
		if r.Code == engine.ReplyOK {
			c.changes++
		}
		c.notef(n.id, "membership change %s of n%d: %s %s", call.Change.Type, call.Change.NodeID, r.Code, r.Error)
	} else if b := c.check.reply(n.idx, r, call.Command); b != nil {
		c.fail(b)
		return
	}
	delete(c.calls, r.RequestID)
	n.removePending(call)
	c.finish(call, r, false)
}

func (n *node) removePending(call *Call) {
	for i, p := range n.pending {
		if p == call {
			n.pending = append(n.pending[:i], n.pending[i+1:]...)
			return
		}
	}
}

// crash stops node n: its memory, its queue and its inbox are lost; the
// Persist in progress is lost or torn.
func (c *Cluster) crash(n *node) {
	if s, ok := head(n.queue).(engine.SaveSnapshot); ok && n.persisting && c.err == nil {
		// A snapshot lands whole (renamed into place) or not at all.
		if c.rng.IntN(2) == 0 {
			c.snapshotDone(n, s)
			c.notef(n.id, "crash after the snapshot at index %d landed", s.Snapshot.Meta.Index)
		}
	} else if n.persisting && c.err == nil {
		p := n.queue[0].(engine.Persist)
		if len(p.Entries) > 0 && c.opts.Disk.TornWriteRate > 0 && c.rng.Float64() < c.opts.Disk.TornWriteRate {
			k := c.rng.IntN(len(p.Entries) + 1)
			from := n.disk.tear(p, k)
			c.notef(n.id, "crash tears the write of entries %d..%d: %d of them landed, without the hard state",
				p.Entries[0].Index, lastIndex(p), k)
			if b := c.check.durable(n.idx, &n.disk, from); b != nil {
				c.fail(b)
			}
		}
	}
	n.up, n.core, n.inbox, n.queue, n.persisting, n.processing = false, nil, nil, nil, false, false
	n.status, n.hasStatus = engine.Status{}, false
	n.inc++
	c.check.crashed(n.idx)
	pending := n.pending
	n.pending = nil
	for _, call := range pending {
		delete(c.calls, call.ID)
		c.finish(call, engine.Reply{RequestID: call.ID}, true)
	}
}

// start builds node n's core from its disk and starts its clock.
func (c *Cluster) start(n *node) error {
	core, err := c.opts.Factory(n.cfg, n.disk.restored())
	if err != nil {
		last := "none"
		if k := len(n.disk.entries); k > 0 {
			last = describe(n.disk.entries[k-1])
		}
		c.fail(breachf(RuleEngineError, "n%d cannot start from what its disk holds (term %d, vote n%d, commit %d, %d entries, the last %s): %v",
			n.id, n.disk.hs.Term, n.disk.hs.Vote, n.disk.hs.Commit, len(n.disk.entries), last, err))
		return c.err
	}
	n.core, n.up = core, true
	n.inc++
	if b := c.check.restarted(n.idx, &n.disk); b != nil {
		c.fail(b)
	}
	// A random phase, so that nodes do not tick in lockstep.
	c.schedule(event{at: c.now + 1 + c.rng.Int64N(n.tickEvery), kind: evTick, node: n.idx, inc: n.inc})
	return nil
}

func commandString(cmd kv.Command) string {
	s := cmd.Op.String() + " " + cmd.Key
	switch cmd.Op {
	case kv.OpSet:
		s += "=" + string(cmd.Value)
	case kv.OpCAS:
		if cmd.ExpectMissing {
			s += " missing→" + string(cmd.Value)
		} else {
			s += " " + string(cmd.Expect) + "→" + string(cmd.Value)
		}
	}
	if cmd.ClientID != 0 {
		s += fmt.Sprintf(" (c%d#%d)", cmd.ClientID, cmd.Seq)
	}
	return s
}

// snapshotDone makes node n's snapshot durable.
func (c *Cluster) snapshotDone(n *node, s engine.SaveSnapshot) {
	idx := s.Snapshot.Meta.Index
	if idx > uint64(len(c.check.committed)) {
		c.fail(breachf(RuleStateMachineSafety, "n%d stores a snapshot at index %d beyond the cluster's known commit %d",
			n.id, idx, len(c.check.committed)))
		return
	}
	c.snapshots++
	from := n.disk.saveSnapshot(s.Snapshot, s.KeepLog, c.check.committed)
	c.record(record{node: n.id, kind: recDurable, first: idx, last: idx})
	if b := c.check.durable(n.idx, &n.disk, from); b != nil {
		c.fail(b)
	}
}

func head(q []engine.Effect) engine.Effect {
	if len(q) == 0 {
		return nil
	}
	return q[0]
}
