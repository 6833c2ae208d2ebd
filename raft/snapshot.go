package raft

import (
	"errors"
	"slices"
)

// Defaults for snapshot transfer.
const (
	// DefaultMaxSnapshotChunkBytes is the size of one MsgSnap chunk.
	DefaultMaxSnapshotChunkBytes = 256 << 10
	// DefaultMaxSnapshotBytes bounds a snapshot a follower accepts.
	DefaultMaxSnapshotBytes = 1 << 30
)

// SnapshotMeta describes a snapshot: the index and term of the last entry
// it covers, and the configuration in force at that index.
type SnapshotMeta struct {
	Index   uint64
	Term    uint64
	Members []Member
}

// Snapshot is a state machine snapshot with its metadata. Data is opaque
// to the protocol and never modified once handed over: nodes and hosts
// share it.
type Snapshot struct {
	Meta SnapshotMeta
	Data []byte
}

// SnapshotChunk is the part of a snapshot one MsgSnap carries: the bytes
// [Offset, Offset+len(Data)) of a snapshot of Size bytes.
type SnapshotChunk struct {
	Meta   SnapshotMeta
	Size   uint64
	Offset uint64
	Data   []byte
}

// snapRecv is a snapshot a follower is receiving, chunk by chunk.
type snapRecv struct {
	meta SnapshotMeta
	size uint64
	buf  []byte
}

// SnapshotIndex returns the index of the newest snapshot the node holds,
// or 0.
func (n *Node) SnapshotIndex() uint64 {
	if n.snap == nil {
		return 0
	}
	return n.snap.Meta.Index
}

// Compact records snap, a snapshot of the state machine after applying
// every entry up to snap.Meta.Index, as the node's newest, and drops the
// log entries before it, keeping retain entries so that followers a little
// behind catch up from the log rather than by snapshot. The node sends
// snap to followers that need entries it no longer holds.
func (n *Node) Compact(snap Snapshot, retain uint64) error {
	meta := snap.Meta
	if meta.Index > n.log.applied {
		return errors.New("raft: compact: index " + u(meta.Index) + " is not applied (applied " + u(n.log.applied) + ")")
	}
	if meta.Index <= n.SnapshotIndex() {
		return nil
	}
	if t, ok := n.log.term(meta.Index); !ok || t != meta.Term {
		return errors.New("raft: compact: the log does not hold index " + u(meta.Index) + " in term " + u(meta.Term))
	}
	n.snap = snap.keep()
	if to := meta.Index - min(retain, meta.Index); to > n.log.offset() {
		n.log.compactTo(to)
	}
	return nil
}

// keep returns a copy of s for the node to hold: its own members list, the
// shared (immutable) data.
func (s Snapshot) keep() *Snapshot {
	s.Meta.Members = slices.Clone(s.Meta.Members)
	return &s
}

// sendSnapshot sends follower slot i the next chunk of the newest
// snapshot, one chunk at a time. It reports whether it sent one.
func (n *Node) sendSnapshot(i int) bool {
	pr := &n.prs[i]
	if n.snap == nil {
		return false
	}
	if pr.state != ProgressSnapshot || pr.pendingSnapshot != n.snap.Meta.Index {
		// A newer snapshot replaces one being sent: start it over.
		pr.becomeSnapshot(n.snap.Meta.Index)
	}
	if pr.probeSent {
		return false
	}
	data := n.snap.Data
	off := min(pr.snapOffset, uint64(len(data)))
	end := min(off+n.cfg.MaxSnapshotChunkBytes, uint64(len(data)))
	if off == 0 {
		n.event(EventSnapshotSending, n.members[i].ID, n.snap.Meta.Index, "sending snapshot at index "+
			u(n.snap.Meta.Index)+" ("+u(uint64(len(data)))+" bytes) to node "+u(n.members[i].ID))
	}
	n.send(Message{Type: MsgSnap, To: n.members[i].ID, Index: n.snap.Meta.Index, LogTerm: n.snap.Meta.Term,
		Commit: n.log.committed, Snapshot: &SnapshotChunk{Meta: n.snap.Meta, Size: uint64(len(data)), Offset: off, Data: data[off:end]}})
	pr.probeSent = true
	pr.snapSentAt = n.now
	return true
}

