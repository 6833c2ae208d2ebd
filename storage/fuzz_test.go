package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wraft/wraft/raft"
)

// FuzzOpen opens a directory whose only segment holds the fuzzer's bytes,
// beside a hard-state file of the zero state (which no log is behind).
// Open must not panic, must fail only with ErrCorrupt, and on success must
// return a log that keeps the rules, leave the file a prefix of what it
// was (its torn tail zeroed rather than cut if its header says it was
// preallocated, followed by a rebase mark if it fell back from snapshots
// it does not find, and then by the zeros of preallocation), return the
// same state when opened again, and take a new save.
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
		// The records only, so the header must not claim a preallocation.
		b := withoutPrealloc(f, segmentData(f, filepath.Join(dir, segment{0, 1}.name())))
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
	zeroHS := encodeHardStateFile(hardStateRecord{})
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
		if err := os.WriteFile(filepath.Join(dir, HardStateFile), zeroHS, 0o600); err != nil {
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
		// Open may cut the file, or zero its torn tail; a segment it
		// appends a mark to, it preallocates.
		records, zeros := splitZeroTail(after)
		if !bytes.HasPrefix(data, after) &&
			(!zeros || (!bytes.HasPrefix(data, records) && !isRebaseMark(commonPrefix(data, records), records))) {
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

// withoutPrealloc returns the records of a segment with its header record
// rewritten to say that the file was not preallocated.
func withoutPrealloc(t testing.TB, b []byte) []byte {
	t.Helper()
	n := headerBytes + int(binary.LittleEndian.Uint32(b))
	h, err := decodeHeader(b[headerBytes:n])
	if err != nil {
		t.Fatal(err)
	}
	h.prealloc = 0
	return append(appendHeaderRecord(nil, h), b[n:]...)
}

// FuzzRecordPayload decodes the fuzzer's bytes as the payload of each
// record type. Decoding must not panic; what decodes must encode back to
// a record that decodes the same.
func FuzzRecordPayload(f *testing.F) {
	hs := raft.HardState{Term: 3, Vote: 2, Commit: 4}
	payload := func(rec []byte) []byte { return rec[headerBytes:] }
	f.Add(payload(appendHeaderRecord(nil, segmentHeader{seq: 2, first: 9, prevSize: 4096, hs: hs, snap: 5, snapTerm: 2, prealloc: 1 << 20})))
	f.Add(payload(appendSave(nil, hs, ents(4, 3, "a", "bb", ""), maxPayloadBytes)))
	f.Add(payload(appendSave(nil, hs, nil, maxPayloadBytes)))
	f.Add(payload(appendMarkRecord(nil, mark{index: 7, term: 3, keep: true, hs: hs})))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		if h, err := decodeHeader(p); err == nil {
			h.version = formatVersion
			rec := appendHeaderRecord(nil, h)
			again, err := decodeHeader(rec[headerBytes:])
			if err != nil || again != h {
				t.Fatalf("header %+v re-decodes as %+v, %v", h, again, err)
			}
		}
		if hs, es, err := decodeSave(p); err == nil {
			rec := appendSave(nil, hs, es, maxPayloadBytes)
			hs2, es2, err := decodeSave(rec[headerBytes:])
			if err != nil || hs2 != hs || len(es2) != len(es) {
				t.Fatalf("save %+v (%d entries) re-decodes as %+v (%d entries), %v", hs, len(es), hs2, len(es2), err)
			}
			for i := range es {
				if es[i].Index != es2[i].Index || es[i].Term != es2[i].Term || es[i].Type != es2[i].Type || !bytes.Equal(es[i].Data, es2[i].Data) {
					t.Fatalf("entry %d: %+v re-decodes as %+v", i, es[i], es2[i])
				}
			}
		}
		if es, err := decodePart(p); err == nil && len(es) > 0 {
			first, err := firstPart(es)
			if err != nil || len(first) != 1 || first[0].Index != es[0].Index || first[0].Term != es[0].Term ||
				first[0].Type != es[0].Type || !bytes.Equal(first[0].Data, es[0].Data) {
				t.Fatalf("part's first entry %+v re-decodes as %+v, %v", es[0], first, err)
			}
		}
		if m, err := decodeMark(p); err == nil {
			rec := appendMarkRecord(nil, m)
			again, err := decodeMark(rec[headerBytes:])
			if err != nil || again != m {
				t.Fatalf("mark %+v re-decodes as %+v, %v", m, again, err)
			}
		}
	})
}

