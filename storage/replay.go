package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wraft/wraft/raft"
)

// replay rebuilds the log from the segments at Open.
type replay struct {
	w     *WAL
	state logState
	ents  []raft.Entry // Invariant: ents[i].Index == i+1; len(ents) == len(state.terms)

	// The newest segment that survived, if haveLast, and its size after
	// any repair; else the seq the first new segment takes.
	haveLast bool
	lastSeg  segment
	lastSize int64
	nextSeq  uint64
	// prevSize is the size of the last segment replayed (and kept).
	prevSize int64
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
		size, err := r.segment(path, s, i == 0, last)
		if err != nil {
			return err
		}
		if size > 0 {
			r.prevSize = size
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

// segment replays one segment file. It returns the file's size after any
// repair, 0 if it removed the file (only the newest segment, whose header
// was torn).
func (r *replay) segment(path string, seg segment, first, last bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	rd := recordReader{path: path, size: fi.Size(), br: bufio.NewReaderSize(f, int(min(fi.Size(), 1<<20)))}
	var (
		group     []raft.Entry // entries of part records awaiting their save record
		groupFrom int64        = -1
	)
	for rd.off < rd.size {
		t, payload, reason, err := rd.next()
		if err != nil {
			return 0, err
		}
		if reason != "" {
			return r.badRecord(f, path, rd.off, groupFrom, rd.size, last, reason)
		}
		// The record is as written: any fault from here on is corruption
		// (or a bug), never a torn write.
		var bad string
		switch {
		case rd.off == 0:
			bad = r.header(t, payload, seg, first)
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
			if len(ents) > 0 {
				r.ents = append(r.ents[:ents[0].Index-1], ents...)
			}
			group, groupFrom = nil, -1
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
		return r.badRecord(f, path, 0, -1, rd.size, last, "segment is empty")
	case groupFrom >= 0:
		return r.badRecord(f, path, rd.off, groupFrom, rd.size, last, "save ends without its final record")
	}
	return rd.size, nil
}

// header checks a segment's first record, of type t, against the segment's
// name and the log before it, and returns what is wrong, or "".
func (r *replay) header(t recordType, payload []byte, seg segment, first bool) string {
	if t != recHeader {
		return fmt.Sprintf("segment does not begin with a header record (type %d)", t)
	}
	h, err := decodeHeader(payload)
	switch {
	case err != nil:
		return err.Error()
	case h.seq != seg.seq || h.first != seg.first:
		return fmt.Sprintf("header says segment %d from index %d, unlike the file's name", h.seq, h.first)
	case h.first != r.state.last()+1 && first:
		return fmt.Sprintf("log begins at index %d: snapshots are not supported yet", h.first)
	case h.first != r.state.last()+1:
		return fmt.Sprintf("segment begins at index %d but the log before it ends at %d", h.first, r.state.last())
	case !first && h.prevSize != r.prevSize:
		return fmt.Sprintf("header says the segment before it had %d bytes, but it has %d", h.prevSize, r.prevSize)
	case !first && h.hs != r.state.hs:
		return fmt.Sprintf("header's hard state %+v differs from the log's %+v", h.hs, r.state.hs)
	}
	if first {
		r.state.hs = h.hs
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
// torn tail, in the newest segment with no valid record after off, it cuts
// the file at off, or at groupFrom if a save's part records began there, and
// returns the new size. Otherwise it returns a *CorruptError.
func (r *replay) badRecord(f *os.File, path string, off, groupFrom, size int64, last bool, reason string) (int64, error) {
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
	r.w.log.Warn("storage: cutting a torn tail", "file", path, "offset", cut, "bytes", size-cut, "reason", reason)
	if cut == 0 {
		// Not even the header survived (it holds nothing the segments
		// before it lack): remove the file, and Open makes a new one.
		if err := os.Remove(path); err != nil {
			return 0, fmt.Errorf("storage: %w", err)
		}
		return 0, r.w.syncDir(r.w.dir)
	}
	wf, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	err = wf.Truncate(cut)
	if err != nil {
		err = fmt.Errorf("storage: %w", err)
	} else {
		err = r.w.syncFile(wf)
	}
	if cerr := wf.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: %w", cerr)
	}
	return cut, err
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
