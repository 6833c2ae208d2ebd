package storage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wraft/wraft/raft"
)

// replay rebuilds the log from the segments at Open.
type replay struct {
	w     *WAL
	state logState // retain set: entries below the snapshot kept for a fallback
	// first is the index the oldest segment begins at: the log before it
	// is only in snapshots (1 if no segment was ever deleted).
	first    uint64
	firstSeq uint64
	// haveSnaps: the directory holds snapshot files.
	haveSnaps bool

	// The newest segment that survived, if haveLast, and the size of its
	// data after any repair; else the seq the first new segment takes.
	haveLast bool
	lastSeg  segment
	lastSize int64
	nextSeq  uint64
	// prevSize is the size of the data of the last segment replayed (and
	// kept).
	prevSize int64
	// prealloc is the size the segment being replayed was preallocated to,
	// as its header says (0: not, or unknown).
	prealloc int64
	// sawV3: a segment has a header of version 3 or later, written by a
	// WAL that keeps the hard-state file.
	sawV3 bool
	// prevPath is the last segment replayed; prevZeros is where zeros
	// after its records began, or -1 if none followed them.
	prevPath  string
	prevZeros int64
	// fileSize is the size of the segment file being replayed.
	fileSize int64
	// noFollow: the segment's header says it does not follow the one
	// before.
	noFollow bool
}

// run replays segs, which are in seq order.
func (r *replay) run(segs []segment) error {
	for i, s := range segs {
		path := filepath.Join(r.w.dir, s.name())
		if i > 0 && s.seq != segs[i-1].seq+1 {
			return &CorruptError{Path: path, Offset: 0,
				Reason: fmt.Sprintf("segment %d follows segment %d: a segment is missing or doubled", s.seq, segs[i-1].seq)}
		}
		last := i == len(segs)-1
		if i == 0 {
			r.first, r.firstSeq = s.first, s.seq
		}
		size, zeros, err := r.segment(path, s, i == 0, last)
		if err != nil {
			return err
		}
		r.prevSize, r.prevPath, r.prevZeros = size, path, -1
		if zeros {
			r.prevZeros = size
		}
		if last {
			r.nextSeq = s.seq
			if size > 0 {
				r.haveLast, r.lastSeg, r.lastSize = true, s, size
			}
		}
	}
	return nil
}

// segment replays one segment file. It returns the size of its data after
// any repair (where the records end: a zero tail after them, from
// preallocation, is not data), and whether zeros follow the data.
func (r *replay) segment(path string, seg segment, first, last bool) (int64, bool, error) {
	size, err := r.replaySegment(path, seg, first, last)
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) && r.noFollow && r.prevZeros >= 0 {
			// The segment does not follow the one before, which ends in
			// zeros: more likely, records of that one were zeroed.
			return 0, false, &CorruptError{Path: r.prevPath, Offset: r.prevZeros,
				Reason: "zeros after the last record in a segment that is not the newest, and the next segment does not follow it: " + ce.Reason}
		}
		return 0, false, err
	}
	return size, size < r.fileSize, nil
}