// firstPart encodes es as a save split into part records of one entry
// each and decodes the first part back.
func firstPart(es []raft.Entry) ([]raft.Entry, error) {
	rec := appendSave(nil, raft.HardState{}, append(slices.Clone(es), es[len(es)-1]), 1)
	if recordType(rec[8]) != recPart {
		return nil, errors.New("storage: no part record made")
	}
	n := headerBytes + int(binary.LittleEndian.Uint32(rec))
	return decodePart(rec[headerBytes:n])
}

// FuzzSnapshotFile reads the fuzzer's bytes as a snapshot file. It must
// not panic, must fail only with a CorruptError naming the file, and what
// it reads must write back to a file that reads the same.
func FuzzSnapshotFile(f *testing.F) {
	snap := snapAt(5, 2, "state")
	snap.Meta.Members = []raft.Member{{ID: 1, Addr: "raft=127.0.0.1:7001"}, {ID: 4, Learner: true}}
	dir := f.TempDir()
	w, _ := openT(f, Options{Dir: dir, NoSync: true})
	for _, s := range []raft.Snapshot{snap, snapAt(5, 2, "")} {
		if err := w.writeSnapshot(s); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, snapFile{5, 2}.name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	closeT(f, w)
	f.Add([]byte(snapMagic))
	name := snapFile{5, 2}
	path := filepath.Join(dir, name.name())
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := readSnapshot(dir, name)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Path != path || ce.Offset < 0 || ce.Offset > int64(len(b)) {
				t.Fatalf("have %v; want a CorruptError naming %s", err, path)
			}
			return
		}
		hdr := encodeSnapshotHeader(s.Meta)
		crc := crc32.Update(crc32.Update(0, castagnoli, hdr), castagnoli, s.Data)
		again := binary.LittleEndian.AppendUint32(append(hdr, s.Data...), crc)
		if err := os.WriteFile(path, again, 0o600); err != nil {
			t.Fatal(err)
		}
		s2, err := readSnapshot(dir, name)
		if err != nil || s2.Meta.Index != s.Meta.Index || s2.Meta.Term != s.Meta.Term ||
			!slices.Equal(s2.Meta.Members, s.Meta.Members) || !bytes.Equal(s2.Data, s.Data) {
			t.Fatalf("snapshot %+v reads back as %+v, %v", s.Meta, s2.Meta, err)
		}
	})
}

// FuzzHardStateFile decodes the fuzzer's bytes as a hard-state file. It
// must not panic, and what decodes must encode to bytes that decode the
// same.
func FuzzHardStateFile(f *testing.F) {
	f.Add(encodeHardStateFile(hardStateRecord{}))
	f.Add(encodeHardStateFile(hardStateRecord{hs: raft.HardState{Term: 23, Vote: 2, Commit: 588}, seq: 7}))
	f.Add([]byte(hardStateMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, off, reason := decodeHardStateFile(b)
		if reason != "" {
			if off < 0 || off > len(b) {
				t.Fatalf("damage at byte %d of %d", off, len(b))
			}
			return
		}
		again, _, reason := decodeHardStateFile(encodeHardStateFile(rec))
		if reason != "" || again != rec {
			t.Fatalf("%+v re-decodes as %+v (%s)", rec, again, reason)
		}
	})
}
