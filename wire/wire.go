// Package wire is the binary encoding of the Raft protocol's values:
// messages, entries, hard state, snapshot metadata, members, events and
// status. It also provides the
// primitives that the kv and abi packages build their encodings from: an
// append-style encoder (AppendUvarint, AppendBytes, ...) and a Reader with a
// sticky error.
//
// Every encoding is a sequence of fields in a fixed order, with no padding
// and no alignment:
//
//   - uvarint: an unsigned integer in LEB128 form, 7 bits a byte, least
//     significant group first, the high bit set on every byte but the last.
//     Only the shortest form is accepted, so a multi-byte uvarint never ends
//     in a 0x00 byte, and at most 10 bytes (64 bits) are allowed.
//   - int: a Go int as a zigzag-encoded uvarint ((v << 1) ^ (v >> 63)).
//   - u8: one byte.
//   - bool: one byte, 0 or 1; any other value is invalid.
//   - bytes, string: a uvarint length followed by that many bytes. A length
//     of 0 decodes as a nil slice (or ""); the encoding does not tell nil
//     from empty.
//
// Decoders never panic, check every length against the bytes that remain
// and against the documented limits before they allocate, copy every byte
// slice they return out of the input (hosts reuse their buffers), and
// reject trailing bytes. Encodings are canonical: a value has exactly one
// encoding, so anything that decodes re-encodes to the same bytes.
//
// Errors wrap one of ErrTruncated, ErrTooLarge, ErrVersion and ErrInvalid;
// test with errors.Is.
package wire

import (
	"errors"
	"strconv"
)

// Version is the format version written as the first byte of every framed
// Message (see AppendMessage). A decoder refuses any other version with
// ErrVersion.
const Version = 1

// Limits enforced by the decoders. Encoders do not check them: a value
// beyond a limit encodes, but does not decode.
const (
	// MaxMessageBytes is the largest encoded Message, version byte included.
	MaxMessageBytes = 16 << 20
	// MaxEntries is the largest number of entries in one Message (and the
	// default limit for any list of entries).
	MaxEntries = 1 << 20
	// MaxEntryBytes is the largest Data of one entry.
	MaxEntryBytes = 8 << 20
	// MaxContextBytes is the largest Context of a Message.
	MaxContextBytes = 1 << 10
	// MaxTextBytes is the largest free-text string, such as an Event's
	// Text.
	MaxTextBytes = 64 << 10
	// MaxVoters is the largest number of voters (and of progress records)
	// in a Status.
	MaxVoters = 1 << 12
	// MaxAddrBytes is the largest Addr of a Member.
	MaxAddrBytes = 1 << 10
	// MaxSnapshotChunkBytes is the largest Data of the snapshot chunk a
	// MsgSnap carries. With the rest of the message it stays well within
	// MaxMessageBytes.
	MaxSnapshotChunkBytes = 4 << 20
)

// Sentinel errors. Every error a decoder returns wraps exactly one of them.
var (
	// ErrTruncated means the input ended inside a value.
	ErrTruncated = errors.New("wire: truncated")
	// ErrTooLarge means a length or count exceeds its limit.
	ErrTooLarge = errors.New("wire: too large")
	// ErrVersion means a format version byte has a value this decoder does
	// not know.
	ErrVersion = errors.New("wire: unsupported version")
	// ErrInvalid means the bytes are not a valid encoding: an unknown type
	// or tag, a bool other than 0 or 1, a non-minimal or overlong uvarint,
	// a value out of range, or trailing bytes.
	ErrInvalid = errors.New("wire: invalid encoding")
)

// decodeError is a decoding failure at a byte offset of the input, such as
// "wire: message truncated at byte 17".
type decodeError struct {
	what   string // the value being decoded, package-prefixed: "wire: message"
	reason string // "truncated", "has unknown type 99"
	offset int    // where the failing field begins
	err    error  // one of the sentinels
}

func (e *decodeError) Error() string {
	return e.what + " " + e.reason + " at byte " + strconv.Itoa(e.offset)
}

func (e *decodeError) Unwrap() error { return e.err }

func itoa(v int) string    { return strconv.Itoa(v) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }
