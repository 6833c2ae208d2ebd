// Package engine joins the Raft protocol and the key-value state machine
// behind one call, Handle(inputs) → effects. It is the whole deterministic
// core of wraft: the same inputs give the same effects, byte for byte,
// whether the engine is linked natively or runs inside raft.wasm.
package engine

import (
	"errors"
	"slices"

	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// Core is what hosts and the simulator drive: an Engine linked natively,
// or raft.wasm in a WebAssembly runtime. Handle carries inputs in and
// effects out; the returned slice belongs to the caller. Bad requests are
// answered with replies, never with an error. An error wrapping
// ErrInputRejected means the core refused the batch's encoding as a whole
// and handled none of it, and is intact. Any other error means the core
// itself failed (a trap in the wasm runtime, say) and must be recreated
// from storage. The native Engine never returns an error.
type Core interface {
	Handle(in []Input) ([]Effect, error)
}

// Engine is a Raft node with its key-value store. It is not safe for
// concurrent use.
type Engine struct {
	cfg   Config
	node  *raft.Node
	store *kv.Store
	// now counts ticks since the engine started.
	now uint64
	// applied is the index of the last entry applied (no-ops included).
	applied uint64
	// requests waiting for an answer, in arrival order.
	requests []*request
	// confWaiting counts the requests of kind requestConf.
	confWaiting int
	// replies collects the answers of the current Handle call.
	replies    []Effect
	lastStatus Status
	hasStatus  bool
	scratch    Status
}

// New returns an engine that recovers from r, what storage holds. Entries
// committed before a crash are applied again by the first Handle call.
func New(cfg Config, r Restored) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	node, err := raft.New(cfg.Raft, r.HardState, r.Snapshot, r.Entries)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, node: node, store: kv.New()}
	if r.Snapshot != nil {
		if err := e.store.Restore(r.Snapshot.Data); err != nil {
			return nil, errors.New("engine: restoring the snapshot at index " + u(r.Snapshot.Meta.Index) + ": " + err.Error())
		}
		e.applied = r.Snapshot.Meta.Index
	}
	return e, nil
}

// Handle carries out inputs in order and returns the effects the host must
// carry out, in order (see Effect). It never fails: bad inputs are answered
// with replies or events.
func (e *Engine) Handle(in []Input) ([]Effect, error) {
	for _, x := range in {
		e.handle(x)
	}
	return e.collect(), nil
}

func (e *Engine) handle(x Input) {
	switch x := x.(type) {
	case Tick:
		e.now++
		e.node.Tick()
		e.tickRequests()
	case Receive:
		// Malformed and foreign messages are reported as events by Step.
		_ = e.node.Step(x.Message)
	case Propose:
		e.propose(x)
	case Read:
		e.read(x)
	case StorageAck:
		e.node.StorageAck(x.Index, x.Term)
	case ChangeMembers:
		e.changeMembers(x)
	case Malformed:
		if x.Request {
			e.refuse(x.RequestID, ReplyInvalid, x.Err)
		} else {
			e.replies = append(e.replies, Emit{Event: raft.Event{Kind: raft.EventMessageRejected, Text: x.Err}})
		}
	case Transfer:
		if err := e.node.TransferLeadership(x.To); err != nil {
			e.replies = append(e.replies, Emit{Event: raft.Event{Kind: raft.EventTransferAborted, Peer: x.To,
				Text: "cannot transfer leadership to node " + u(x.To) + ": " + err.Error()}})
		}
	}
}

