package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wraft/wraft/raft"
)

func openT(t testing.TB, opts Options) (*WAL, State) {
	t.Helper()
	w, st, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w, st
}

func closeT(t testing.TB, w *WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func reopenT(t testing.TB, opts Options) State {
	t.Helper()
	w, st := openT(t, opts)
	closeT(t, w)
	return st
}

// splitZeroTail splits the bytes of a segment file into its records and
// the zeros after them (a preallocated tail). It walks the records by their
// lengths, as far as they fit, up to a record header of zeros; ok is false
// if anything but zeros follows.
func splitZeroTail(b []byte) (data []byte, ok bool) {
	off := 0
	for off+headerBytes <= len(b) && !allZero(b[off:off+headerBytes]) {
		end := off + headerBytes + int(binary.LittleEndian.Uint32(b[off:]))
		if end > len(b) {
			break
		}
		off = end
	}
	return b[:off], allZero(b[off:])
}

// rewriteSegment makes the segment file at path hold b, followed by zeros
// up to the size the file had (its preallocation), as damage inside a
// preallocated file leaves it: only a cut makes such a file shorter.
func rewriteSegment(t testing.TB, path string, b []byte) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) < fi.Size() {
		b = append(bytes.Clone(b), make([]byte, fi.Size()-int64(len(b)))...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// padTo returns b followed by zeros up to size bytes.
func padTo(b []byte, size int64) []byte {
	if int64(len(b)) >= size {
		return b
	}
	return append(bytes.Clone(b), make([]byte, size-int64(len(b)))...)
}

// hardStateWrites returns how many times saves, made after a save of hs,
// rewrite the hard-state file: once for each that changes the term or
// vote.
func hardStateWrites(hs raft.HardState, saves []saveArgs) int {
	n := 0
	for _, s := range saves {
		if hardStateBehind(hs, s.hs) {
			n++
		}
		hs = s.hs
	}
	return n
}

func allZero(b []byte) bool { return !slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) }

// segmentData returns the records of the segment file at path, without
// its preallocated tail, and fails the test if the file is not records
// followed by zeros.
func segmentData(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, ok := splitZeroTail(b)
	if !ok {
		t.Fatalf("%s: not records followed by zeros", path)
	}
	return data
}

func ents(first, term uint64, data ...string) []raft.Entry {
	var es []raft.Entry
	for i, d := range data {
		es = append(es, raft.Entry{Index: first + uint64(i), Term: term, Data: []byte(d)})
	}
	return es
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	segs, _, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range segs {
		names = append(names, s.name())
	}
	return names
}

func TestOpenEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "wal")
	w, st := openT(t, Options{Dir: dir})
	if diff := diffState(st, State{}); diff != "" {
		t.Fatalf("new WAL: %s", diff)
	}
	closeT(t, w)
	if have, want := segmentFiles(t, dir), []string{"0000000000000000-0000000000000001.wal"}; len(have) != 1 || have[0] != want[0] {
		t.Fatalf("segments: have %v, want %v", have, want)
	}
	if diff := diffState(reopenT(t, Options{Dir: dir}), State{}); diff != "" {
		t.Fatalf("reopened: %s", diff)
	}
}

