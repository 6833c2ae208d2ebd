package storage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// A snapshot file:
//
//	offset  size  field
//	0       8     magic "wraftsnp"
//	8       1     version (1)
//	9       ...   uvarint n, then n bytes of snapshot meta (wire.AppendSnapshotMeta)
//	...     ...   the snapshot's data, up to the last 4 bytes
//	size-4  4     CRC-32C (Castagnoli), little-endian, of every byte before it
const (
	snapMagic   = "wraftsnp"
	snapVersion = 1
	snapSuffix  = ".snap"
	// maxSnapMetaBytes bounds the meta's encoding: a configuration of
	// wire.MaxVoters members with long addresses.
	maxSnapMetaBytes = 16 << 20
)

// snapFile names one snapshot file: <index>-<term>.snap, both fields 16
// lower-case hex digits.
type snapFile struct {
	index, term uint64
}

func (s snapFile) name() string { return fmt.Sprintf("%016x-%016x%s", s.index, s.term, snapSuffix) }

func parseSnapName(name string) (snapFile, bool) {
	index, term, ok := parseHexPair(name, snapSuffix)
	return snapFile{index: index, term: term}, ok
}

// listSnapshots returns the snapshot files in dir, newest (highest index)
// first, and the names of leftover temporary snapshot files.
func listSnapshots(dir string) ([]snapFile, []string, error) {
	snaps, tmps, err := listFiles(dir, parseSnapName)
	slices.SortFunc(snaps, func(a, b snapFile) int {
		if c := -cmp.Compare(a.index, b.index); c != 0 {
			return c
		}
		return -cmp.Compare(a.term, b.term)
	})
	return snaps, tmps, err
}

// encodeSnapshotHeader returns the bytes of a snapshot file before its
// data.
func encodeSnapshotHeader(meta raft.SnapshotMeta) []byte {
	b := append([]byte(snapMagic), snapVersion)
	return wire.AppendFrame(b, func(b []byte) []byte { return wire.AppendSnapshotMeta(b, meta) })
}

// writeSnapshot makes snap's file durable, atomically: it writes and fsyncs
// a temporary file, renames it into place (replacing a file of the same
// name) and fsyncs the directory.
func (w *WAL) writeSnapshot(snap raft.Snapshot) error {
	path := filepath.Join(w.dir, snapFile{snap.Meta.Index, snap.Meta.Term}.name())
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("storage: create snapshot: %w", err)
	}
	hdr := encodeSnapshotHeader(snap.Meta)
	crc := crc32.Update(crc32.Update(0, castagnoli, hdr), castagnoli, snap.Data)
	for _, p := range [][]byte{hdr, snap.Data, binary.LittleEndian.AppendUint32(nil, crc)} {
		if _, err = f.Write(p); err != nil {
			err = fmt.Errorf("storage: write %s: %w", tmp, err)
			break
		}
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
	return nil
}

// readSnapshot reads and checks the snapshot file s in dir. Damage (a file
// cut short, a checksum mismatch, a meta that disagrees with the name) is
// a *CorruptError; other errors are I/O errors.
func readSnapshot(dir string, s snapFile) (raft.Snapshot, error) {
	path := filepath.Join(dir, s.name())
	b, err := os.ReadFile(path)
	if err != nil {
		return raft.Snapshot{}, fmt.Errorf("storage: %w", err)
	}
	bad := func(off int, reason string) (raft.Snapshot, error) {
		return raft.Snapshot{}, &CorruptError{Path: path, Offset: int64(off), Reason: reason}
	}
	const minBytes = len(snapMagic) + 1 + 1 + 4
	if len(b) < minBytes {
		return bad(0, fmt.Sprintf("snapshot file truncated (%d bytes)", len(b)))
	}
	body := b[:len(b)-4]
	if binary.LittleEndian.Uint32(b[len(body):]) != crc32.Checksum(body, castagnoli) {
		return bad(len(body), "snapshot checksum mismatch (file damaged or cut short)")
	}
	if !bytes.HasPrefix(body, []byte(snapMagic)) {
		return bad(0, "not a snapshot file (bad magic)")
	}
	if v := body[len(snapMagic)]; v != snapVersion {
		return bad(len(snapMagic), fmt.Sprintf("snapshot file version %d, want %d", v, snapVersion))
	}
	const metaAt = len(snapMagic) + 1
	r := wire.NewReader(body[metaAt:], "storage: snapshot meta")
	outer := r.BeginFrame("snapshot meta", maxSnapMetaBytes)
	meta := wire.ReadSnapshotMeta(r)
	r.EndFrame(outer)
	if err := r.Err(); err != nil {
		return bad(metaAt, err.Error())
	}
	if meta.Index != s.index || meta.Term != s.term || meta.Index == 0 || meta.Term == 0 {
		return bad(metaAt, fmt.Sprintf("snapshot meta says index %d term %d, unlike the file's name", meta.Index, meta.Term))
	}
	data := body[metaAt+r.Offset():]
	if len(data) == 0 {
		data = nil
	}
	return raft.Snapshot{Meta: meta, Data: data}, nil
}

// removeFile removes dir/name and fsyncs dir. A file already gone is not
// an error.
func (w *WAL) removeFile(name string) error {
	if err := os.Remove(filepath.Join(w.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return w.syncDir(w.dir)
}
