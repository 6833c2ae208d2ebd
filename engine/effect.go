package engine

import "github.com/wraft/wraft/raft"

// Effect is one thing the engine asks its host to do. Handle returns effects
// in the order the host must carry them out: above all, a Persist must be
// durable before any Send that follows it leaves the host. The concrete
// types are Persist, Send, Reply, Emit and StatusReport.
type Effect interface{ isEffect() }

// Persist asks the host to make state durable. When Entries is not empty,
// the host first deletes every stored entry whose index is at or above
// Entries[0].Index, then appends Entries in order. The host then stores
// HardState (always present; it replaces the stored one). Once durable, the
// host sends StorageAck with the last entry's index and term (or, with no
// entries, it need not acknowledge). A Persist with no entries whose term
// and vote equal the stored ones only raises the commit index, which Raft
// keeps in volatile state: the host may store it lazily, without holding
// back the effects after it.
type Persist struct {
	HardState raft.HardState
	Entries   []raft.Entry
}

// SaveSnapshot asks the host to make Snapshot durable, then to drop the
// stored entries up to its index, and every stored entry after it as well
// unless KeepLog is set, before it carries out any later effect. A node
// restarts from its newest snapshot and the entries after it. Snapshot.Data
// is shared and must not be modified. With KeepLog, the stored log still
// holds every entry the snapshot covers, so a host may write it in the
// background instead, dropping those entries only once it is durable.
type SaveSnapshot struct {
	Snapshot raft.Snapshot
	KeepLog  bool
}

// Send asks the host to deliver Message to node Message.To. Delivery may
// fail silently: Raft tolerates loss, duplication and reordering.
type Send struct {
	Message raft.Message
}

// ReplyCode says how a client request ended.
type ReplyCode uint8

// The reply codes. Values are part of the wire format.
const (
	// ReplyOK: the command committed and applied (Result says whether a CAS
	// or stale command took effect), or the read was served.
	ReplyOK ReplyCode = 0
	// ReplyPending is not final: the request is waiting, for example for an
	// election to end. A final reply with the same RequestID follows.
	ReplyPending ReplyCode = 1
	// ReplyNotLeader: the request could not be forwarded; Leader is a hint
	// (0 when unknown).
	ReplyNotLeader ReplyCode = 2
	// ReplyNoQuorum: fewer than a majority of voters are reachable
	// (Alive of Voters), so nothing can commit. A write refused this way
	// may still commit later if it had reached a log; retry it with the same
	// session sequence number to apply it at most once.
	ReplyNoQuorum ReplyCode = 3
	// ReplyTimeout: the request did not finish within the engine's request
	// timeout. As with ReplyNoQuorum, its outcome is unknown.
	ReplyTimeout ReplyCode = 4
	// ReplyInvalid: the request was malformed (Error says how) and was not
	// applied.
	ReplyInvalid ReplyCode = 5
	// ReplyOverloaded: too many requests are waiting; try again later.
	ReplyOverloaded ReplyCode = 6
	// ReplyConflict: the request cannot be carried out in the cluster's
	// present state (a membership change is in progress, a learner has not
	// caught up); it was not applied. Retry later.
	ReplyConflict ReplyCode = 7
	// ReplySessionConflict: the write reused its session's sequence number
	// with a different command (kv.ErrSessionReused; Error says so), and
	// did not apply. The command that first had the number applied at most
	// once; its result is not this one's.
	ReplySessionConflict ReplyCode = 8
)

// String returns the code's name in lower case, such as "no-quorum".
func (c ReplyCode) String() string {
	switch c {
	case ReplyOK:
		return "ok"
	case ReplyPending:
		return "pending"
	case ReplyNotLeader:
		return "not-leader"
	case ReplyNoQuorum:
		return "no-quorum"
	case ReplyTimeout:
		return "timeout"
	case ReplyInvalid:
		return "invalid"
	case ReplyOverloaded:
		return "overloaded"
	case ReplyConflict:
		return "conflict"
	case ReplySessionConflict:
		return "session-conflict"
	}
	return "unknown"
}

// Reply answers a Propose or Read.
type Reply struct {
	RequestID uint64
	Code      ReplyCode
	// Index is the log index the command committed at, or the read index.
	Index uint64
	// Term is the term of the entry at Index.
	Term uint64
	// Acks is how many voters this node knows to hold the entry when it
	// replied (on the leader; 0 when unknown, as on a follower), of Voters.
	Acks   int
	Voters int
	// Alive is how many voters this node has heard from recently.
	Alive int
	// Leader is the current leader as this node knows it, or 0.
	Leader uint64
	// Found, Value and OK, Error describe the result, as kv.Result does.
	Found bool
	Value []byte
	OK    bool
	Error string
}

// Emit carries an event for logs and dashboards.
type Emit struct {
	Event raft.Event
}

// StatusReport carries the node's status; the engine emits one at the end of
// a Handle call whenever something in it changed.
type StatusReport struct {
	Status Status
}

func (SaveSnapshot) isEffect() {}
func (Persist) isEffect()      {}
func (Send) isEffect()         {}
func (Reply) isEffect()        {}
func (Emit) isEffect()         {}
func (StatusReport) isEffect() {}