// TestSaveSemantics checks Persist's rules one save at a time, reopening
// after each step.
func TestSaveSemantics(t *testing.T) {
	hs := func(term, vote, commit uint64) raft.HardState {
		return raft.HardState{Term: term, Vote: vote, Commit: commit}
	}
	steps := []struct {
		name string
		save saveArgs
		want []raft.Entry
	}{
		{"vote only", saveArgs{hs: hs(1, 2, 0)}, nil},
		{"append", saveArgs{hs(1, 2, 0), ents(1, 1, "a", "b", "c")}, ents(1, 1, "a", "b", "c")},
		{"append more", saveArgs{hs(1, 2, 1), ents(4, 1, "d", "e")}, ents(1, 1, "a", "b", "c", "d", "e")},
		{"commit only", saveArgs{hs: hs(1, 2, 3)}, ents(1, 1, "a", "b", "c", "d", "e")},
		{"overwrite tail", saveArgs{hs(2, 0, 3), ents(4, 2, "D")}, append(ents(1, 1, "a", "b", "c"), ents(4, 2, "D")...)},
		{"overwrite last", saveArgs{hs(3, 3, 3), ents(4, 3, "X", "Y", "Z")}, append(ents(1, 1, "a", "b", "c"), ents(4, 3, "X", "Y", "Z")...)},
		{"rewrite same span", saveArgs{hs(4, 1, 3), ents(5, 4, "P", "Q")}, append(append(ents(1, 1, "a", "b", "c"), ents(4, 3, "X")...), ents(5, 4, "P", "Q")...)},
		{"term only", saveArgs{hs: hs(5, 0, 3)}, append(append(ents(1, 1, "a", "b", "c"), ents(4, 3, "X")...), ents(5, 4, "P", "Q")...)},
		{"commit all", saveArgs{hs: hs(5, 0, 6)}, append(append(ents(1, 1, "a", "b", "c"), ents(4, 3, "X")...), ents(5, 4, "P", "Q")...)},
	}
	dir := t.TempDir()
	for _, s := range steps {
		w, _ := openT(t, Options{Dir: dir})
		if err := w.Save(s.save.hs, s.save.ents); err != nil {
			t.Fatalf("%s: Save: %v", s.name, err)
		}
		closeT(t, w)
		if diff := diffState(reopenT(t, Options{Dir: dir}), State{HardState: s.save.hs, Entries: s.want}); diff != "" {
			t.Fatalf("%s: %s", s.name, diff)
		}
	}
}

func TestInvalidSave(t *testing.T) {
	// The log before each case: entries 1-3 in term 1, 4-5 in term 2,
	// term 2, vote 1, commit 3.
	base := []saveArgs{
		{raft.HardState{Term: 1, Vote: 1}, ents(1, 1, "a", "b", "c")},
		{raft.HardState{Term: 2, Vote: 1, Commit: 3}, ents(4, 2, "d", "e")},
	}
	hs := raft.HardState{Term: 2, Vote: 1, Commit: 3}
	tests := []struct {
		name string
		save saveArgs
		want string
	}{
		{"index 0", saveArgs{hs, ents(0, 2, "x")}, "entries start at index 0"},
		{"gap", saveArgs{hs, ents(7, 2, "x")}, "entries start at index 7 but the log ends at 5"},
		{"overwrite committed", saveArgs{hs, ents(3, 2, "x")}, "overwriting committed entries"},
		{"not contiguous", saveArgs{hs, []raft.Entry{{Index: 6, Term: 2}, {Index: 8, Term: 2}}}, "not contiguous"},
		{"term 0", saveArgs{hs, []raft.Entry{{Index: 6}}}, "has term 0"},
		{"term down", saveArgs{raft.HardState{Term: 2, Vote: 1, Commit: 3}, ents(6, 1, "x")}, "term goes down from 2 to 1"},
		{"term down in batch", saveArgs{hs, []raft.Entry{{Index: 6, Term: 2}, {Index: 7, Term: 1}}}, "term goes down"},
		{"entry above hard state", saveArgs{hs, ents(6, 3, "x")}, "above the hard state's term 2"},
		{"unknown type", saveArgs{hs, []raft.Entry{{Index: 6, Term: 2, Type: 9}}}, "unknown type 9"},
		{"hard state term down", saveArgs{hs: raft.HardState{Term: 1, Vote: 1, Commit: 3}}, "term goes down from 2 to 1"},
		{"second vote", saveArgs{hs: raft.HardState{Term: 2, Vote: 3, Commit: 3}}, "vote changes from 1 to 3 within term 2"},
		{"vote withdrawn", saveArgs{hs: raft.HardState{Term: 2, Vote: 0, Commit: 3}}, "vote changes from 1 to 0"},
		{"commit down", saveArgs{hs: raft.HardState{Term: 2, Vote: 1, Commit: 2}}, "commit index goes down from 3 to 2"},
		{"commit beyond log", saveArgs{hs: raft.HardState{Term: 2, Vote: 1, Commit: 6}}, "commit index 6 is beyond the last index 5"},
		{"commit beyond truncated log", saveArgs{raft.HardState{Term: 3, Commit: 5}, ents(4, 3, "x")}, "commit index 5 is beyond the last index 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := openT(t, Options{Dir: dir, NoSync: true})
			for _, s := range base {
				if err := w.Save(s.hs, s.ents); err != nil {
					t.Fatal(err)
				}
			}
			err := w.Save(tt.save.hs, tt.save.ents)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Save: have %v, want ErrInvalid with %q", err, tt.want)
			}
			// Nothing was written, and the WAL goes on.
			if err := w.Save(raft.HardState{Term: 2, Vote: 1, Commit: 4}, nil); err != nil {
				t.Fatalf("Save after a refused one: %v", err)
			}
			closeT(t, w)
			st := reopenT(t, Options{Dir: dir})
			want := State{HardState: raft.HardState{Term: 2, Vote: 1, Commit: 4}, Entries: append(ents(1, 1, "a", "b", "c"), ents(4, 2, "d", "e")...)}
			if diff := diffState(st, want); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

// TestWorkloadRoundTrip saves a long random workload across many segments,
// reopening now and then, and checks what each Open returns.
func TestWorkloadRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name         string
		segmentBytes int64
		maxPayload   int
	}{
		{"one segment", 0, 0},
		{"small segments", 2 << 10, 0},
		{"tiny segments", 1, 0},
		{"split saves", 4 << 10, 300},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Dir: dir, SegmentBytes: tt.segmentBytes, NoSync: true}
			g := newWorkload(1, true)
			for round := range 8 {
				w, st := openT(t, opts)
				if diff := diffState(st, g.st); diff != "" {
					t.Fatalf("round %d, after %d saves: %s", round, g.n, diff)
				}
				if tt.maxPayload > 0 {
					w.maxPayload = tt.maxPayload
				}
				for range 60 {
					s := g.next()
					if err := w.Save(s.hs, s.ents); err != nil {
						t.Fatalf("save %d: %v", g.n, err)
					}
				}
				closeT(t, w)
			}
			if diff := diffState(reopenT(t, opts), g.st); diff != "" {
				t.Fatalf("final: %s", diff)
			}
			segs := segmentFiles(t, dir)
			if tt.segmentBytes > 0 && tt.segmentBytes < 4<<10 && len(segs) < 10 {
				t.Fatalf("only %d segments", len(segs))
			}
			t.Logf("%d saves, %d entries, %d segments", g.n, len(g.st.Entries), len(segs))
		})
	}
}