// replaySegment replays one segment file for segment, and sets r.fileSize.
func (r *replay) replaySegment(path string, seg segment, first, last bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	r.fileSize = fi.Size()
	rd := recordReader{path: path, size: fi.Size(), br: bufio.NewReaderSize(f, int(min(fi.Size(), 1<<20)))}
	var (
		group     []raft.Entry // entries of part records awaiting their save record
		groupFrom int64        = -1
	)
	for rd.off < rd.size {
		if rd.off > 0 {
			zeros, reason, err := rd.zeroTail()
			if err != nil {
				return 0, err
			}
			if reason != "" {
				return r.badRecord(f, path, seg, rd.off, groupFrom, rd.size, first, last, reason)
			}
			if zeros {
				break
			}
		}
		t, payload, reason, err := rd.next()
		if err != nil {
			return 0, err
		}
		if reason != "" {
			return r.badRecord(f, path, seg, rd.off, groupFrom, rd.size, first, last, reason)
		}
		// The record is as written: any fault from here on is corruption
		// (or a bug), never a torn write.
		var bad string
		switch {
		case rd.off == 0:
			r.prealloc = 0
			if bad = r.header(t, payload, seg, first); bad == "" && last && rd.size < r.prealloc {
				return 0, &CorruptError{Path: path, Offset: rd.size,
					Reason: fmt.Sprintf("the newest segment has %d bytes, but it was made with %d (preallocated): it was cut short, "+
						"and the saves it held are lost", rd.size, r.prealloc)}
			}
		case t == recHeader:
			bad = "header record inside a segment"
		case t == recPart:
			ents, err := decodePart(payload)
			if err != nil {
				bad = err.Error()
				break
			}
			if groupFrom < 0 {
				groupFrom = rd.off
			}
			group = append(group, ents...)
		case t == recSave:
			hs, ents, err := decodeSave(payload)
			if err != nil {
				bad = err.Error()
				break
			}
			at := rd.off
			if groupFrom >= 0 {
				ents, at = append(group, ents...), groupFrom
			}
			if err := r.state.check(hs, ents); err != nil {
				return 0, &CorruptError{Path: path, Offset: at, Reason: err.Error()}
			}
			r.state.apply(hs, ents)
			group, groupFrom = nil, -1
		case t == recMark:
			m, err := decodeMark(payload)
			switch {
			case err != nil:
				bad = err.Error()
			case groupFrom >= 0:
				bad = "snapshot mark inside a save"
			default:
				if err := r.state.checkMark(m); err != nil {
					bad = err.Error()
					break
				}
				r.state.applyMark(m)
			}
		default:
			bad = fmt.Sprintf("unknown record type %d", t)
		}
		if bad != "" {
			return 0, &CorruptError{Path: path, Offset: rd.off, Reason: bad}
		}
		rd.off += headerBytes + int64(len(payload))
	}
	switch {
	case rd.size == 0:
		return r.badRecord(f, path, seg, 0, -1, rd.size, first, last, "segment is empty")
	case groupFrom >= 0:
		return r.badRecord(f, path, seg, rd.off, groupFrom, rd.size, first, last, "save ends without its final record")
	}
	// Zeros after the records of an older segment are a tail that rotation
	// had not yet cut when a crash came: the next segment's header, which
	// holds the size of these records, tells them from lost records.
	return rd.off, nil
}

// header checks a segment's first record, of type t, against the segment's
// name and the log before it, and returns what is wrong, or "".
func (r *replay) header(t recordType, payload []byte, seg segment, first bool) string {
	if t != recHeader {
		return fmt.Sprintf("segment does not begin with a header record (type %d)", t)
	}
	h, err := decodeHeader(payload)
	if err == nil {
		r.prealloc = h.prealloc
		r.sawV3 = r.sawV3 || h.version >= 3
	}
	switch {
	case err != nil:
		return err.Error()
	case h.seq != seg.seq || h.first != seg.first:
		return fmt.Sprintf("header says segment %d from index %d, unlike the file's name", h.seq, h.first)
	case h.first == 0 || h.snap >= h.first || (h.snap == 0) != (h.snapTerm == 0) || h.hs.Commit >= h.first:
		return fmt.Sprintf("header says the log before the segment ends at index %d, with snapshot %d (term %d) and commit index %d",
			h.first-1, h.snap, h.snapTerm, h.hs.Commit)
	case first:
		// The oldest segment: the log before it is known by its length
		// only; a snapshot must cover it.
		r.state = logState{hs: h.hs, snap: h.snap, snapTerm: h.snapTerm, retain: true}
		r.state.reset(h.first-1, 0)
		return ""
	case h.first != r.state.last()+1:
		r.noFollow = true
		return fmt.Sprintf("segment begins at index %d but the log before it ends at %d", h.first, r.state.last())
	case h.prevSize != r.prevSize:
		r.noFollow = true
		return fmt.Sprintf("header says the segment before it had %d bytes, but it has %d", h.prevSize, r.prevSize)
	case h.hs != r.state.hs:
		return fmt.Sprintf("header's hard state %+v differs from the log's %+v", h.hs, r.state.hs)
	case h.snap != r.state.snap || h.snapTerm != r.state.snapTerm:
		return fmt.Sprintf("header's snapshot %d (term %d) differs from the log's %d (term %d)", h.snap, h.snapTerm, r.state.snap, r.state.snapTerm)
	}
	return ""
}

