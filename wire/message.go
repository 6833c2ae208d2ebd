package wire

import "github.com/wraft/wraft/raft"

// AppendMessage appends the framed encoding of m: the version byte, then
//
//	u8 type, uvarint from, to, term, logTerm, index, commit,
//	bool reject, uvarint rejectHint, bytes context, entries
//
// where entries is as AppendEntries writes them. A MsgSnap, and only a
// MsgSnap, continues with its snapshot chunk as AppendSnapshotChunk writes
// it (a zero chunk if m.Snapshot is nil); other types never encode
// m.Snapshot. Limits are not checked: see DecodeMessage.
func AppendMessage(b []byte, m raft.Message) []byte {
	b = append(b, Version, byte(m.Type))
	b = AppendUvarint(b, m.From)
	b = AppendUvarint(b, m.To)
	b = AppendUvarint(b, m.Term)
	b = AppendUvarint(b, m.LogTerm)
	b = AppendUvarint(b, m.Index)
	b = AppendUvarint(b, m.Commit)
	b = AppendBool(b, m.Reject)
	b = AppendUvarint(b, m.RejectHint)
	b = AppendBytes(b, m.Context)
	b = AppendEntries(b, m.Entries)
	if m.Type == raft.MsgSnap {
		var c raft.SnapshotChunk
		if m.Snapshot != nil {
			c = *m.Snapshot
		}
		b = AppendSnapshotChunk(b, c)
	}
	return b
}

// DecodeMessage decodes a Message that AppendMessage encoded, which must
// fill b exactly. It refuses an input over MaxMessageBytes, an unknown
// version, message type or entry type, more than MaxEntries entries, an
// entry's Data over MaxEntryBytes, a Context over MaxContextBytes, a
// MsgSnap without its chunk and a chunk's Data over MaxSnapshotChunkBytes.
// The Message shares no memory with b; Snapshot is nil unless Type is
// MsgSnap.
func DecodeMessage(b []byte) (raft.Message, error) {
	r := NewReader(b, "wire: message")
	if len(b) > MaxMessageBytes {
		r.fail(0, ErrTooLarge, "too large ("+itoa(len(b))+" > "+itoa(MaxMessageBytes)+" bytes)")
		return raft.Message{}, r.Err()
	}
	m := ReadMessage(r)
	if err := r.Done(); err != nil {
		return raft.Message{}, err
	}
	return m, nil
}

// ReadMessage reads a framed Message, version byte included, as
// DecodeMessage does, but leaves the end of input to the caller. It does
// not check MaxMessageBytes: a caller embedding messages bounds them with
// BeginFrame. It returns the zero Message if r has failed.
func ReadMessage(r *Reader) raft.Message {
	var m raft.Message
	r.Version(Version)
	at := r.Offset()
	m.Type = raft.MessageType(r.Byte())
	if r.Err() == nil && !m.Type.Valid() {
		r.Invalid(at, "has unknown message type "+itoa(int(m.Type)))
	}
	m.From = r.Uvarint()
	m.To = r.Uvarint()
	m.Term = r.Uvarint()
	m.LogTerm = r.Uvarint()
	m.Index = r.Uvarint()
	m.Commit = r.Uvarint()
	m.Reject = r.Bool()
	m.RejectHint = r.Uvarint()
	m.Context = r.Bytes("context", MaxContextBytes)
	m.Entries = ReadEntries(r, MaxEntries)
	if m.Type == raft.MsgSnap {
		m.Snapshot = ReadSnapshotChunk(r)
	}
	if r.Err() != nil {
		return raft.Message{}
	}
	return m
}

// minEntryBytes is the size of the smallest encoded entry: four one-byte
// fields.
const minEntryBytes = 4

// AppendEntry appends e as
//
//	uvarint term, uvarint index, u8 type, bytes data
func AppendEntry(b []byte, e raft.Entry) []byte {
	b = AppendUvarint(b, e.Term)
	b = AppendUvarint(b, e.Index)
	b = append(b, byte(e.Type))
	return AppendBytes(b, e.Data)
}

// ReadEntry reads an entry that AppendEntry encoded. An unknown entry type
// and a Data over MaxEntryBytes are errors. Data is a copy, nil when empty.
// It returns the zero Entry if r has failed.
func ReadEntry(r *Reader) raft.Entry {
	var e raft.Entry
	e.Term = r.Uvarint()
	e.Index = r.Uvarint()
	at := r.Offset()
	e.Type = raft.EntryType(r.Byte())
	if r.Err() == nil && !e.Type.Valid() {
		r.Invalid(at, "has unknown entry type "+itoa(int(e.Type)))
	}
	e.Data = r.Bytes("entry data", MaxEntryBytes)
	if r.Err() != nil {
		return raft.Entry{}
	}
	return e
}

// AppendEntries appends len(es) as a uvarint, then each entry as
// AppendEntry writes it.
func AppendEntries(b []byte, es []raft.Entry) []byte {
	b = AppendUvarint(b, uint64(len(es)))
	for _, e := range es {
		b = AppendEntry(b, e)
	}
	return b
}

// ReadEntries reads a list that AppendEntries encoded, of at most max
// entries. It returns nil for an empty list and after any error.
func ReadEntries(r *Reader, max int) []raft.Entry {
	n := r.Count("entries", max, minEntryBytes)
	if n == 0 {
		return nil
	}
	es := make([]raft.Entry, n)
	for i := range es {
		es[i] = ReadEntry(r)
		if r.Err() != nil {
			return nil
		}
	}
	return es
}

// AppendHardState appends h as three uvarints: term, vote, commit.
func AppendHardState(b []byte, h raft.HardState) []byte {
	b = AppendUvarint(b, h.Term)
	b = AppendUvarint(b, h.Vote)
	return AppendUvarint(b, h.Commit)
}

// ReadHardState reads a HardState that AppendHardState encoded.
// It returns the zero HardState if r has failed.
func ReadHardState(r *Reader) raft.HardState {
	h := raft.HardState{Term: r.Uvarint(), Vote: r.Uvarint(), Commit: r.Uvarint()}
	if r.Err() != nil {
		return raft.HardState{}
	}
	return h
}
