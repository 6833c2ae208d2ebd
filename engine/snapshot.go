package engine

import (
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// maybeSnapshot snapshots the store and compacts the log once the log
// holds SnapshotEntries applied entries past the last snapshot.
func (e *Engine) maybeSnapshot() (raft.Snapshot, bool) {
	if e.applied < e.node.SnapshotIndex()+uint64(e.cfg.SnapshotEntries) {
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