// recordReader reads the records of one segment file in order.
type recordReader struct {
	path    string
	size    int64 // the file's size
	off     int64 // where the next record begins; the caller advances it
	br      *bufio.Reader
	hdr     [headerBytes]byte
	payload []byte // reused
}

// zeroTail reports whether the file holds only zeros from off on: the end
// of the data, in a preallocated segment. If the record header at off is
// zeros but a nonzero byte follows, it returns why the record cannot be
// read. It reads from off on only if the first byte there is zero.
func (rd *recordReader) zeroTail() (zeros bool, reason string, err error) {
	if b, err := rd.br.Peek(1); err != nil {
		return false, "", fmt.Errorf("storage: read %s: %w", rd.path, err)
	} else if b[0] != 0 {
		return false, "", nil
	}
	zero := make([]byte, 64<<10)
	for at := rd.off; at < rd.size; {
		b, err := rd.br.Peek(int(min(int64(rd.br.Size()), rd.size-at)))
		if err != nil {
			return false, "", fmt.Errorf("storage: read %s: %w", rd.path, err)
		}
		for len(b) > 0 {
			n := min(len(b), len(zero))
			if !bytes.Equal(b[:n], zero[:n]) {
				i := slices.IndexFunc(b[:n], func(c byte) bool { return c != 0 })
				if at+int64(i) < rd.off+headerBytes {
					return false, "", nil // not a zero record header
				}
				return false, fmt.Sprintf("zeros, then a nonzero byte at %d", at+int64(i)), nil
			}
			if _, err := rd.br.Discard(n); err != nil {
				return false, "", fmt.Errorf("storage: read %s: %w", rd.path, err)
			}
			b, at = b[n:], at+int64(n)
		}
	}
	return true, "", nil
}

// next reads the record at off. It returns its type and payload (valid
// until the next call), or why it cannot be read as written (which a torn
// write may explain), or an I/O error.
func (rd *recordReader) next() (t recordType, payload []byte, reason string, err error) {
	if rd.size-rd.off < headerBytes {
		return 0, nil, fmt.Sprintf("record header truncated (%d of %d bytes)", rd.size-rd.off, headerBytes), nil
	}
	if _, err := io.ReadFull(rd.br, rd.hdr[:]); err != nil {
		return 0, nil, "", fmt.Errorf("storage: read %s: %w", rd.path, err)
	}
	n := int64(binary.LittleEndian.Uint32(rd.hdr[0:4]))
	switch {
	case n > maxPayloadBytes:
		return 0, nil, fmt.Sprintf("record length %d over the limit of %d", n, maxPayloadBytes), nil
	case n > rd.size-rd.off-headerBytes:
		return 0, nil, fmt.Sprintf("record of %d bytes truncated (%d bytes follow)", n, rd.size-rd.off-headerBytes), nil
	}
	if int64(cap(rd.payload)) < n {
		rd.payload = make([]byte, n)
	}
	rd.payload = rd.payload[:n]
	if _, err := io.ReadFull(rd.br, rd.payload); err != nil {
		return 0, nil, "", fmt.Errorf("storage: read %s: %w", rd.path, err)
	}
	if binary.LittleEndian.Uint32(rd.hdr[4:8]) != recordCRC(rd.hdr[:], rd.payload) {
		return 0, nil, "checksum mismatch", nil
	}
	return recordType(rd.hdr[8]), rd.payload, "", nil
}

