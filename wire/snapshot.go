package wire

import "github.com/wraft/wraft/raft"

// minMemberBytes is the size of the smallest encoded Member: a one-byte
// id, the learner flag and an empty address.
const minMemberBytes = 3

// AppendMembers appends ms as a uvarint count, then each member as
//
//	uvarint id, bool learner, string addr
//
// in the order given. Limits are not checked: see ReadMembers.
func AppendMembers(b []byte, ms []raft.Member) []byte {
	b = AppendUvarint(b, uint64(len(ms)))
	for _, m := range ms {
		b = AppendUvarint(b, m.ID)
		b = AppendBool(b, m.Learner)
		b = AppendString(b, m.Addr)
	}
	return b
}

// ReadMembers reads a list that AppendMembers encoded: at most MaxVoters
// members, each Addr at most MaxAddrBytes. Order, duplicates and zero ids
// are not checked here: the core validates a configuration where it
// matters. It returns nil for an empty list and after any error.
func ReadMembers(r *Reader) []raft.Member {
	n := r.Count("members", MaxVoters, minMemberBytes)
	if n == 0 {
		return nil
	}
	ms := make([]raft.Member, n)
	for i := range ms {
		ms[i] = raft.Member{ID: r.Uvarint(), Learner: r.Bool(), Addr: r.String("member address", MaxAddrBytes)}
		if r.Err() != nil {
			return nil
		}
	}
	return ms
}

// AppendSnapshotMeta appends meta as
//
//	uvarint index, uvarint term, members
//
// where members is as AppendMembers writes them.
func AppendSnapshotMeta(b []byte, meta raft.SnapshotMeta) []byte {
	b = AppendUvarint(b, meta.Index)
	b = AppendUvarint(b, meta.Term)
	return AppendMembers(b, meta.Members)
}

// ReadSnapshotMeta reads a SnapshotMeta that AppendSnapshotMeta encoded.
// Members is nil when empty. It returns the zero SnapshotMeta if r has
// failed.
func ReadSnapshotMeta(r *Reader) raft.SnapshotMeta {
	meta := raft.SnapshotMeta{Index: r.Uvarint(), Term: r.Uvarint(), Members: ReadMembers(r)}
	if r.Err() != nil {
		return raft.SnapshotMeta{}
	}
	return meta
}

// AppendSnapshotChunk appends c as
//
//	snapshot meta, uvarint size, uvarint offset, bytes data
//
// where snapshot meta is as AppendSnapshotMeta writes it.
func AppendSnapshotChunk(b []byte, c raft.SnapshotChunk) []byte {
	b = AppendSnapshotMeta(b, c.Meta)
	b = AppendUvarint(b, c.Size)
	b = AppendUvarint(b, c.Offset)
	return AppendBytes(b, c.Data)
}

// ReadSnapshotChunk reads a SnapshotChunk that AppendSnapshotChunk
// encoded. A Data over MaxSnapshotChunkBytes is an error; Size and Offset
// are not checked against Data (the core does). It returns nil if r has
// failed.
func ReadSnapshotChunk(r *Reader) *raft.SnapshotChunk {
	c := &raft.SnapshotChunk{Meta: ReadSnapshotMeta(r)}
	c.Size = r.Uvarint()
	c.Offset = r.Uvarint()
	c.Data = r.Bytes("snapshot data", MaxSnapshotChunkBytes)
	if r.Err() != nil {
		return nil
	}
	return c
}
