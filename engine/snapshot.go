package engine

import (
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// leaderSnapshotFactor is how many times SnapshotEntries a leader's log
// grows past its last snapshot before it takes the next.
const leaderSnapshotFactor = 4

// snapshotPhases is how many distinct points in each snapshot interval
// the nodes' ids spread their snapshots over.
const snapshotPhases = 5

// maybeSnapshot snapshots the store and compacts the log once the log
// holds SnapshotEntries applied entries past the last snapshot.
//
// A leader waits for four times as many: serializing a large store pauses
// the core, and a leader that pauses stops its heartbeats, which can make
// the followers elect another; a follower that pauses only delays its
// acknowledgements. Followers, which snapshot at the same index, so keep
// out of the leader's way.
//
// Nodes snapshot at indexes of their own, k*every + phase with a phase
// that depends on the node's id: were the followers to pause together, the
// leader would hear from no majority for a while and, with CheckQuorum,
// step down.
func (e *Engine) maybeSnapshot() (raft.Snapshot, bool) {
	every := uint64(e.cfg.SnapshotEntries)
	if e.node.Leader() == e.node.ID() {
		every *= leaderSnapshotFactor
	}
	phase := e.node.ID() % snapshotPhases * (every / snapshotPhases)
	epoch := func(i uint64) uint64 { return (i + every - phase) / every }
	if epoch(e.applied) <= epoch(e.node.SnapshotIndex()) {
		return raft.Snapshot{}, false
	}
	snap := raft.Snapshot{
		Meta: raft.SnapshotMeta{Index: e.applied, Term: e.node.Term(e.applied), Members: e.node.Members()},
		Data: e.store.Snapshot(),
	}
	if err := e.node.Compact(snap, uint64(e.cfg.SnapshotRetain)); err != nil {
		e.replies = append(e.replies, Emit{Event: raft.Event{Kind: raft.EventCoreError, Index: e.applied,
			Text: "cannot compact the log: " + err.Error()}})
		return raft.Snapshot{}, false
	}
	e.replies = append(e.replies, Emit{Event: raft.Event{Kind: raft.EventLogCompacted, Index: e.applied,
		Text: "snapshot at index " + u(e.applied) + " (" + u(uint64(len(snap.Data))) + " bytes); log compacted"}})
	return snap, true
}

// restore replaces the store with a snapshot the leader sent. Writes that
// wait on entries the snapshot covers are proposed again when their retry
// comes due: the copy applies as a duplicate, answered from the session.
func (e *Engine) restore(snap raft.Snapshot) {
	store := kv.New()
	if err := store.Restore(snap.Data); err != nil {
		// The leader's own store produced these bytes; a checksum failure
		// means the core cannot go on safely.
		e.replies = append(e.replies, Emit{Event: raft.Event{Kind: raft.EventCoreError, Index: snap.Meta.Index,
			Text: "cannot restore the snapshot at index " + u(snap.Meta.Index) + ": " + err.Error()}})
		return
	}
	e.store = store
	e.applied = snap.Meta.Index
}