func TestRotationLayout(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 90, NoSync: true}
	w, _ := openT(t, opts)
	hs := raft.HardState{Term: 1, Vote: 1}
	for i := uint64(1); i <= 6; i++ {
		hs.Commit = i - 1
		if err := w.Save(hs, ents(i, 1, strings.Repeat("x", 60))); err != nil {
			t.Fatal(err)
		}
	}
	closeT(t, w)
	// Each save fills a segment; the segment after it starts at the next
	// index.
	want := []string{
		"0000000000000000-0000000000000001.wal",
		"0000000000000001-0000000000000002.wal",
		"0000000000000002-0000000000000003.wal",
		"0000000000000003-0000000000000004.wal",
		"0000000000000004-0000000000000005.wal",
		"0000000000000005-0000000000000006.wal",
		"0000000000000006-0000000000000007.wal",
	}
	if have := segmentFiles(t, dir); strings.Join(have, " ") != strings.Join(want, " ") {
		t.Fatalf("segments:\nhave %v\nwant %v", have, want)
	}
	st := reopenT(t, opts)
	if len(st.Entries) != 6 || st.HardState != hs {
		t.Fatalf("reopened: %d entries, %+v", len(st.Entries), st.HardState)
	}
	// A truncation back into an older segment.
	w, _ = openT(t, opts)
	if err := w.Save(raft.HardState{Term: 2, Commit: 5}, ents(6, 2, "y")); err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	st = reopenT(t, opts)
	if len(st.Entries) != 6 || string(st.Entries[5].Data) != "y" || st.Entries[5].Term != 2 {
		t.Fatalf("after overwrite: %+v", st.Entries[5])
	}
}