// snapResp handles a follower's acknowledgement of snapshot chunks.
func (n *Node) snapResp(i int, m Message) {
	pr := &n.prs[i]
	if pr.state != ProgressSnapshot || m.Index != pr.pendingSnapshot {
		return
	}
	if m.Reject {
		n.event(EventSnapshotSending, m.From, m.Index, "node "+u(m.From)+" refused the snapshot at index "+u(m.Index))
		pr.becomeProbe()
		pr.probeSent = true // wait for a heartbeat answer before trying again
		return
	}
	pr.snapOffset = m.RejectHint
	pr.probeSent = false
	n.sendSnapshot(i)
}

// handleSnapshot takes a chunk of a snapshot from the leader.
func (n *Node) handleSnapshot(m Message) {
	c := m.Snapshot
	meta := c.Meta
	if meta.Index <= n.log.committed {
		// We already hold everything it covers.
		n.recv = nil
		n.send(Message{Type: MsgAppResp, To: m.From, Index: n.log.committed})
		return
	}
	if c.Offset == 0 {
		if c.Size > n.cfg.MaxSnapshotBytes {
			n.event(EventMessageRejected, m.From, meta.Index, "refused snapshot at index "+u(meta.Index)+
				": "+u(c.Size)+" bytes exceeds the limit of "+u(n.cfg.MaxSnapshotBytes))
			n.send(Message{Type: MsgSnapResp, To: m.From, Index: meta.Index, Reject: true})
			return
		}
		n.recv = &snapRecv{meta: meta, size: c.Size, buf: make([]byte, 0, c.Size)}
	}
	r := n.recv
	if r == nil || r.meta.Index != meta.Index || r.meta.Term != meta.Term || r.size != c.Size {
		// A chunk of a snapshot we are not receiving: ask for its start.
		n.send(Message{Type: MsgSnapResp, To: m.From, Index: meta.Index, RejectHint: 0})
		return
	}
	if c.Offset == uint64(len(r.buf)) {
		r.buf = append(r.buf, c.Data...)
	}
	if uint64(len(r.buf)) < r.size {
		n.send(Message{Type: MsgSnapResp, To: m.From, Index: meta.Index, RejectHint: uint64(len(r.buf))})
		return
	}
	n.recv = nil
	n.restore(Snapshot{Meta: r.meta, Data: r.buf})
	n.send(Message{Type: MsgAppResp, To: m.From, Index: meta.Index})
}

// restore installs a snapshot from the leader. The log keeps its entries
// after the snapshot only if it holds the snapshot's last entry (same
// index and term); otherwise the whole log goes, since entries after a
// mismatch may conflict with the leader's.
func (n *Node) restore(snap Snapshot) {
	meta := snap.Meta
	// keep says the log keeps its entries after the snapshot; keepStored
	// tells the host whether its stored entries after it are still good.
	// They are not when this log replaced entries at or below the
	// snapshot's index that storage still holds, with what followed them:
	// then the host drops them all and the log hands over every entry after
	// the snapshot again.
	keep := n.log.matchTerm(meta.Index, meta.Term)
	keepStored := keep && n.log.unstable > meta.Index
	if keep {
		n.log.compactTo(meta.Index)
		if !keepStored {
			n.log.unstable = meta.Index + 1
		}
	} else {
		// Acknowledgements queued for entries this drops must not leave.
		msgs := n.out.Messages[:0]
		for _, m := range n.out.Messages {
			if m.Type != MsgAppResp || m.Reject || m.Index <= meta.Index {
				msgs = append(msgs, m)
			}
		}
		n.out.Messages = msgs
		if n.log.lastIndex() > meta.Index {
			n.event(EventLogTruncated, n.lead, meta.Index+1, "removed entries after index "+u(meta.Index)+
				": they do not follow the snapshot")
		}
		n.log.reset(meta.Index, meta.Term)
	}
	n.log.committed = meta.Index
	n.log.applied = meta.Index
	n.snap = snap.keep()
	n.setMembers(meta.Members)
	if n.out.Snapshot != nil {
		keepStored = keepStored && n.out.SnapshotKeepLog
	}
	n.out.Snapshot = n.snap
	n.out.SnapshotKeepLog = keepStored
	n.event(EventSnapshotInstalled, n.lead, meta.Index, "installed snapshot at index "+u(meta.Index)+
		" term "+u(meta.Term)+" ("+u(uint64(len(snap.Data)))+" bytes)")
}
