package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// HardStateFile names the file in a WAL's directory that keeps the term
// and vote apart from the log, so that a log that lost saves cannot make
// a node forget them (see the package documentation).
const HardStateFile = "hardstate"

// The hard-state file:
//
//	offset  size  field
//	0       7     magic "wraftHS"
//	7       1     version (1)
//	8       ...   uvarint term, uvarint vote, uvarint commit index,
//	              uvarint seq of the newest segment
//	size-4  4     CRC-32C (Castagnoli), little-endian, of every byte before it
const (
	hardStateMagic   = "wraftHS"
	hardStateVersion = 1
	// maxHardStateBytes bounds the file: magic, version, four uvarints
	// and the checksum.
	maxHardStateBytes = len(hardStateMagic) + 1 + 4*10 + 4
)

// hardStateRecord is what the hard-state file holds: the hard state of a
// durable save and the seq of the newest segment then. The file is
// rewritten when the term or vote changes and when a segment is made.
type hardStateRecord struct {
	hs  raft.HardState
	seq uint64
}

// encodeHardStateFile returns the bytes of a hard-state file holding rec.
func encodeHardStateFile(rec hardStateRecord) []byte {
	b := append([]byte(hardStateMagic), hardStateVersion)
	b = wire.AppendUvarint(b, rec.hs.Term)
	b = wire.AppendUvarint(b, rec.hs.Vote)
	b = wire.AppendUvarint(b, rec.hs.Commit)
	b = wire.AppendUvarint(b, rec.seq)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeHardStateFile parses the bytes of a hard-state file, or returns
// the byte offset of the damage and why.
func decodeHardStateFile(b []byte) (rec hardStateRecord, off int, reason string) {
	const minBytes = len(hardStateMagic) + 1 + 4 + 4
	switch {
	case len(b) < minBytes:
		return rec, 0, fmt.Sprintf("hard-state file has %d bytes, too few to be whole", len(b))
	case len(b) > maxHardStateBytes:
		return rec, maxHardStateBytes, fmt.Sprintf("hard-state file has %d bytes, more than the %d it can hold", len(b), maxHardStateBytes)
	}
	body := b[:len(b)-4]
	if binary.LittleEndian.Uint32(b[len(body):]) != crc32.Checksum(body, castagnoli) {
		return rec, len(body), "hard-state checksum mismatch"
	}
	if string(body[:len(hardStateMagic)]) != hardStateMagic {
		return rec, 0, "not a hard-state file (bad magic)"
	}
	if v := body[len(hardStateMagic)]; v != hardStateVersion {
		return rec, len(hardStateMagic), fmt.Sprintf("hard-state file version %d, want %d", v, hardStateVersion)
	}
	const at = len(hardStateMagic) + 1
	r := wire.NewReader(body[at:], "storage: hard-state file")
	rec.hs = raft.HardState{Term: r.Uvarint(), Vote: r.Uvarint(), Commit: r.Uvarint()}
	rec.seq = r.Uvarint()
	if err := r.Done(); err != nil {
		return hardStateRecord{}, at, err.Error()
	}
	return rec, 0, ""
}

// readHardStateFile reads dir's hard-state file. It returns ok false if
// there is none; a damaged file is a *CorruptError.
func readHardStateFile(dir string) (rec hardStateRecord, ok bool, err error) {
	path := filepath.Join(dir, HardStateFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return rec, false, nil
	case err != nil:
		return rec, false, fmt.Errorf("storage: %w", err)
	}
	rec, off, reason := decodeHardStateFile(b)
	if reason != "" {
		return rec, false, &CorruptError{Path: path, Offset: int64(off), Reason: reason +
			" (the file is replaced whole, never written in place, so it was damaged after it was written)"}
	}
	return rec, true, nil
}

// writeHardStateFile makes rec the content of the hard-state file,
// atomically: it writes and fsyncs a temporary file, renames it into
// place and fsyncs the directory. It is called only by whoever may use
// the segment fields (a flush, or Open), and sets w.file.
func (w *WAL) writeHardStateFile(rec hardStateRecord) error {
	path := filepath.Join(w.dir, HardStateFile)
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("storage: create %s: %w", tmp, err)
	}
	if _, err = f.Write(encodeHardStateFile(rec)); err != nil {
		err = fmt.Errorf("storage: write %s: %w", tmp, err)
	}
	if err == nil {
		err = w.syncFile(f)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: %w", cerr)
	}
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			err = fmt.Errorf("storage: %w", err)
		}
	}
	if err == nil {
		err = w.syncDir(w.dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	w.file, w.haveFile = rec, true
	return nil
}

// hardStateBehind reports whether the hard-state file, holding file, must
// be rewritten for a log whose hard state is hs: its term or vote differs.
// (Its commit index is only a lower bound, rewritten with them.)
func hardStateBehind(file, hs raft.HardState) bool {
	return file.Term != hs.Term || file.Vote != hs.Vote
}

// checkHardStateFile compares the hard state the log replayed to, hs,
// with the file's, and returns why the log cannot be trusted, or "". The
// file is written after the log records it describes are durable, so it
// may lag the log but never lead it.
func checkHardStateFile(rec hardStateRecord, hs raft.HardState, last uint64) string {
	file := rec.hs
	switch {
	case hs.Term < file.Term:
		return fmt.Sprintf("the log ends in term %d (vote %d), but this node had reached term %d (vote %d): the log lost durable saves",
			hs.Term, hs.Vote, file.Term, file.Vote)
	case hs.Term == file.Term && file.Vote != 0 && hs.Vote != file.Vote:
		return fmt.Sprintf("the log says vote %d in term %d, but this node had voted for %d: the log lost durable saves",
			hs.Vote, hs.Term, file.Vote)
	case last < file.Commit:
		return fmt.Sprintf("the log ends at index %d, but entries up to index %d were committed here: the log lost durable saves",
			last, file.Commit)
	case hs.Commit < file.Commit:
		return fmt.Sprintf("the log's commit index is %d, but it had reached %d: the log lost durable saves", hs.Commit, file.Commit)
	}
	return ""
}