// TestGroupCommit holds the first fsync until every other saver has
// enqueued, and checks that one more flush covers them all.
func TestGroupCommit(t *testing.T) {
	const savers = 64
	w, _ := openT(t, Options{Dir: t.TempDir()})
	defer closeT(t, w)
	// Every saver stores the same hard state, so they may land in any
	// order; the log stays empty. A first save sets the term and vote,
	// which rewrites the hard-state file, once.
	hs := raft.HardState{Term: 1, Vote: 1}
	if err := w.Save(hs, nil); err != nil {
		t.Fatal(err)
	}

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	w.onFlush = func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	before := w.syncs.Load()

	// The first saver's flush blocks.
	recordLen := len(appendSave(nil, hs, nil, maxPayloadBytes))
	var wg sync.WaitGroup
	errs := make(chan error, savers)
	wg.Go(func() { errs <- w.Save(hs, nil) })
	<-entered
	for range savers - 1 {
		wg.Go(func() { errs <- w.Save(hs, nil) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.pending) / recordLen
		w.mu.Unlock()
		if n == savers-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("savers did not queue up")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if have := w.syncs.Load() - before; have != 2 {
		t.Fatalf("%d saves took %d fsyncs, want 2", savers, have)
	}
}

// TestConcurrentAppends runs concurrent savers that enqueue in index order
// (under their own lock) and wait apart, as a pipelining host does.
func TestConcurrentAppends(t *testing.T) {
	const savers, each = 16, 50
	dir := t.TempDir()
	w, _ := openT(t, Options{Dir: dir, SegmentBytes: 8 << 10})
	before := w.syncs.Load()
	wait, _ := startSavers(t, w, savers, each)
	wait()
	syncs := w.syncs.Load() - before
	closeT(t, w)
	st := reopenT(t, Options{Dir: dir})
	checkContiguous(t, st)
	if len(st.Entries) != savers*each {
		t.Fatalf("have %d entries, want %d", len(st.Entries), savers*each)
	}
	t.Logf("%d saves, %d fsyncs (rotations included)", savers*each, syncs)
	if syncs >= savers*each {
		t.Fatalf("no group commit: %d saves took %d fsyncs", savers*each, syncs)
	}
}

func TestEnqueuePipeline(t *testing.T) {
	dir := t.TempDir()
	w, _ := openT(t, Options{Dir: dir})
	if err := w.Save(raft.HardState{Term: 1}, nil); err != nil { // the new term's hard-state file
		t.Fatal(err)
	}
	before := w.syncs.Load()
	var tickets []Ticket
	for i := uint64(1); i <= 10; i++ {
		tk, err := w.Enqueue(raft.HardState{Term: 1, Commit: i - 1}, ents(i, 1, "p"))
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk)
	}
	for i := len(tickets) - 1; i >= 0; i-- {
		if err := tickets[i].Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if have := w.syncs.Load() - before; have != 1 {
		t.Fatalf("10 enqueued saves took %d fsyncs, want 1", have)
	}
	if err := (Ticket{}).Wait(); err != nil {
		t.Fatalf("zero Ticket: %v", err)
	}
	// Close writes what is queued and not waited for.
	if _, err := w.Enqueue(raft.HardState{Term: 1, Commit: 10}, nil); err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	if st := reopenT(t, Options{Dir: dir}); len(st.Entries) != 10 || st.HardState.Commit != 10 {
		t.Fatalf("reopened: %d entries, %+v", len(st.Entries), st.HardState)
	}
}

func TestNoSync(t *testing.T) {
	w, _ := openT(t, Options{Dir: filepath.Join(t.TempDir(), "new"), NoSync: true, SegmentBytes: 1})
	for i := uint64(1); i <= 5; i++ {
		if err := w.Save(raft.HardState{Term: 1}, ents(i, 1, "x")); err != nil {
			t.Fatal(err)
		}
	}
	closeT(t, w)
	if n := w.syncs.Load(); n != 0 {
		t.Fatalf("NoSync made %d fsyncs", n)
	}
}

func TestLockedAndClosed(t *testing.T) {
	dir := t.TempDir()
	w, _ := openT(t, Options{Dir: dir})
	if _, _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: have %v, want ErrLocked", err)
	}
	closeT(t, w)
	if err := w.Save(raft.HardState{Term: 1}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Save after Close: have %v, want ErrClosed", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: have %v, want ErrClosed", err)
	}
	w, _ = openT(t, Options{Dir: dir})
	closeT(t, w)
}

