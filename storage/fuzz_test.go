package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/wraft/wraft/raft"
)

// FuzzOpen opens a directory whose only segment holds the fuzzer's bytes.
// Open must not panic, must fail only with ErrCorrupt, and on success must
// return a log that keeps the rules, leave the file a prefix of what it
// was (followed by a rebase mark if it fell back from snapshots it does not
// find, and then by the zeros of preallocation), return the same state when
// opened again, and take a new save.
func FuzzOpen(f *testing.F) {
	// Small segments: Open reads a preallocated segment's zeros through.
	const segmentBytes = 64 << 10
	for _, seed := range []struct {
		saves      int
		maxPayload int
		snapshots  bool
	}{{0, maxPayloadBytes, false}, {1, maxPayloadBytes, false}, {4, maxPayloadBytes, false}, {12, maxPayloadBytes, false},
		{6, 60, false}, {6, maxPayloadBytes, true}, {10, maxPayloadBytes, true}} {
		dir := f.TempDir()
		w, _ := openT(f, Options{Dir: dir, SegmentBytes: segmentBytes, NoSync: true})
		w.maxPayload = seed.maxPayload
		// Small seeds: the fuzzer minimizes every input it finds new, one
		// Open per byte.
		g := newWorkload(uint64(seed.saves), false)
		for i := range seed.saves {
			var o op
			if seed.snapshots && i%3 == 2 {
				o = g.nextSnapshot()
			} else {
				o.saveArgs = g.next()
			}
			if err := o.do(w); err != nil {
				f.Fatal(err)
			}
		}
		closeT(f, w)
		b := segmentData(f, filepath.Join(dir, segment{0, 1}.name()))
		f.Add(b)
		if len(b) > 40 {
			f.Add(b[:len(b)-3])
			f.Add(append(bytes.Clone(b), make([]byte, 100)...))
		}
	}
	f.Add([]byte{})
	// One directory for every input, emptied each time: a new one per
	// input would take most of the time.
	dir := f.TempDir()
	path := filepath.Join(dir, segment{0, 1}.name())
	f.Fuzz(func(t *testing.T, data []byte) {
		des, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			if err := os.Remove(filepath.Join(dir, de.Name())); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		opts := Options{Dir: dir, SegmentBytes: segmentBytes, NoSync: true}
		w, st, err := Open(opts)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Path != path || ce.Offset < 0 || ce.Offset > int64(len(data)) {
				t.Fatalf("Open: %v (want a CorruptError naming %s and an offset in it)", err, path)
			}
			return
		}
		closeT(t, w)
		checkContiguous(t, st)
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Open may cut the file, or replace it with a new segment if not
		// even its header was whole; a segment it makes or appends a mark
		// to, it preallocates.
		fresh := appendHeaderRecord(nil, segmentHeader{seq: 0, first: 1})
		records, zeros := splitZeroTail(after)
		if !bytes.HasPrefix(data, after) &&
			(!zeros || (!bytes.Equal(records, fresh) && !isRebaseMark(commonPrefix(data, records), records))) {
			t.Fatalf("Open changed the file beyond cutting it: %d bytes, were %d", len(after), len(data))
		}
		w, again, err := Open(opts)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		if diff := diffState(again, st); diff != "" {
			t.Fatalf("second Open: %s", diff)
		}
		g := &workload{rng: rand.New(rand.NewPCG(uint64(len(data)), 0)), st: again}
		s := g.next()
		if err := w.Save(s.hs, s.ents); err != nil {
			t.Fatalf("Save after Open: %v", err)
		}
		if err := w.Save(raft.HardState{Term: s.hs.Term + 1, Commit: s.hs.Commit}, nil); err != nil {
			t.Fatalf("Save after Open: %v", err)
		}
		g.apply(raft.HardState{Term: s.hs.Term + 1, Commit: s.hs.Commit}, nil)
		closeT(t, w)
		if diff := diffState(reopenT(t, opts), g.st); diff != "" {
			t.Fatalf("reopened after saves: %s", diff)
		}
	})
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// isRebaseMark reports whether b[from:] is one whole rebase mark record,
// possibly after a shorter prefix of a record that Open cut.
func isRebaseMark(from int, b []byte) bool {
	for start := max(from-headerBytes-64, 0); start <= from; start++ {
		rec := b[start:]
		if len(rec) < headerBytes || int(binary.LittleEndian.Uint32(rec)) != len(rec)-headerBytes ||
			binary.LittleEndian.Uint32(rec[4:]) != recordCRC(rec, rec[headerBytes:]) || recordType(rec[8]) != recMark {
			continue
		}
		if m, err := decodeMark(rec[headerBytes:]); err == nil && m.rebase {
			return true
		}
	}
	return false
}
