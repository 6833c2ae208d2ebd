package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wraft/wraft/raft"
)

// fileSize returns the size of the file at path.
func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestPreallocatedReopen saves into a preallocated segment, reopens it
// (the zeros after the records are the end of the log: no warning, no
// repair), and checks that saves go on at the end of the records, each
// made durable with fdatasync alone.
func TestPreallocatedReopen(t *testing.T) {
	const segmentBytes = 64 << 10
	dir := t.TempDir()
	var logs bytes.Buffer
	opts := Options{Dir: dir, SegmentBytes: segmentBytes, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	g := newWorkload(11, false)
	var saves []saveArgs
	for round := range 3 {
		w, st := openT(t, opts)
		if diff := diffState(st, stateAfter(saves)); diff != "" {
			t.Fatalf("round %d: %s", round, diff)
		}
		if !w.prealloc {
			t.Skip("the filesystem cannot preallocate")
		}
		path := w.f.Name()
		if w.fileSize != segmentBytes || fileSize(t, path) != segmentBytes {
			t.Fatalf("round %d: segment file is %d bytes (WAL says %d), want %d", round, fileSize(t, path), w.fileSize, segmentBytes)
		}
		syncs, dataSyncs := w.syncs.Load(), w.dataSyncs.Load()
		prev := st.HardState
		for range 10 {
			at := w.size
			s := g.next()
			if err := w.Save(s.hs, s.ents); err != nil {
				t.Fatal(err)
			}
			saves = append(saves, s)
			if rec := appendSave(nil, s.hs, s.ents, w.maxPayload); w.size != at+int64(len(rec)) {
				t.Fatalf("round %d: save moved the end from %d to %d, want %d", round, at, w.size, at+int64(len(rec)))
			}
		}
		// A save that changes the term or vote also rewrites the
		// hard-state file: a file fsync and a directory fsync.
		want := uint64(10 + 2*hardStateWrites(prev, saves[len(saves)-10:]))
		if s, d := w.syncs.Load()-syncs, w.dataSyncs.Load()-dataSyncs; s != want || d != 10 {
			t.Errorf("round %d: 10 saves made %d syncs, %d of them fdatasyncs; want %d and 10", round, s, d, want)
		}
		size := w.size
		closeT(t, w)
		if have := int64(len(segmentData(t, path))); have != size {
			t.Fatalf("round %d: %d bytes of records, want %d", round, have, size)
		}
		if fileSize(t, path) != segmentBytes {
			t.Fatalf("round %d: segment file grew to %d bytes", round, fileSize(t, path))
		}
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("warnings: %s", logs.String())
	}
	if diff := diffState(reopenT(t, opts), stateAfter(saves)); diff != "" {
		t.Fatal(diff)
	}
}

// TestPreallocatedRotation fills several preallocated segments: every
// segment but the newest ends with its records (its size is the one the
// next segment's header gives), the newest is preallocated, and a full
// fsync is made only when a file's size changes. A WAL reopened with a
// smaller SegmentBytes cuts the tail of the segment it leaves; with a
// larger one, preallocates its newest segment further.
func TestPreallocatedRotation(t *testing.T) {
	const segmentBytes = 4 << 10
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: segmentBytes}
	w, _ := openT(t, opts)
	if !w.prealloc {
		t.Skip("the filesystem cannot preallocate")
	}
	g := newWorkload(12, false)
	var saves []saveArgs
	full := 0 // saves whose sync was a full fsync
	for len(segmentFiles(t, dir)) < 6 {
		s := g.next()
		syncs, dataSyncs := w.syncs.Load(), w.dataSyncs.Load()
		grows := w.size+int64(len(appendSave(nil, s.hs, s.ents, w.maxPayload))) > w.fileSize
		if err := w.Save(s.hs, s.ents); err != nil {
			t.Fatal(err)
		}
		saves = append(saves, s)
		if d := w.dataSyncs.Load() - dataSyncs; grows == (d != 0) {
			t.Fatalf("save %d: grows the file %v, but %d fdatasyncs", len(saves), grows, d)
		}
		extra := w.syncs.Load() - syncs - 1
		if len(saves) > 1 && hardStateBehind(saves[len(saves)-2].hs, s.hs) || len(saves) == 1 {
			extra -= 2 // the hard-state file and its directory
		}
		if extra > 0 {
			full++ // the new segment's file and directory
		}
	}
	closeT(t, w)
	if full != 5 {
		t.Errorf("%d saves made more than one sync, want 5 (one per rotation)", full)
	}
	checkSegmentSizes := func(t *testing.T, newest int64) {
		t.Helper()
		segs := segmentFiles(t, dir)
		for i, name := range segs {
			path := filepath.Join(dir, name)
			data, size := segmentData(t, path), fileSize(t, path)
			if i == len(segs)-1 {
				if size != newest {
					t.Fatalf("newest segment %s is %d bytes, want %d", name, size, newest)
				}
				break
			}
			if size != int64(len(data)) {
				t.Fatalf("older segment %s is %d bytes, of which %d are records", name, size, len(data))
			}
			next := segmentData(t, filepath.Join(dir, segs[i+1]))
			h, err := decodeHeader(next[headerBytes : headerBytes+binary.LittleEndian.Uint32(next)])
			if err != nil || h.prevSize != size {
				t.Fatalf("%s's header says the segment before it has %d bytes (%v), it has %d", segs[i+1], h.prevSize, err, size)
			}
		}
	}
	checkSegmentSizes(t, segmentBytes)
	if diff := diffState(reopenT(t, opts), stateAfter(saves)); diff != "" {
		t.Fatal(diff)
	}

	// Larger segments: the newest is preallocated further at the next save.
	big := Options{Dir: dir, SegmentBytes: 4 * segmentBytes}
	w, _ = openT(t, big)
	s := g.next()
	if err := w.Save(s.hs, s.ents); err != nil {
		t.Fatal(err)
	}
	saves = append(saves, s)
	for w.size < 2*segmentBytes {
		s := g.next()
		if err := w.Save(s.hs, s.ents); err != nil {
			t.Fatal(err)
		}
		saves = append(saves, s)
	}
	closeT(t, w)
	checkSegmentSizes(t, 4*segmentBytes)

	// Smaller ones: Open moves on to a new segment, cutting the old one's
	// tail first.
	n := len(segmentFiles(t, dir))
	if diff := diffState(reopenT(t, opts), stateAfter(saves)); diff != "" {
		t.Fatal(diff)
	}
	if have := len(segmentFiles(t, dir)); have != n+1 {
		t.Fatalf("%d segments after reopening with smaller ones, want %d", have, n+1)
	}
	checkSegmentSizes(t, segmentBytes)
	if diff := diffState(reopenT(t, opts), stateAfter(saves)); diff != "" {
		t.Fatal(diff)
	}
}

