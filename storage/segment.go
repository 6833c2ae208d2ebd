package storage

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// segment names one segment file.
type segment struct {
	seq   uint64
	first uint64
}

func (s segment) name() string { return fmt.Sprintf("%016x-%016x.wal", s.seq, s.first) }

const tmpSuffix = ".tmp"

// parseSegmentName parses a name that segment.name made.
func parseSegmentName(name string) (segment, bool) {
	seq, first, ok := parseHexPair(name, ".wal")
	return segment{seq: seq, first: first}, ok
}

// parseHexPair parses a file name "<a hex16>-<b hex16><suffix>", in lower
// case, as segment and snapshot files are named.
func parseHexPair(name, suffix string) (a, b uint64, ok bool) {
	base, ok := strings.CutSuffix(name, suffix)
	if !ok || len(base) != 33 || base[16] != '-' || strings.ToLower(base) != base {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(base[:16], 16, 64)
	b, err2 := strconv.ParseUint(base[17:], 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return a, b, true
}

// listSegments returns the segments in dir in seq order, and the names of
// leftover temporary files.
func listSegments(dir string) ([]segment, []string, error) {
	segs, tmps, err := listFiles(dir, parseSegmentName)
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.seq, b.seq) })
	return segs, tmps, err
}

// listFiles returns the regular files in dir whose names parse, and the
// names of leftover temporary files (a parsing name with tmpSuffix).
func listFiles[T any](dir string, parse func(string) (T, bool)) (files []T, tmps []string, err error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		if rest, ok := strings.CutSuffix(name, tmpSuffix); ok {
			if _, ok := parse(rest); ok {
				tmps = append(tmps, name)
			}
			continue
		}
		if f, ok := parse(name); ok && de.Type().IsRegular() {
			files = append(files, f)
		}
	}
	return files, tmps, nil
}

// syncDir fsyncs a directory, so that the files created, renamed or removed
// in it stay so after a crash.
func (w *WAL) syncDir(dir string) error {
	if w.noSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	w.syncs.Add(1)
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: fsync directory %s: %w", dir, err)
	}
	return nil
}

// syncFile fsyncs f, data and metadata, unless Options.NoSync.
func (w *WAL) syncFile(f *os.File) error {
	if w.noSync {
		return nil
	}
	w.syncs.Add(1)
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: fsync %s: %w", f.Name(), err)
	}
	return nil
}

// syncData fdatasyncs f (a full fsync where the platform has no
// fdatasync), unless Options.NoSync. Use it only when f's size has not
// changed since its last full fsync.
func (w *WAL) syncData(f *os.File) error {
	if w.noSync {
		return nil
	}
	w.syncs.Add(1)
	w.dataSyncs.Add(1)
	if err := datasync(f); err != nil {
		return fmt.Errorf("storage: fdatasync %s: %w", f.Name(), err)
	}
	return nil
}

// preallocateSegment tries to make f, a segment whose file now has
// fileSize bytes, w.segmentBytes long, and returns the file's size after
// the attempt. On any failure it turns preallocation off for the WAL's
// life (the segments then grow as they are written, each fsync a full
// one), logging why. The caller must fsync f in full afterwards: its size
// may have changed, even on failure.
func (w *WAL) preallocateSegment(f *os.File, fileSize int64) (int64, error) {
	err := preallocate(f, w.segmentBytes)
	if err == nil {
		return max(fileSize, w.segmentBytes), nil
	}
	w.prealloc = false
	if errors.Is(err, errors.ErrUnsupported) {
		w.log.Debug("storage: the filesystem cannot preallocate segments", "file", f.Name())
	} else {
		w.log.Warn("storage: cannot preallocate segments; going on without", "file", f.Name(), "err", err)
	}
	// A failed fallocate may have allocated, and grown the file, in part.
	fi, serr := f.Stat()
	if serr != nil {
		return 0, fmt.Errorf("storage: %w", serr)
	}
	return fi.Size(), nil
}

// createSegment makes the segment that header h describes, atomically: it
// preallocates a temporary file to w.segmentBytes (if it can), writes the
// header record (with the size preallocated) at its start, fsyncs it,
// renames it into place and fsyncs the directory. A segment file is so
// never seen without its whole header. It returns the file open for writing, the size of its
// data (the header) and the file's size.
func (w *WAL) createSegment(h segmentHeader) (f *os.File, size, fileSize int64, err error) {
	s := segment{seq: h.seq, first: h.first}
	path := filepath.Join(w.dir, s.name())
	tmp := path + tmpSuffix
	f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("storage: create segment: %w", err)
	}
	// Preallocate before the header is written, so that the header can
	// say to what size: a newest segment found shorter was cut.
	h.prealloc = 0
	if w.prealloc {
		fileSize, err = w.preallocateSegment(f, 0)
		if err == nil && w.prealloc {
			h.prealloc = fileSize
		}
	}
	hdr := appendHeaderRecord(nil, h)
	size = int64(len(hdr))
	if err == nil {
		if _, err = f.WriteAt(hdr, 0); err != nil {
			err = fmt.Errorf("storage: write %s: %w", tmp, err)
		}
		fileSize = max(fileSize, size)
	}
	if err == nil {
		err = w.syncFile(f)
	}
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			err = fmt.Errorf("storage: %w", err)
		}
	}
	if err == nil {
		err = w.syncDir(w.dir)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("storage: %w", cerr)
	}
	if err != nil {
		return nil, 0, 0, err
	}
	// Reopen under the final name, which errors then show.
	if f, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
		return nil, 0, 0, fmt.Errorf("storage: %w", err)
	}
	return f, size, fileSize, nil
}
