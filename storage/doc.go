// Package storage is the durable store of a wraft node: a write-ahead log
// (WAL) that carries out the engine's Persist effects and gives back, at
// start, the hard state and log it recorded.
//
// # Use
//
// Open recovers the directory's State, which the host hands to the engine;
// Save carries out one Persist effect and returns once it is durable.
// Enqueue and Ticket.Wait split Save in two, so that a host can queue the
// Persist effects of several engine steps, in order, and wait for all of
// them with one fsync (group commit). Close flushes what is queued.
//
// A Save either lands whole or not at all: after a crash, Open returns the
// state after some prefix of the saves made, never part of one, and never
// less than every save that returned nil.
//
// # Directory
//
//	LOCK                            held (flock) while a WAL is open
//	<seq>-<first>.wal               segments, both fields 16 lower-case hex digits
//	<seq>-<first>.wal.tmp           a segment being created; removed by Open
//
// Seq numbers the segments 0, 1, 2, ... with no gap; first is the index the
// next entry had when the segment was created (the log's last index + 1).
// A segment begins with a header record and then holds save records. Saves
// go to the newest segment; once a write leaves it at SegmentBytes or more,
// a new one is created, written to a .tmp file, fsynced, renamed into
// place, and the directory fsynced. Older segments never change again.
//
// Seam for compaction (not yet implemented): a later save can only remove
// entries above the commit index, so once a snapshot covers index
// first(i+1) - 1, segments 0..i hold nothing the snapshot does not, and
// every segment's header repeats the hard state; they can be deleted
// oldest first. Open then needs the snapshot for the entries before the
// first remaining segment; today it requires first == 1 there.
//
// # Records
//
// A segment is a sequence of records, with no padding:
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
//	type 1, header: u8 format version (1), uvarint seq, uvarint first,
//	        uvarint size of the previous segment (0 for the first), hard
//	        state. First record of every segment, and only there. Its hard
//	        state is the one in force when the segment was made; the size
//	        lets Open notice an older segment cut or grown.
//	type 2, save:   hard state, entries. One Persist effect: delete every
//	        entry at or above the first entry's index, append the entries,
//	        store the hard state. With no entries, only the hard state.
//	type 3, part:   entries. A leading piece of a save too large for one
//	        record; the pieces that follow, up to and including the type 2
//	        record that ends it, belong to the same save, which replay
//	        applies only once it has read that record.
//
// # Recovery
//
// Open reads the segments in order and applies their saves, checking each
// against the log so far (see ErrInvalid for the rules: contiguous entries,
// terms that never go down, nothing committed overwritten, and so on). The
// first record that cannot be read (a short header or payload, a length
// over the limit, a checksum mismatch) ends the log if it is a torn tail: it
// is in the newest segment and no valid record follows it anywhere in the
// file. Open then truncates the file there (removing the segment if not even
// its header survived), fsyncs, logs a warning and goes on. Anything else is
// corruption, and Open fails with a *CorruptError (wrapping ErrCorrupt) that
// names the file and byte offset: an unreadable record in an older segment
// or with valid records after it, a checksum-valid record whose content is
// wrong, a missing segment.
//
// A crash can leave only a torn tail: a process killed with SIGKILL leaves a
// prefix of its last write, and a machine that loses power loses at most
// the writes since the last fsync. A power loss that persisted later pages
// of an unsynced write but not earlier ones looks like corruption and stops
// Open, which is the safe side: an operator decides. So does a bit flip in
// an older record; a flip in the very last record is taken as a torn tail
// and that record is lost, which a checksum cannot tell apart.
package storage
