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
//	hardstate                       the term, vote and commit index, apart from the log
//	<seq>-<first>.wal               segments, both fields 16 lower-case hex digits
//	<index>-<term>.snap             snapshots, likewise
//	<name>.tmp                      a file being created; removed by Open
//
// Seq numbers the segments 0, 1, 2, ... with no gap; first is the index the
// next entry had when the segment was created (the log's last index + 1).
// A segment begins with a header record and then holds save records. Saves
// go to the newest segment; once a write leaves it at SegmentBytes or more,
// a new one is created: a .tmp file is preallocated to SegmentBytes
// (fallocate, on Linux, where the filesystem can), its header record
// (which says to what size it was preallocated) written, fsynced, renamed
// into place, and the directory fsynced; a segment file is so never seen
// without its whole header. Older segments never change again (but for
// the cut of a zero tail left by a lowered SegmentBytes, once the next
// segment exists); the newest is preallocated, so its records are followed
// by zeros to the end of the file. A write into the preallocated tail
// leaves the file's size as it was and is made durable with fdatasync; a
// write that changes the size (or a preallocation) with a full fsync.
//
// The hard-state file keeps the term, the vote and the commit index of a
// durable save, and the seq of the newest segment then: magic "wraftHS",
// a version byte (1), four uvarints, and a CRC-32C of all that in the
// last 4 bytes. It is replaced whole (a .tmp file written and fsynced,
// renamed, the directory fsynced) after a batch of saves that changes the
// term or the vote is durable and before their Wait returns, and when a
// segment is made: rarely, so that a save's cost is unchanged. It may lag
// the log but never leads it, and so tells Open whether the log lost
// durable saves.
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
//	type 1, header: u8 format version (3), uvarint seq, uvarint first,
//	        uvarint size of the previous segment (0 for the first), hard
//	        state, uvarint snapshot index, uvarint snapshot term, uvarint
//	        size preallocated (0 if not). First record of every segment,
//	        and only there. Its hard state and snapshot are those in force
//	        when the segment was made; the previous size lets Open notice
//	        an older segment cut or grown, the preallocated size the newest
//	        segment cut. (Version 1, without the snapshot, and version 2,
//	        without the preallocated size, are still read; a log with a
//	        version 3 header must have a hard-state file.)
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
// followed by anything else are an unreadable record. The first record
// that cannot be read (a short header or payload, a length over the limit,
// a checksum mismatch) ends the log if it is a torn tail: it is in the
// newest segment, after its header, and no valid record follows it
// anywhere in the file. Open then zeros the torn bytes (in a preallocated
// segment, whose size must not change) or cuts the file there, fsyncs,
// logs a warning and goes on. Anything else is corruption, and Open fails
// with a *CorruptError (wrapping ErrCorrupt) that names the file and byte
// offset: an unreadable record in an older segment or with valid records
// after it; a segment, the newest included, empty or with part of its
// header (segments are created whole); a newest segment shorter than it
// was preallocated to (cut: a torn write leaves the size); a checksum-valid
// record whose content is wrong; a missing segment; zeros after an older
// segment's records where the next segment does not follow them. Then Open
// checks the log against the hard-state file: a log that ends in a lower
// term, with another vote in the file's term, below the file's commit
// index, or before the segment the file names, lost durable saves, and
// Open fails with a *CorruptError naming the file; so it does if the file
// is damaged, or missing while the log was written with it. A file that
// lags the log (a crash before its rewrite) is brought up to date.
//
// A crash can leave only a torn tail: a process killed with SIGKILL leaves a
// prefix of its last write, and a machine that loses power loses at most
// the writes since the last fsync. A power loss that persisted later pages
// of an unsynced write but not earlier ones looks like corruption and stops
// Open, which is the safe side: an operator decides. So does a bit flip in
// an older record; a flip in the very last record is taken as a torn tail
// and that record is lost, which a checksum cannot tell apart. Where
// segments are not preallocated, a newest segment cut at a record boundary
// looks like a clean end: only the hard-state file then tells, and only
// if the saves lost changed the term, the vote or (since the last new
// segment) the commit index.
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