// TestZeroTailDamage: zeros are the end of the log only where nothing but
// zeros follows, and only in the newest segment. Zeros over records in
// the middle, or zeros after an older segment's records, are corruption.
func TestZeroTailDamage(t *testing.T) {
	build := func(t *testing.T) (dir string, segs []string, starts []int64) {
		dir = t.TempDir()
		w, _ := openT(t, Options{Dir: dir, SegmentBytes: 1 << 10, NoSync: true})
		for i := uint64(1); i <= 20; i++ {
			if w.seg.seq == 1 {
				starts = append(starts, w.size)
			}
			if err := w.Save(raft.HardState{Term: 1, Commit: i - 1}, ents(i, 1, strings.Repeat("z", 100))); err != nil {
				t.Fatal(err)
			}
		}
		closeT(t, w)
		return dir, segmentFiles(t, dir), starts
	}
	open := func(t *testing.T, dir string) (*CorruptError, error) {
		t.Helper()
		w, _, err := Open(Options{Dir: dir, SegmentBytes: 1 << 10, NoSync: true})
		if err == nil {
			w.Close()
		}
		var ce *CorruptError
		errors.As(err, &ce)
		return ce, err
	}
	t.Run("zeroed records before the tail", func(t *testing.T) {
		dir, segs, _ := build(t)
		path := filepath.Join(dir, segs[len(segs)-1])
		b, _ := os.ReadFile(path)
		data, _ := splitZeroTail(b)
		var starts []int64
		for off := int64(0); off < int64(len(data)); off += headerBytes + int64(binary.LittleEndian.Uint32(data[off:])) {
			starts = append(starts, off)
		}
		if len(starts) < 3 {
			t.Fatalf("newest segment has %d records, want 3 or more", len(starts))
		}
		// Zero the second record, as a lost or zeroed block would.
		clear(b[starts[1]:starts[2]])
		os.WriteFile(path, b, 0o600)
		ce, err := open(t, dir)
		if ce == nil || ce.Path != path || ce.Offset != starts[1] || !strings.Contains(ce.Reason, "with a valid record after it") {
			t.Fatalf("have %v; want a CorruptError at %s byte %d", err, path, starts[1])
		}
		t.Log(err)
	})
	t.Run("zeros after an older segment's records", func(t *testing.T) {
		// What a crash leaves between making the next segment and cutting
		// the preallocated tail of this one (after SegmentBytes was
		// lowered): the next segment's header gives the size of its
		// records, which are all there.
		dir, segs, _ := build(t)
		path := filepath.Join(dir, segs[1])
		b, _ := os.ReadFile(path)
		os.WriteFile(path, append(b, make([]byte, 100)...), 0o600)
		if _, err := open(t, dir); err != nil {
			t.Fatalf("have %v; want the log as it was", err)
		}
	})
	t.Run("zeroed last record of an older segment", func(t *testing.T) {
		dir, segs, starts := build(t)
		path := filepath.Join(dir, segs[1])
		b, _ := os.ReadFile(path)
		last := starts[len(starts)-1]
		clear(b[last:])
		os.WriteFile(path, b, 0o600)
		ce, err := open(t, dir)
		if ce == nil || ce.Path != path || ce.Offset != last || !strings.Contains(ce.Reason, "not the newest") {
			t.Fatalf("have %v; want a CorruptError at %s byte %d", err, path, last)
		}
		t.Log(err)
	})
}