func TestOptionsErrors(t *testing.T) {
	if _, _, err := Open(Options{}); err == nil {
		t.Fatal("Open with no Dir succeeded")
	}
	if _, _, err := Open(Options{Dir: t.TempDir(), SegmentBytes: -1}); err == nil {
		t.Fatal("Open with a negative SegmentBytes succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(Options{Dir: file}); err == nil {
		t.Fatal("Open on a file succeeded")
	}
}

// TestTornTailRepair appends what a crash can leave after the last record
// and checks that Open cuts it, warns, and that the WAL goes on.
func TestTornTailRepair(t *testing.T) {
	g := newWorkload(7, false)
	var saves []saveArgs
	for range 20 {
		saves = append(saves, g.next())
	}
	last := saves[len(saves)-1]
	partial := appendSave(nil, last.hs, last.ents, maxPayloadBytes)
	zeros := func(n int) []byte { return make([]byte, n) }
	// The record without its last nonzero byte and the zeros after it,
	// which the zeros after a torn write in a preallocated segment would
	// otherwise complete.
	short := len(partial) - 1
	for partial[short] == 0 {
		short--
	}
	tails := []struct {
		name string
		tail []byte
		torn bool // else a zero tail: the end of the data, left as it is
	}{
		{"zeros", zeros(4096), false},
		{"a few zeros", zeros(5), false},
		{"one byte", []byte{7}, true},
		{"partial header", partial[:5], true},
		{"partial payload", partial[:short], true},
		{"garbage", bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 100), true},
		{"length over limit", []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 2}, true},
		// What a power loss leaves in a preallocated segment: the last
		// write in part, then the zeros it did not reach.
		{"partial header, zeros", append(bytes.Clone(partial[:5]), zeros(4096)...), true},
		{"partial payload, zeros", append(bytes.Clone(partial[:len(partial)/2]), zeros(4096)...), true},
		{"zeroed header, payload", append(zeros(headerBytes), partial[headerBytes:]...), true},
		{"zeros, garbage, zeros", append(append(zeros(700), 0xde, 0xad), zeros(300)...), true},
	}
	const segmentBytes = 1 << 20
	for _, tt := range tails {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := openT(t, Options{Dir: dir, NoSync: true, SegmentBytes: segmentBytes})
			for _, s := range saves[:len(saves)-1] {
				if err := w.Save(s.hs, s.ents); err != nil {
					t.Fatal(err)
				}
			}
			closeT(t, w)
			path := filepath.Join(dir, segmentFiles(t, dir)[0])
			good := segmentData(t, path)
			damaged := append(bytes.Clone(good), tt.tail...)
			rewriteSegment(t, path, damaged)
			size := fileSize(t, path)
			good, damaged = padTo(good, size), padTo(damaged, size)
			var logs bytes.Buffer
			opts := Options{Dir: dir, SegmentBytes: segmentBytes, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			w, st := openT(t, opts)
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), path)
			want := good
			if !tt.torn {
				want = damaged
			}
			switch have, _ := os.ReadFile(path); {
			case tt.torn && !warned:
				t.Errorf("no warning naming the file: %q", logs.String())
			case !tt.torn && strings.Contains(logs.String(), "level=WARN"):
				t.Errorf("warning for a zero tail: %q", logs.String())
			case !bytes.Equal(have, want):
				t.Errorf("file is %d bytes, want %d", len(have), len(want))
			}
			if diff := diffState(st, stateAfter(saves[:len(saves)-1])); diff != "" {
				t.Fatal(diff)
			}
			end := int64(len(segmentData(t, path)))
			if err := w.Save(last.hs, last.ents); err != nil {
				t.Fatal(err)
			}
			if w.size != end+int64(len(partial)) {
				t.Errorf("the save went to byte %d, want %d (the end of the data)", w.size-int64(len(partial)), end)
			}
			if w.prealloc && w.fileSize != segmentBytes {
				t.Errorf("segment not preallocated again: %d bytes, want %d", w.fileSize, segmentBytes)
			}
			closeT(t, w)
			if diff := diffState(reopenT(t, opts), stateAfter(saves)); diff != "" {
				t.Fatalf("after saving again: %s", diff)
			}
		})
	}
}

// stateAfter returns the State that saves leave.
func stateAfter(saves []saveArgs) State {
	var g workload
	for _, s := range saves {
		g.apply(s.hs, s.ents)
	}
	return g.st
}

