package engine

import (
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// Input is one thing a host hands the engine: a tick, a message, a client
// request or a storage acknowledgement. The concrete types are Tick, Receive,
// Propose, Read, StorageAck, Transfer, ChangeMembers and Malformed.
type Input interface{ isInput() }

// Tick advances the engine's logical clock by one tick. Hosts deliver ticks
// at a fixed rate (the daemon's default is one every 20 ms); every timeout in
// the engine is counted in ticks.
type Tick struct{}

// Receive delivers a message from a peer.
type Receive struct {
	Message raft.Message
}

// Propose submits a client command. The engine answers with exactly one
// final Reply carrying RequestID (and perhaps a ReplyPending before it).
// RequestID is the host's; it must be unique among the host's requests in
// flight.
type Propose struct {
	RequestID uint64
	Command   kv.Command
}

// Read asks for Key's value. Unless Stale is set the read is linearizable:
// it is served through ReadIndex once this node has applied everything
// committed before the read began. A stale read is served at once from this
// node's state machine, which may lag the leader.
type Read struct {
	RequestID uint64
	Key       string
	Stale     bool
}

// StorageAck tells the engine that a Persist effect has been made durable:
// every entry up to Index (whose term is Term) is on stable storage. The
// leader counts its own copy of an entry towards the commit quorum only
// after this acknowledgement.
type StorageAck struct {
	Index uint64
	Term  uint64
}

// Transfer asks the cluster to hand leadership to node To (thesis §3.10).
// On a follower it is forwarded to the leader.
type Transfer struct {
	To uint64
}

// ChangeMembers asks the leader to change the cluster's membership, one
// server at a time. The final Reply comes once the change applies here
// (ReplyOK), or says why it cannot: ReplyNotLeader on a follower (Leader
// is a hint), ReplyConflict while another change is in progress or a
// learner to promote lags, ReplyInvalid for an impossible change.
type ChangeMembers struct {
	RequestID uint64
	Change    raft.ConfChange
}

// Malformed stands for an input whose bytes a host could not decode,
// although it could tell where they began and ended: raft.wasm's ABI
// decoder makes one for a Propose, Read or ChangeMembers (Request set,
// RequestID its id) or a Receive whose encoded fields are broken, so that
// one bad input costs only itself, never its batch. The engine answers a
// request with ReplyInvalid and Err, and reports any other Malformed as an
// EventMessageRejected event with Err.
type Malformed struct {
	Request   bool
	RequestID uint64
	Err       string
}

func (ChangeMembers) isInput() {}
func (Malformed) isInput()     {}
func (Tick) isInput()          {}
func (Receive) isInput()       {}
func (Propose) isInput()       {}
func (Read) isInput()          {}
func (StorageAck) isInput()    {}
func (Transfer) isInput()      {}