// TestWithoutPreallocation runs the WAL as it runs where the filesystem
// cannot preallocate: segments grow as they are written, each save is
// made durable with a full fsync, and a WAL that can preallocate reopens
// them and preallocates the newest at its next save.
func TestWithoutPreallocation(t *testing.T) {
	const segmentBytes = 4 << 10
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: segmentBytes}
	w, _ := openT(t, opts)
	w.prealloc = false // as if fallocate had failed
	g := newWorkload(13, false)
	var saves []saveArgs
	for len(segmentFiles(t, dir)) < 3 {
		s := g.next()
		if err := w.Save(s.hs, s.ents); err != nil {
			t.Fatal(err)
		}
		saves = append(saves, s)
	}
	dataSyncs := w.dataSyncs.Load()
	for range 5 {
		s := g.next()
		if err := w.Save(s.hs, s.ents); err != nil {
			t.Fatal(err)
		}
		saves = append(saves, s)
	}
	if d := w.dataSyncs.Load() - dataSyncs; d != 0 {
		t.Errorf("%d fdatasyncs on a growing file, want full fsyncs", d)
	}
	path, size := w.f.Name(), w.size
	closeT(t, w)
	if have := fileSize(t, path); have != size {
		t.Fatalf("segment made without preallocation is %d bytes, has %d of records", have, size)
	}
	w, st := openT(t, opts)
	if diff := diffState(st, stateAfter(saves)); diff != "" {
		t.Fatal(diff)
	}
	s := g.next()
	if err := w.Save(s.hs, s.ents); err != nil {
		t.Fatal(err)
	}
	saves = append(saves, s)
	if w.prealloc && w.size < segmentBytes && fileSize(t, path) != segmentBytes {
		t.Errorf("newest segment not preallocated at the first save after Open: %d bytes", fileSize(t, path))
	}
	closeT(t, w)
	if diff := diffState(reopenT(t, opts), stateAfter(saves)); diff != "" {
		t.Fatal(diff)
	}
}
