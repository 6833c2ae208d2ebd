package storage

import (
	"errors"
	"strconv"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrCorrupt means Open found damage it must not repair: the directory
	// holds acknowledged data it cannot read back. The error is a
	// *CorruptError naming the file and byte offset.
	ErrCorrupt = errors.New("storage: corrupt log")

	// ErrInvalid means Enqueue, Save or SaveSnapshot refused a save or
	// snapshot that would break the log's rules, and wrote nothing. The
	// rules, which Open checks again on every record: entries are
	// contiguous (each index one above the last) and start at an index from
	// the snapshot's index + 1 (1 without one) to the last index + 1, above
	// the commit index (committed entries are never overwritten); every
	// entry has a known type, at most wire.MaxEntryBytes of data, and a term
	// that is at least 1, at least the term of the entry (or snapshot)
	// before it, and at most the hard state's term; the hard state's term
	// never goes down, nor does its commit index, which stays at most the
	// last index; within one term the vote, once cast, never changes. A
	// snapshot has an index and a term of at least 1, neither below the
	// previous snapshot's (the same index only with the same term), and
	// does not drop committed entries (without keepLog, its index is at
	// least the commit index). The engine keeps all of these; a refusal
	// means a bug upstream.
	ErrInvalid = errors.New("storage: invalid save")

	// ErrClosed means the WAL was closed.
	ErrClosed = errors.New("storage: closed")

	// ErrLocked means another WAL, in this process or another, has the
	// directory open.
	ErrLocked = errors.New("storage: directory in use")
)

// CorruptError describes damage found by Open. It wraps ErrCorrupt.
type CorruptError struct {
	// Path is the segment or snapshot file, as Options.Dir joined with its
	// name.
	Path string
	// Offset is the byte offset in Path of the first damaged record.
	Offset int64
	// Reason says what is wrong, such as "checksum mismatch".
	Reason string
}

// Error returns a message such as "storage: corrupt log: dir/0000000000000000-0000000000000001.wal
// at byte 4120: checksum mismatch".
func (e *CorruptError) Error() string {
	return ErrCorrupt.Error() + ": " + e.Path + " at byte " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
