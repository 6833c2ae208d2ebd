// Package storage is the durable store of a wraft node: a write-ahead log
// (WAL) that carries out the engine's Persist effects and gives back, at
// start, the hard state and log it recorded.
//
// # Use
//
// Open recovers the directory's State, which the host hands to the engine
// (engine.Restored{HardState, Snapshot, Entries}); Save carries out one
// Persist effect and returns once it is durable. Enqueue and Ticket.Wait
// split Save in two, so that a host can queue the Persist effects of
// several engine steps, in order, and wait for all of them with one fsync
// (group commit). SaveSnapshot carries out one SaveSnapshot effect, in
// order with the saves enqueued before it. Close flushes what is queued.
//
// A Save either lands whole or not at all: after a crash, Open returns the
// state after some prefix of the saves made, never part of one, and never
// less than every save that returned nil.
//
// # Directory
//
//	LOCK                            held (flock) while a WAL is open
//	<seq>-<first>.wal               segments, both fields 16 lower-case hex digits
//	<index>-<term>.snap             snapshots, likewise
//	<name>.tmp                      a segment or snapshot being created; removed by Open
//
// Seq numbers the segments 0, 1, 2, ... with no gap; first is the index the
// next entry had when the segment was created (the log's last index + 1).
// A segment begins with a header record and then holds save records. Saves
// go to the newest segment; once a write leaves it at SegmentBytes or more,
// a new one is created, written to a .tmp file, preallocated to
// SegmentBytes (fallocate, on Linux, where the filesystem can), fsynced,
// renamed into place, and the directory fsynced. Older segments never
// change again; the newest is preallocated, so its records are followed by
// zeros to the end of the file (a segment fills the preallocation before
// it is left; if not, its tail is cut first). A write into the
// preallocated tail leaves the file's size as it was and is made durable
// with fdatasync; a write that changes the size (or a preallocation) with
// a full fsync.
//
// A snapshot file holds one snapshot: the magic "wraftsnp", a version
// byte (1), the meta (a uvarint length, then wire.AppendSnapshotMeta),
// the data, and a CRC-32C of all that, little-endian, in the last 4
// bytes. SaveSnapshot writes it to a .tmp file, fsyncs it, renames it into
// place and fsyncs the directory, then appends a mark record to the log.
// Once the mark is durable it keeps the two newest snapshot files, deletes
// the older ones, and deletes segment i (never the newest) if segment i+1
// begins at or below the older kept snapshot's index + 1: when segment i+1
// was made the log ended at its first index - 1, and no later save can
// rewrite what a snapshot covers, so the older snapshot and the segments
// left still make the whole log.
//
// # Records
//
// A segment is a sequence of records, with no padding, then, in the newest
// segment only, zeros to the end of the file:
//
//	offset  size  field
//	0       4     n: payload length, little-endian uint32, at most 64 MiB
//	4       4     CRC-32C (Castagnoli), little-endian, of bytes 0-3 and 8-(9+n)
//	8       1     record type
//	9       n     payload
//
// Payloads use the encodings of package wire (uvarints; AppendHardState,
// AppendEntries):
//
//	type 1, header: u8 format version (2), uvarint seq, uvarint first,
//	        uvarint size of the previous segment (0 for the first), hard
//	        state, uvarint snapshot index, uvarint snapshot term. First
//	        record of every segment, and only there. Its hard state and
//	        snapshot are those in force when the segment was made; the size
//	        lets Open notice an older segment cut or grown. (Version 1,
//	        without the snapshot, is still read.)
//	type 2, save:   hard state, entries. One Persist effect: delete every
//	        entry at or above the first entry's index, append the entries,
//	        store the hard state. With no entries, only the hard state.
//	type 3, part:   entries. A leading piece of a save too large for one
//	        record; the pieces that follow, up to and including the type 2
//	        record that ends it, belong to the same save, which replay
//	        applies only once it has read that record.
//	type 4, mark:   uvarint index, uvarint term, u8 flags (1 keepLog,
//	        2 rebase), hard state. The snapshot at index, of term, is
//	        durable: drop the entries up to index, and those after it too
//	        unless keepLog (with keepLog and a log that ends before index,
//	        the log is left empty at index). Its hard state is the one in
//	        force; a rebase mark, which only Open writes, sets the snapshot
//	        back to an older one after a fallback and the hard state to its
//	        own.
//
// # Recovery
//
// Open reads the segments in order and applies their saves and marks,
// checking each against the log so far (see ErrInvalid for the rules:
// contiguous entries, terms that never go down, nothing committed
// overwritten, and so on). Where a record would begin, zeros to the end
// of the newest segment are the end of the log (no record header is all
// zeros: the type is never 0), and new saves are written there; zeros
// followed by anything else are an unreadable record. The
// first record that cannot be read (a short header or payload, a length
// over the limit, a checksum mismatch) ends the log if it is a torn tail: it
// is in the newest segment and no valid record follows it anywhere in the
// file. Open then truncates the file there (removing the segment if not even
// its header survived), fsyncs, logs a warning and goes on; the next save
// preallocates the segment again. Anything else is
// corruption, and Open fails with a *CorruptError (wrapping ErrCorrupt) that
// names the file and byte offset: an unreadable record in an older segment
// or with valid records after it, zeros after an older segment's records,
// a checksum-valid record whose content is wrong, a missing segment.
//
// A crash can leave only a torn tail: a process killed with SIGKILL leaves a
// prefix of its last write, and a machine that loses power loses at most
// the writes since the last fsync. A power loss that persisted later pages
// of an unsynced write but not earlier ones looks like corruption and stops
// Open, which is the safe side: an operator decides. So does a bit flip in
// an older record; a flip in the very last record is taken as a torn tail
// and that record is lost, which a checksum cannot tell apart.
//
// Open then picks the snapshot: the newest file whose index is at most the
// newest mark's (a newer one never took effect: a crash came before its
// mark, and Open removes it) and that reads back whole. If that is not the
// newest mark's snapshot (it is damaged: cut short, a checksum mismatch),
// Open logs a warning naming the file and falls back to the one before,
// with the entries after it from the log (they are all there: segments
// are deleted only up to the older kept snapshot). If a snapshot from the
// leader replaced the log after that older snapshot (a mark without
// keepLog, or one past the log's end), the log after it cannot be trusted:
// Open drops it, lowers the commit index to the snapshot's, and warns that
// the node will catch up from the leader. Either way it records the
// fallback in a rebase mark, removes the snapshot files above it, and goes
// on. If no snapshot reaches the oldest segment's first index - 1, Open
// fails with a *CorruptError naming that segment and why each snapshot
// would not do. Without any snapshot, a log that still begins at index 1
// is whole, and Open returns no snapshot.
package storage