// badRecord handles an unreadable record at off (off == size: a save whose
// final record is missing) in the segment f of the given size. If it is a
// torn tail, in the newest segment with no valid record after off and after
// the segment's header, it cuts the file at off, or at groupFrom if a
// save's part records began there, and returns the new size of its data. A
// preallocated segment keeps its size: the torn bytes are zeroed instead.
// Otherwise it returns a *CorruptError.
func (r *replay) badRecord(f *os.File, path string, seg segment, off, groupFrom, size int64, first, last bool, reason string) (int64, error) {
	if !last {
		return 0, &CorruptError{Path: path, Offset: off, Reason: reason + " in a segment that is not the newest"}
	}
	next, err := findRecord(f, off+1, size)
	switch {
	case errors.Is(err, errScanBudget):
		return 0, &CorruptError{Path: path, Offset: off,
			Reason: reason + ", with too much after it to tell a torn tail from damage"}
	case err != nil:
		return 0, err
	case next >= 0:
		return 0, &CorruptError{Path: path, Offset: off,
			Reason: fmt.Sprintf("%s, with a valid record after it at byte %d", reason, next)}
	}
	cut := off
	if groupFrom >= 0 {
		cut = groupFrom
	}
	if cut == 0 {
		// A segment is renamed into place only once its header is durable
		// (createSegment), so no crash leaves it empty or with part of
		// its header: the file was cut or overwritten since, and whatever
		// it held, saves that were acknowledged, is gone.
		return 0, &CorruptError{Path: path, Offset: off,
			Reason: reason + ": the segment's header is not whole, which no crash leaves (a segment is created whole); " +
				"the file was cut or zeroed, and the saves it held are lost"}
	}
	r.w.log.Warn("storage: cutting a torn tail", "file", path, "offset", cut, "bytes", size-cut, "reason", reason)
	wf, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	if r.prealloc > 0 {
		// Keep the file's size, which tells a cut file from a torn write:
		// zero the torn bytes instead.
		err = zeroFrom(f, wf, cut, size)
	} else if err = wf.Truncate(cut); err != nil {
		err = fmt.Errorf("storage: %w", err)
	}
	if err == nil {
		err = r.w.syncFile(wf)
	}
	if cerr := wf.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: %w", cerr)
	}
	return cut, err
}

// zeroFrom overwrites with zeros the bytes of a file from cut on, up to
// its last nonzero byte (below size), reading through rf and writing
// through wf.
func zeroFrom(rf, wf *os.File, cut, size int64) error {
	const chunk = 1 << 20
	buf := make([]byte, min(chunk, max(size-cut, 0)))
	end := cut // one past the last nonzero byte seen
	for at := cut; at < size; at += chunk {
		n := min(int64(len(buf)), size-at)
		if _, err := rf.ReadAt(buf[:n], at); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("storage: read %s: %w", rf.Name(), err)
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] != 0 {
				end = at + i + 1
				break
			}
		}
	}
	clear(buf)
	for at := cut; at < end; at += chunk {
		n := min(int64(len(buf)), end-at)
		if _, err := wf.WriteAt(buf[:n], at); err != nil {
			return fmt.Errorf("storage: write %s: %w", wf.Name(), err)
		}
	}
	return nil
}

// scanBudgetBytes bounds the bytes findRecord checksums, which a crafted
// file could otherwise make quadratic in its size.
const scanBudgetBytes = 1 << 30

var errScanBudget = errors.New("storage: scan budget exhausted")

// findRecord returns the offset of the first valid record (known type,
// length within the limit and the file, matching checksum) that begins at
// or after from in f, or -1 if there is none. It gives up with
// errScanBudget after checksumming scanBudgetBytes.
func findRecord(f *os.File, from, size int64) (int64, error) {
	const window = 1 << 20
	budget := int64(scanBudgetBytes)
	buf := make([]byte, min(window+headerBytes, max(size-from, 0)))
	for base := from; base+headerBytes <= size; base += window {
		n := min(int64(len(buf)), size-base)
		if _, err := f.ReadAt(buf[:n], base); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("storage: read %s: %w", f.Name(), err)
		}
		for i := int64(0); i < window && i+headerBytes <= n; i++ {
			hdr := buf[i : i+headerBytes]
			length := int64(binary.LittleEndian.Uint32(hdr[0:4]))
			at := base + i
			if !recordType(hdr[8]).known() || length > maxPayloadBytes || length > size-at-headerBytes {
				continue
			}
			if budget -= length; budget < 0 {
				return 0, errScanBudget
			}
			var payload []byte
			if i+headerBytes+length <= n {
				payload = buf[i+headerBytes : i+headerBytes+length]
			} else {
				payload = make([]byte, length)
				if _, err := f.ReadAt(payload, at+headerBytes); err != nil && !errors.Is(err, io.EOF) {
					return 0, fmt.Errorf("storage: read %s: %w", f.Name(), err)
				}
			}
			if binary.LittleEndian.Uint32(hdr[4:8]) == recordCRC(hdr, payload) {
				return at, nil
			}
		}
	}
	return -1, nil
}