// collect turns the node's Ready into effects, in the order the host must
// carry them out: persist, send, reply, events, status.
func (e *Engine) collect() []Effect {
	rd := e.node.Ready()
	var out []Effect
	if rd.Snapshot != nil {
		// The store restarts from the leader's snapshot, before anything
		// after it is stored or applied.
		out = append(out, SaveSnapshot{Snapshot: *rd.Snapshot, KeepLog: rd.SnapshotKeepLog})
		e.restore(*rd.Snapshot)
	}
	if rd.HardStateChanged || len(rd.Entries) > 0 {
		out = append(out, Persist{HardState: rd.HardState, Entries: rd.Entries})
	}
	for _, m := range rd.Messages {
		out = append(out, Send{Message: m})
	}
	for _, ent := range rd.Committed {
		e.apply(ent)
	}
	if snap, ok := e.maybeSnapshot(); ok {
		out = append(out, SaveSnapshot{Snapshot: snap, KeepLog: true})
	}
	for _, rs := range rd.ReadStates {
		e.readState(rs)
	}
	e.serveReads()
	// Replies and engine events in the order they arose, then the
	// protocol's events.
	out = append(out, e.replies...)
	e.replies = e.replies[:0]
	for _, ev := range rd.Events {
		out = append(out, Emit{Event: ev})
	}
	// The status is rebuilt in a scratch value every call and copied out
	// only when it changed.
	e.statusInto(&e.scratch)
	if !e.hasStatus || !e.scratch.equal(e.lastStatus) {
		// lastStatus is only ever replaced, never modified, so the report
		// can share its slices.
		e.lastStatus, e.hasStatus = e.scratch.clone(), true
		out = append(out, StatusReport{Status: e.lastStatus})
	}
	return out
}

// apply applies one committed entry and answers the request waiting on it.
func (e *Engine) apply(ent raft.Entry) {
	e.applied = ent.Index
	if e.confWaiting > 0 {
		e.appliedConf(ent)
	}
	if ent.Type != raft.EntryNormal {
		return
	}
	cmd, err := kv.DecodeCommand(ent.Data)
	if err != nil {
		// Entries are validated before they are proposed, so only a peer
		// running other code could commit this. Skip it on every node alike.
		e.replies = append(e.replies, Emit{Event: raft.Event{Kind: raft.EventMessageRejected, Index: ent.Index,
			Text: "skipped undecodable entry at index " + u(ent.Index) + ": " + err.Error()}})
		return
	}
	res := e.store.Apply(ent.Index, cmd)
	code := ReplyOK
	if res.SessionReused() {
		code = ReplySessionConflict
	}
	for i, rq := range e.requests {
		// The request of this very command: another command with the same
		// session and sequence number has another result.
		if rq.kind == requestWrite && rq.cmd.ClientID == cmd.ClientID && rq.cmd.Seq == cmd.Seq && string(rq.data) == string(ent.Data) {
			e.reply(rq, Reply{Code: code, Index: ent.Index, Term: ent.Term, Acks: e.node.Acks(ent.Index),
				Found: res.Found, Value: res.Value, OK: res.OK, Error: res.Err})
			e.requests = slices.Delete(e.requests, i, i+1)
			break
		}
	}
}

// Status returns the engine's current status.
func (e *Engine) Status() Status {
	var s Status
	e.statusInto(&s)
	return s
}

func (e *Engine) statusInto(s *Status) {
	e.node.StatusInto(&s.Status)
	s.Applied, s.Keys, s.Pending = e.applied, e.store.Len(), len(e.requests)
}

// clone returns a copy of s that shares no memory with it.
func (s Status) clone() Status {
	s.Voters = slices.Clone(s.Voters)
	s.Members = slices.Clone(s.Members)
	s.Progress = slices.Clone(s.Progress)
	return s
}

func (s Status) equal(o Status) bool {
	a, b := s.Status, o.Status
	if s.Applied != o.Applied || s.Keys != o.Keys || s.Pending != o.Pending ||
		!slices.Equal(a.Voters, b.Voters) || !slices.Equal(a.Progress, b.Progress) || !slices.Equal(a.Members, b.Members) {
		return false
	}
	return a.ID == b.ID && a.Role == b.Role && a.Term == b.Term && a.Vote == b.Vote && a.Leader == b.Leader &&
		a.Commit == b.Commit && a.LastIndex == b.LastIndex && a.LastTerm == b.LastTerm && a.Stable == b.Stable && a.Snapshot == b.Snapshot && a.FirstIndex == b.FirstIndex &&
		a.Alive == b.Alive && a.Transferee == b.Transferee && a.PreVote == b.PreVote && a.CheckQuorum == b.CheckQuorum
}
