package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// recordType says what a record's payload holds. Values are part of the
// file format: never renumber.
type recordType uint8

const (
	recHeader recordType = 1 // segment header: version, seq, first, hard state
	recSave   recordType = 2 // one save: hard state, entries (ends a save)
	recPart   recordType = 3 // entries: a leading piece of a save
	recMark   recordType = 4 // snapshot mark: index, term, flags, hard state
)

func (t recordType) known() bool { return t >= recHeader && t <= recMark }

// Flags of a mark record.
const (
	markKeep   = 1 << 0 // the log after the snapshot stays
	markRebase = 1 << 1 // written by Open when it fell back to an older snapshot
)

const (
	// formatVersion is the header record's version byte. Version 1
	// headers, without the snapshot fields, and version 2 headers,
	// without the preallocated size, are still read. A directory whose log
	// has a version 3 header must also hold a hard-state file.
	formatVersion = 3
	// headerBytes is the size of a record's header: length, CRC, type.
	headerBytes = 9
	// maxPayloadBytes is the largest payload Open accepts. Writers split
	// larger saves into part records.
	maxPayloadBytes = 64 << 20
	// saveSlackBytes bounds what a save record holds besides its entries:
	// a hard state (3 uvarints) and an entry count.
	saveSlackBytes = 3*10 + 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordCRC returns the checksum of a record: CRC-32C over its length field
// (hdr[0:4]), its type byte (hdr[8]) and its payload.
func recordCRC(hdr []byte, payload []byte) uint32 {
	crc := crc32.Update(0, castagnoli, hdr[0:4])
	crc = crc32.Update(crc, castagnoli, hdr[8:9])
	return crc32.Update(crc, castagnoli, payload)
}

// beginRecord appends the header of a record of type t with the length and
// CRC left blank; endRecord fills them in once the payload follows.
func beginRecord(b []byte, t recordType) (_ []byte, start int) {
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0, byte(t)), len(b)
}

func endRecord(b []byte, start int) []byte {
	hdr := b[start : start+headerBytes]
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(b)-start-headerBytes))
	binary.LittleEndian.PutUint32(hdr[4:8], recordCRC(hdr, b[start+headerBytes:]))
	return b
}

// segmentHeader is the payload of a header record.
type segmentHeader struct {
	seq   uint64
	first uint64
	// prevSize is the size of the segment before this one when this one
	// was made, and so forever after (0 for the first segment).
	prevSize int64
	hs       raft.HardState
	// snap and snapTerm are the newest snapshot mark's index and term when
	// the segment was made (0, 0 if none).
	snap, snapTerm uint64
	// prealloc is the size the file was preallocated to before the header
	// was written (0 if it was not): a newest segment shorter than that
	// was cut. Version 3 on.
	prealloc int64
	// version is the header's format version, as read (decodeHeader
	// only).
	version byte
}

func appendHeaderRecord(b []byte, h segmentHeader) []byte {
	b, start := beginRecord(b, recHeader)
	b = append(b, formatVersion)
	b = wire.AppendUvarint(b, h.seq)
	b = wire.AppendUvarint(b, h.first)
	b = wire.AppendUvarint(b, uint64(h.prevSize))
	b = wire.AppendHardState(b, h.hs)
	b = wire.AppendUvarint(b, h.snap)
	b = wire.AppendUvarint(b, h.snapTerm)
	b = wire.AppendUvarint(b, uint64(h.prealloc))
	return endRecord(b, start)
}

func decodeHeader(p []byte) (segmentHeader, error) {
	r := wire.NewReader(p, "storage: header record")
	v := r.Byte()
	if r.Err() == nil && (v < 1 || v > formatVersion) {
		r.Invalid(0, fmt.Sprintf("has unknown version %d", v))
	}
	h := segmentHeader{seq: r.Uvarint(), first: r.Uvarint()}
	at := r.Offset()
	if h.prevSize = int64(r.Uvarint()); h.prevSize < 0 {
		r.Invalid(at, "has a previous segment size out of range")
	}
	h.hs = wire.ReadHardState(r)
	if v >= 2 {
		h.snap, h.snapTerm = r.Uvarint(), r.Uvarint()
	}
	if v >= 3 {
		at := r.Offset()
		if h.prealloc = int64(r.Uvarint()); h.prealloc < 0 {
			r.Invalid(at, "has a preallocated size out of range")
		}
	}
	h.version = v
	return h, r.Done()
}

func appendMarkRecord(b []byte, m mark) []byte {
	b, start := beginRecord(b, recMark)
	b = wire.AppendUvarint(b, m.index)
	b = wire.AppendUvarint(b, m.term)
	var flags byte
	if m.keep {
		flags |= markKeep
	}
	if m.rebase {
		flags |= markRebase
	}
	b = append(b, flags)
	b = wire.AppendHardState(b, m.hs)
	return endRecord(b, start)
}

func decodeMark(p []byte) (mark, error) {
	r := wire.NewReader(p, "storage: snapshot mark record")
	m := mark{index: r.Uvarint(), term: r.Uvarint()}
	at := r.Offset()
	flags := r.Byte()
	if flags&^(markKeep|markRebase) != 0 {
		r.Invalid(at, fmt.Sprintf("has unknown flags %#x", flags))
	}
	m.keep, m.rebase = flags&markKeep != 0, flags&markRebase != 0
	m.hs = wire.ReadHardState(r)
	return m, r.Done()
}

// entryBytes returns the size of e as wire.AppendEntry encodes it.
func entryBytes(e raft.Entry) int {
	return uvarintBytes(e.Term) + uvarintBytes(e.Index) + 1 + uvarintBytes(uint64(len(e.Data))) + len(e.Data)
}

func uvarintBytes(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// appendSave appends the records of one save: the entries in part records
// of at most maxPayload bytes (and wire.MaxEntries entries) each, then a
// save record with the rest and hs. Most saves are a single save record.
func appendSave(b []byte, hs raft.HardState, ents []raft.Entry, maxPayload int) []byte {
	for {
		// Take as many entries as fit beside the save record's extras; at
		// least one, which always fits (wire.MaxEntryBytes is far below
		// maxPayloadBytes).
		n, size := 0, saveSlackBytes
		for n < len(ents) && n < wire.MaxEntries {
			s := entryBytes(ents[n])
			if n > 0 && size+s > maxPayload {
				break
			}
			size += s
			n++
		}
		var start int
		if n == len(ents) {
			b, start = beginRecord(b, recSave)
			b = wire.AppendHardState(b, hs)
			b = wire.AppendEntries(b, ents)
			return endRecord(b, start)
		}
		b, start = beginRecord(b, recPart)
		b = wire.AppendEntries(b, ents[:n])
		b = endRecord(b, start)
		ents = ents[n:]
	}
}

func decodeSave(p []byte) (raft.HardState, []raft.Entry, error) {
	r := wire.NewReader(p, "storage: save record")
	hs := wire.ReadHardState(r)
	ents := wire.ReadEntries(r, wire.MaxEntries)
	return hs, ents, r.Done()
}

func decodePart(p []byte) ([]raft.Entry, error) {
	r := wire.NewReader(p, "storage: part record")
	ents := wire.ReadEntries(r, wire.MaxEntries)
	return ents, r.Done()
}