// snapFileOf returns the index and term of snap, 0 and 0 for nil.
func snapFileOf(snap *raft.Snapshot) snapFile {
	if snap == nil {
		return snapFile{}
	}
	return snapFile{snap.Meta.Index, snap.Meta.Term}
}

// chooseSnapshot returns the snapshot the node restarts from, after the
// replay: the newest of snaps (newest first) that took effect (its index is
// at most the newest mark's), reads back whole, agrees with the log and
// reaches the oldest segment; nil if there is none and the log begins at
// index 1. Damaged snapshots are skipped with a warning. With no snapshot
// that will do, it returns a *CorruptError.
func (r *replay) chooseSnapshot(snaps []snapFile) (*raft.Snapshot, error) {
	st := &r.state
	var skipped []string
	for _, s := range snaps {
		path := filepath.Join(r.w.dir, s.name())
		if s.index > st.snap {
			continue // never took effect: Open removes it
		}
		if s.index < r.first-1 {
			skipped = append(skipped, fmt.Sprintf("%s ends before the log's first index %d", path, r.first))
			break
		}
		snap, err := readSnapshot(r.w.dir, s)
		var ce *CorruptError
		switch {
		case errors.As(err, &ce):
			r.w.log.Warn("storage: snapshot damaged, trying an older one", "file", path, "offset", ce.Offset, "reason", ce.Reason)
			skipped = append(skipped, fmt.Sprintf("%s at byte %d: %s", ce.Path, ce.Offset, ce.Reason))
			continue
		case err != nil:
			return nil, err
		}
		if t, ok := st.termAt(s.index); (ok && t != s.term) || (s.index == st.snap && s.term != st.snapTerm) {
			if !ok {
				t = st.snapTerm
			}
			reason := fmt.Sprintf("%s does not match the log, which has term %d at index %d", path, t, s.index)
			r.w.log.Warn("storage: snapshot does not match the log, trying an older one", "file", path, "reason", reason)
			skipped = append(skipped, reason)
			continue
		}
		return &snap, nil
	}
	if r.first <= 1 {
		return nil, nil // the log is whole from index 1
	}
	reason := fmt.Sprintf("the log begins at index %d and no snapshot covers the entries before it", r.first)
	if len(skipped) > 0 {
		reason += ": " + strings.Join(skipped, "; ")
	} else {
		reason += " (no snapshot file)"
	}
	return nil, &CorruptError{Path: filepath.Join(r.w.dir, segment{r.firstSeq, r.first}.name()), Offset: 0, Reason: reason}
}

// fallback returns the rebase mark that sets the replayed log back to snap
// (nil: no snapshot), older than the newest mark, and logs why. If no
// snapshot mark after snap reset the log, the entries after snap are all in
// the segments (only entries the older of the two newest snapshots covers
// are ever deleted) and stay. Otherwise the log after snap cannot be
// trusted: a snapshot from the leader replaced it, and only that snapshot
// held what came before; the log is left empty at snap and the node will
// catch up from the leader.
func (r *replay) fallback(snap *raft.Snapshot) *mark {
	st := &r.state
	s := snapFileOf(snap)
	m := &mark{index: s.index, term: s.term, rebase: true, keep: s.index >= st.base, hs: st.hs}
	r.w.log.Warn("storage: falling back to an older snapshot", "index", s.index, "term", s.term, "newest", st.snap)
	if !m.keep {
		m.hs.Commit = min(m.hs.Commit, s.index)
		r.w.log.Warn("storage: the log after the older snapshot cannot be trusted (a snapshot from the leader replaced it): "+
			"dropping it; the node will catch up from the leader", "index", s.index, "dropped", st.last()-s.index)
	}
	return m
}