func TestCorruptionNamesFileAndOffset(t *testing.T) {
	dir := t.TempDir()
	w, _ := openT(t, Options{Dir: dir, NoSync: true})
	var offsets []int64
	for i := uint64(1); i <= 5; i++ {
		offsets = append(offsets, w.size)
		if err := w.Save(raft.HardState{Term: 1}, ents(i, 1, "entry")); err != nil {
			t.Fatal(err)
		}
	}
	closeT(t, w)
	path := filepath.Join(dir, segmentFiles(t, dir)[0])
	b, _ := os.ReadFile(path) // the records, then the preallocated zeros
	// Inside the third save's payload:
	b[offsets[2]+headerBytes+3] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(Options{Dir: dir})
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: have %v, want a CorruptError", err)
	}
	if ce.Path != path || ce.Offset != offsets[2] || !strings.Contains(ce.Reason, "checksum mismatch") {
		t.Fatalf("have %v; want %s at byte %d", err, path, offsets[2])
	}
	t.Log(err)
}

func TestMissingOrAlteredSegment(t *testing.T) {
	build := func(t *testing.T) (string, []string) {
		dir := t.TempDir()
		w, _ := openT(t, Options{Dir: dir, NoSync: true, SegmentBytes: 64})
		for i := uint64(1); i <= 5; i++ {
			if err := w.Save(raft.HardState{Term: 1}, ents(i, 1, strings.Repeat("e", 70))); err != nil {
				t.Fatal(err)
			}
		}
		closeT(t, w)
		return dir, segmentFiles(t, dir)
	}
	t.Run("middle removed", func(t *testing.T) {
		dir, segs := build(t)
		os.Remove(filepath.Join(dir, segs[2]))
		_, _, err := Open(Options{Dir: dir})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "a segment is missing") {
			t.Fatalf("have %v", err)
		}
	})
	t.Run("first removed", func(t *testing.T) {
		dir, segs := build(t)
		os.Remove(filepath.Join(dir, segs[0]))
		_, _, err := Open(Options{Dir: dir})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "no snapshot covers the entries before it") {
			t.Fatalf("have %v", err)
		}
	})
	t.Run("older segment grown", func(t *testing.T) {
		dir, segs := build(t)
		path := filepath.Join(dir, segs[1])
		b := segmentData(t, path)
		// A valid save that changes nothing: only the next segment's
		// header can tell that it does not belong.
		extra := appendSave(nil, raft.HardState{Term: 1}, nil, maxPayloadBytes)
		os.WriteFile(path, append(b, extra...), 0o600)
		_, _, err := Open(Options{Dir: dir})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "segment before it had") {
			t.Fatalf("have %v", err)
		}
	})
	t.Run("leftover temporary file", func(t *testing.T) {
		dir, segs := build(t)
		tmp := filepath.Join(dir, "00000000000000ff-0000000000000009.wal.tmp")
		os.WriteFile(tmp, []byte("half a segment"), 0o600)
		if st := reopenT(t, Options{Dir: dir}); len(st.Entries) != 5 {
			t.Fatalf("have %d entries", len(st.Entries))
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temporary file left: %v", err)
		}
		if have := segmentFiles(t, dir); len(have) != len(segs) {
			t.Fatalf("segments: have %v, want %v", have, segs)
		}
	})
}

// TestTornSplitSave cuts a save that spans several part records at every
// record boundary inside it: Open must drop the whole save.
func TestTornSplitSave(t *testing.T) {
	dir := t.TempDir()
	w, _ := openT(t, Options{Dir: dir, NoSync: true, SegmentBytes: 64 << 10})
	w.maxPayload = 100
	first := saveArgs{raft.HardState{Term: 1}, ents(1, 1, "a")}
	if err := w.Save(first.hs, first.ents); err != nil {
		t.Fatal(err)
	}
	start := w.size
	big := saveArgs{raft.HardState{Term: 1, Commit: 1}, ents(2, 1, strings.Repeat("b", 60), strings.Repeat("c", 60), strings.Repeat("d", 60))}
	if err := w.Save(big.hs, big.ents); err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	path := filepath.Join(dir, segmentFiles(t, dir)[0])
	full := segmentData(t, path)
	if n := bytes.Count(full[start:], []byte{byte(recPart)}); n < 2 {
		t.Fatalf("save was not split (%d part-type bytes)", n)
	}
	for cut := start; cut < int64(len(full)); cut++ {
		rewriteSegment(t, path, full[:cut])
		if diff := diffState(reopenT(t, Options{Dir: dir, NoSync: true, SegmentBytes: 64 << 10}), stateAfter([]saveArgs{first})); diff != "" {
			t.Fatalf("cut at %d: %s", cut, diff)
		}
	}
	rewriteSegment(t, path, full)
	if diff := diffState(reopenT(t, Options{Dir: dir, SegmentBytes: 64 << 10}), stateAfter([]saveArgs{first, big})); diff != "" {
		t.Fatal(diff)
	}
}

