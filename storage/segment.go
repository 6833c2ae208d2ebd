package storage

import (
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
	base, ok := strings.CutSuffix(name, ".wal")
	if !ok || len(base) != 33 || base[16] != '-' || strings.ToLower(base) != base {
		return segment{}, false
	}
	seq, err1 := strconv.ParseUint(base[:16], 16, 64)
	first, err2 := strconv.ParseUint(base[17:], 16, 64)
	if err1 != nil || err2 != nil {
		return segment{}, false
	}
	return segment{seq: seq, first: first}, true
}

// listSegments returns the segments in dir in seq order, and the names of
// leftover temporary files.
func listSegments(dir string) (segs []segment, tmps []string, err error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		if rest, ok := strings.CutSuffix(name, tmpSuffix); ok {
			if _, ok := parseSegmentName(rest); ok {
				tmps = append(tmps, name)
			}
			continue
		}
		if s, ok := parseSegmentName(name); ok && de.Type().IsRegular() {
			segs = append(segs, s)
		}
	}
	slices.SortFunc(segs, func(a, b segment) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return segs, tmps, nil
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

// syncFile fsyncs f, unless Options.NoSync.
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

// createSegment makes the segment that header h describes, atomically: it
// writes the header record to a temporary file, fsyncs it, renames it into
// place and fsyncs the directory. It returns the file open for appending
// and its size.
func (w *WAL) createSegment(h segmentHeader) (*os.File, int64, error) {
	s := segment{seq: h.seq, first: h.first}
	path := filepath.Join(w.dir, s.name())
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: create segment: %w", err)
	}
	hdr := appendHeaderRecord(nil, h)
	if _, err = f.Write(hdr); err != nil {
		err = fmt.Errorf("storage: write %s: %w", tmp, err)
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
		return nil, 0, err
	}
	// Reopen under the final name, which errors then show.
	if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return nil, 0, fmt.Errorf("storage: %w", err)
	}
	return f, int64(len(hdr)), nil
}
