package engine

import (
	"errors"
	"slices"
	"strconv"

	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

type requestKind uint8

const (
	requestWrite requestKind = iota
	requestRead
	// requestConf waits for its configuration change entry (index, term)
	// to apply. It is never re-proposed: a new leader may already hold it.
	requestConf
)

// request is a client request waiting for its final reply.
//
// A write waits until its command (ClientID, Seq) is applied here. It is
// proposed again whenever this node learns of a new leader: the old one may
// have lost it, and the store's sessions make a second copy harmless.
//
// A read waits first for a read index, then for the store to apply it.
type request struct {
	id       uint64
	kind     requestKind
	cmd      kv.Command
	data     []byte // the encoded command, for writes
	key      string // for reads
	deadline uint64
	// sentTo is the leader the request last went to, 0 while it waits for
	// one.
	sentTo uint64
	// readIndex is set once the leader answered a read.
	readIndex uint64
	hasIndex  bool
	// confIndex and confTerm locate a configuration change in the log.
	confIndex, confTerm uint64
	since               uint64 // tick the request arrived
	retryAt             uint64 // tick at which a forwarded request is sent again
	pending             bool   // a ReplyPending was sent
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func (e *Engine) reply(rq *request, r Reply) {
	r.RequestID = rq.id
	r.Voters = e.node.Voters()
	r.Alive = e.node.Alive()
	r.Leader = e.node.Leader()
	e.replies = append(e.replies, r)
}

func (e *Engine) refuse(id uint64, code ReplyCode, why string) {
	e.reply(&request{id: id}, Reply{Code: code, Error: why})
}

// propose handles a client's write.
func (e *Engine) propose(p Propose) {
	if err := Validate(p); err != nil {
		e.refuse(p.RequestID, ReplyInvalid, err.Error())
		return
	}
	data := kv.AppendCommand(nil, p.Command)
	for _, rq := range e.requests {
		if rq.kind == requestWrite && rq.cmd.ClientID == p.Command.ClientID && rq.cmd.Seq == p.Command.Seq {
			if kv.SameEffect(rq.cmd, p.Command) {
				e.refuse(p.RequestID, ReplyInvalid, "engine: client "+u(p.Command.ClientID)+" sequence "+
					u(p.Command.Seq)+" is already in flight")
			} else {
				e.refuse(p.RequestID, ReplySessionConflict, kv.ErrSessionReused.Error()+" (client "+
					u(p.Command.ClientID)+", sequence "+u(p.Command.Seq)+")")
			}
			return
		}
	}
	if !e.admit(p.RequestID) {
		return
	}
	rq := &request{id: p.RequestID, kind: requestWrite, cmd: p.Command, data: data,
		deadline: e.now + uint64(e.cfg.RequestTimeoutTicks), since: e.now}
	e.requests = append(e.requests, rq)
	e.submit(rq)
}

// read handles a client's read.
func (e *Engine) read(r Read) {
	if err := Validate(r); err != nil {
		e.refuse(r.RequestID, ReplyInvalid, err.Error())
		return
	}
	if r.Stale {
		v, ok := e.store.Get(r.Key)
		e.reply(&request{id: r.RequestID}, Reply{Code: ReplyOK, Index: e.applied, Found: ok, Value: v, OK: true})
		return
	}
	if !e.admit(r.RequestID) {
		return
	}
	rq := &request{id: r.RequestID, kind: requestRead, key: r.Key,
		deadline: e.now + uint64(e.cfg.RequestTimeoutTicks), since: e.now}
	e.requests = append(e.requests, rq)
	e.submit(rq)
}

// admit checks the bound on waiting requests.
func (e *Engine) admit(id uint64) bool {
	if len(e.requests) >= e.cfg.MaxPending {
		e.refuse(id, ReplyOverloaded, "engine: overloaded ("+strconv.Itoa(len(e.requests))+" requests waiting)")
		return false
	}
	return true
}

// submit hands a request to Raft: it proposes a write or asks for a read
// index. With no leader to take it, the request waits, and the client is
// told so; tickRequests fails it if a majority stays unreachable.
func (e *Engine) submit(rq *request) {
	var err error
	if rq.kind == requestWrite {
		_, err = e.node.Propose(rq.data)
	} else {
		err = e.node.ReadIndex(readContext(rq.id))
	}
	if err == nil {
		rq.sentTo = e.node.Leader()
		rq.retryAt = e.now + uint64(e.cfg.Raft.ElectionTicks)
		return
	}
	rq.sentTo = 0
	if !rq.pending {
		rq.pending = true
		why := "election in progress"
		if errors.Is(err, raft.ErrTransferring) {
			why = "leadership transfer in progress"
		}
		e.reply(rq, Reply{Code: ReplyPending, Error: why})
	}
}

// noQuorum reports whether this node has been up long enough to judge and
// hears from fewer voters than a majority.
func (e *Engine) noQuorum() bool {
	return e.now > uint64(e.cfg.Raft.ElectionTicks) && e.node.Alive() < e.node.Voters()/2+1
}

// fail answers rq with a failure and forgets it.
func (e *Engine) fail(rq *request, code ReplyCode) {
	why := "engine: request timed out"
	if code == ReplyNoQuorum {
		why = "no quorum (only " + strconv.Itoa(e.node.Alive()) + "/" + strconv.Itoa(e.node.Voters()) + " alive)"
	}
	e.reply(rq, Reply{Code: code, Error: why})
	if i := slices.Index(e.requests, rq); i >= 0 {
		e.requests = slices.Delete(e.requests, i, i+1)
		if rq.kind == requestConf {
			e.confWaiting--
		}
	}
}

// tickRequests fails requests past their deadline and resubmits those that
// wait for a leader or whose leader changed.
func (e *Engine) tickRequests() {
	leader, noQuorum := e.node.Leader(), e.noQuorum()
	for i := 0; i < len(e.requests); {
		rq, before := e.requests[i], len(e.requests)
		switch {
		case e.now >= rq.deadline:
			code := ReplyTimeout
			if noQuorum {
				code = ReplyNoQuorum
			}
			e.fail(rq, code)
		case rq.hasIndex || rq.kind == requestConf:
			// A read with its index waits only for the store to catch up; a
			// configuration change only for its entry to apply.
		case rq.sentTo == 0 && leader == 0 && noQuorum && e.now-rq.since >= uint64(e.cfg.Raft.ElectionTicks):
			e.fail(rq, ReplyNoQuorum)
		case leader != 0 && rq.sentTo != leader:
			e.submit(rq)
		case leader != 0 && leader != e.node.ID() && e.now >= rq.retryAt:
			// The request went to another node and nothing came back: the
			// network may have lost it. Sessions make a second copy safe.
			e.submit(rq)
		}
		if len(e.requests) == before { // fail removes rq from the list
			i++
		}
	}
}

// readContext identifies a read in ReadIndex.
func readContext(id uint64) []byte {
	return []byte{byte(id >> 56), byte(id >> 48), byte(id >> 40), byte(id >> 32), byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
}

// readState records the read index the leader gave a read.
func (e *Engine) readState(rs raft.ReadState) {
	if len(rs.Context) != 8 {
		return
	}
	var id uint64
	for _, c := range rs.Context {
		id = id<<8 | uint64(c)
	}
	for _, rq := range e.requests {
		if rq.kind != requestRead || rq.id != id || rq.hasIndex {
			continue
		}
		if rs.Rejected {
			// Leadership changed under the read: ask the next leader.
			rq.sentTo = 0
			return
		}
		rq.readIndex, rq.hasIndex = rs.Index, true
		return
	}
}

// serveReads answers the reads whose index the store has reached.
func (e *Engine) serveReads() {
	for i := 0; i < len(e.requests); {
		rq := e.requests[i]
		if rq.kind != requestRead || !rq.hasIndex || e.applied < rq.readIndex {
			i++
			continue
		}
		v, ok := e.store.Get(rq.key)
		e.reply(rq, Reply{Code: ReplyOK, Index: rq.readIndex, Found: ok, Value: v, OK: true})
		e.requests = slices.Delete(e.requests, i, i+1)
	}
}

// changeMembers proposes a configuration change on the leader.
func (e *Engine) changeMembers(c ChangeMembers) {
	if err := Validate(c); err != nil {
		e.refuse(c.RequestID, ReplyInvalid, err.Error())
		return
	}
	if !e.admit(c.RequestID) {
		return
	}
	p, err := e.node.ProposeConfChange(c.Change)
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		e.reply(&request{id: c.RequestID}, Reply{Code: ReplyNotLeader, Error: "engine: membership changes go to the leader"})
		return
	case errors.Is(err, raft.ErrConfChangePending), errors.Is(err, raft.ErrLearnerBehind), errors.Is(err, raft.ErrTransferring):
		e.refuse(c.RequestID, ReplyConflict, err.Error())
		return
	case err != nil:
		e.refuse(c.RequestID, ReplyInvalid, err.Error())
		return
	}
	e.confWaiting++
	e.requests = append(e.requests, &request{id: c.RequestID, kind: requestConf, confIndex: p.Index, confTerm: p.Term,
		deadline: e.now + uint64(e.cfg.RequestTimeoutTicks), since: e.now, sentTo: e.node.ID()})
}

// appliedConf answers the request waiting on a configuration change, or
// one whose entry another has replaced at the same index.
func (e *Engine) appliedConf(ent raft.Entry) {
	for i, rq := range e.requests {
		if rq.kind != requestConf || rq.confIndex != ent.Index {
			continue
		}
		if rq.confTerm == ent.Term && ent.Type == raft.EntryConfChange {
			e.reply(rq, Reply{Code: ReplyOK, Index: ent.Index, Term: ent.Term, OK: true})
		} else {
			e.reply(rq, Reply{Code: ReplyNotLeader, Error: "engine: leadership changed before the membership change committed; it did not apply"})
		}
		e.requests = slices.Delete(e.requests, i, i+1)
		e.confWaiting--
		return
	}
}