// TestWriteFailureIsSticky makes the segment file fail under the WAL: the
// save fails, every later one too, and Open recovers what was durable.
func TestWriteFailureIsSticky(t *testing.T) {
	dir := t.TempDir()
	w, _ := openT(t, Options{Dir: dir})
	if err := w.Save(raft.HardState{Term: 1}, ents(1, 1, "kept")); err != nil {
		t.Fatal(err)
	}
	w.f.Close() // the next write fails
	err := w.Save(raft.HardState{Term: 1}, ents(2, 1, "lost"))
	if err == nil || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Save on a failed file: have %v", err)
	}
	if err2 := w.Save(raft.HardState{Term: 2}, nil); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("Save after a failure: have %v, want %v", err2, err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failure returned nil")
	}
	st := reopenT(t, Options{Dir: dir})
	if diff := diffState(st, State{HardState: raft.HardState{Term: 1}, Entries: ents(1, 1, "kept")}); diff != "" {
		t.Fatal(diff)
	}
}

// TestWrongRecordAtTail appends records with valid checksums but wrong
// content to the newest segment: no torn write makes those, so Open must
// refuse them, naming their offset, rather than cut them off.
func TestWrongRecordAtTail(t *testing.T) {
	unknown, start := beginRecord(nil, 9)
	unknown = endRecord(append(unknown, 1, 2, 3), start)
	badPayload, start := beginRecord(nil, recSave)
	badPayload = endRecord(append(badPayload, 1, 0), start) // hard state cut short
	tests := []struct {
		name, want string
		rec        []byte
	}{
		{"gap", "entries start at index 5 but the log ends at 2", appendSave(nil, raft.HardState{Term: 1}, ents(5, 1, "x"), maxPayloadBytes)},
		{"term down", "hard state's term goes down", appendSave(nil, raft.HardState{}, nil, maxPayloadBytes)},
		{"second header", "header record inside a segment", appendHeaderRecord(nil, segmentHeader{seq: 0, first: 1})},
		{"unknown type", "unknown record type 9", unknown},
		{"bad payload", "storage: save record truncated", badPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := openT(t, Options{Dir: dir, NoSync: true})
			if err := w.Save(raft.HardState{Term: 1}, ents(1, 1, "a", "b")); err != nil {
				t.Fatal(err)
			}
			size := w.size
			closeT(t, w)
			path := filepath.Join(dir, segmentFiles(t, dir)[0])
			b := segmentData(t, path)
			rewriteSegment(t, path, append(b, tt.rec...))
			_, _, err := Open(Options{Dir: dir})
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Offset != size || !strings.Contains(ce.Reason, tt.want) {
				t.Fatalf("have %v; want a CorruptError at byte %d with %q", err, size, tt.want)
			}
		})
	}
}

// startSavers starts savers goroutines that each enqueue each one-entry
// saves, in index order under one lock, and wait for them apart, as a
// pipelining host does. wait waits for them all; enqueued says how many
// saves were enqueued so far.
func startSavers(t *testing.T, w *WAL, savers, each int) (wait func(), enqueued func() uint64) {
	var (
		mu   sync.Mutex
		next uint64 = 1
		wg   sync.WaitGroup
	)
	for range savers {
		wg.Go(func() {
			for range each {
				mu.Lock()
				i := next
				next++
				tk, err := w.Enqueue(raft.HardState{Term: 1, Vote: 1, Commit: i - 1}, ents(i, 1, "entry"))
				mu.Unlock()
				if err == nil {
					err = tk.Wait()
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	return wg.Wait, func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		return next - 1
	}
}
