package storage

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/raft"
)

func snapAt(index, term uint64, data string) raft.Snapshot {
	return raft.Snapshot{
		Meta: raft.SnapshotMeta{Index: index, Term: term, Members: []raft.Member{{ID: 1, Addr: "n1:7000"}, {ID: 4, Learner: true}}},
		Data: []byte(data),
	}
}

func snapshotFiles(t testing.TB, dir string) []string {
	t.Helper()
	snaps, _, err := listSnapshots(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range snaps {
		names = append(names, s.name())
	}
	return names
}

// saveAll saves ents one Save each, with a commit index that trails them by
// lag, in term 1.
func saveAll(t testing.TB, w *WAL, from, to, lag uint64) raft.HardState {
	t.Helper()
	var hs raft.HardState
	for i := from; i <= to; i++ {
		hs = raft.HardState{Term: 1, Vote: 1, Commit: max(i, lag) - lag}
		if err := w.Save(hs, ents(i, 1, strings.Repeat("e", 40))); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	return hs
}

// TestSnapshotRoundTrip takes snapshots of each kind and checks what Open
// returns after each, and that saves then follow the rules.
func TestSnapshotRoundTrip(t *testing.T) {
	hs := func(term, commit uint64) raft.HardState { return raft.HardState{Term: term, Vote: 1, Commit: commit} }
	type step struct {
		name string
		save *saveArgs      // or
		snap *raft.Snapshot // with keep
		keep bool
		want State
	}
	s1, s2, s3, s4 := snapAt(4, 1, "four"), snapAt(9, 2, "nine"), snapAt(12, 2, ""), snapAt(20, 4, "twenty")
	s3.Data = nil
	mt := ents(13, 3, "m", "n", "o", "p", "q", "r", "s", "t")
	steps := []step{
		{name: "log", save: &saveArgs{hs(1, 5), ents(1, 1, "a", "b", "c", "d", "e", "f")},
			want: State{HardState: hs(1, 5), Entries: ents(1, 1, "a", "b", "c", "d", "e", "f")}},
		{name: "compaction keeps the log after it", snap: &s1, keep: true,
			want: State{HardState: hs(1, 5), Snapshot: &s1, Entries: ents(5, 1, "e", "f")}},
		{name: "append after compaction", save: &saveArgs{hs(2, 6), ents(7, 2, "g", "h", "i")},
			want: State{HardState: hs(2, 6), Snapshot: &s1, Entries: append(ents(5, 1, "e", "f"), ents(7, 2, "g", "h", "i")...)}},
		{name: "overwrite after compaction", save: &saveArgs{hs(2, 6), ents(8, 2, "H")},
			want: State{HardState: hs(2, 6), Snapshot: &s1, Entries: append(ents(5, 1, "e", "f"), ents(7, 2, "g", "H")...)}},
		{name: "leader's snapshot replaces the log", snap: &s2, keep: false,
			want: State{HardState: hs(2, 6), Snapshot: &s2}},
		{name: "append after the leader's snapshot", save: &saveArgs{hs(2, 9), ents(10, 2, "j", "k")},
			want: State{HardState: hs(2, 9), Snapshot: &s2, Entries: ents(10, 2, "j", "k")}},
		{name: "keepLog past the log's end", snap: &s3, keep: true,
			want: State{HardState: hs(2, 9), Snapshot: &s3}},
		{name: "append after it", save: &saveArgs{hs(3, 12), mt},
			want: State{HardState: hs(3, 12), Snapshot: &s3, Entries: mt}},
		{name: "new term", save: &saveArgs{hs: hs(4, 12)},
			want: State{HardState: hs(4, 12), Snapshot: &s3, Entries: mt}},
		{name: "keepLog of another history drops the log", snap: &s4, keep: true,
			want: State{HardState: hs(4, 12), Snapshot: &s4}},
		{name: "same snapshot again", snap: &s4, keep: true,
			want: State{HardState: hs(4, 12), Snapshot: &s4}},
	}

	dir := t.TempDir()
	for _, s := range steps {
		w, _ := openT(t, Options{Dir: dir, SegmentBytes: 200})
		var err error
		if s.save != nil {
			err = w.Save(s.save.hs, s.save.ents)
		} else {
			err = w.SaveSnapshot(*s.snap, s.keep)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		closeT(t, w)
		st := reopenT(t, Options{Dir: dir})
		if diff := diffState(st, s.want); diff != "" {
			t.Fatalf("%s: %s", s.name, diff)
		}
		checkContiguous(t, st)
	}
	if have := snapshotFiles(t, dir); len(have) != 2 {
		t.Fatalf("snapshot files: have %v, want the newest two", have)
	}
}

func TestInvalidSnapshot(t *testing.T) {
	// Before each case: entries 1-6 in term 2, commit 4, a snapshot at 3.
	tests := []struct {
		name string
		snap raft.Snapshot
		keep bool
		want string
	}{
		{"index 0", snapAt(0, 2, ""), true, "index 0 and term 2"},
		{"term 0", snapAt(5, 0, ""), true, "index 5 and term 0"},
		{"older", snapAt(2, 2, ""), true, "older than the previous one, at 3"},
		{"term down", snapAt(7, 1, ""), true, "below the previous snapshot's term 2"},
		{"same index, other term", snapAt(3, 3, ""), true, "but the previous one at that index had term 2"},
		{"drops committed entries", snapAt(3, 2, ""), false, "with committed entries up to index 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := openT(t, Options{Dir: dir, NoSync: true})
			hs := raft.HardState{Term: 2, Vote: 1, Commit: 4}
			if err := w.Save(hs, ents(1, 2, "a", "b", "c", "d", "e", "f")); err != nil {
				t.Fatal(err)
			}
			if err := w.SaveSnapshot(snapAt(3, 2, "three"), true); err != nil {
				t.Fatal(err)
			}
			before := snapshotFiles(t, dir)
			err := w.SaveSnapshot(tt.snap, tt.keep)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SaveSnapshot: have %v, want ErrInvalid with %q", err, tt.want)
			}
			if have := snapshotFiles(t, dir); !slices.Equal(have, before) {
				t.Fatalf("snapshot files: have %v, want %v", have, before)
			}
			// Saves at or below the snapshot are refused too.
			if err := w.Save(hs, ents(3, 2, "x")); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Save at the snapshot's index: have %v", err)
			}
			closeT(t, w)
			st := reopenT(t, Options{Dir: dir})
			s := snapAt(3, 2, "three")
			if diff := diffState(st, State{HardState: hs, Snapshot: &s, Entries: ents(4, 2, "d", "e", "f")}); diff != "" {
				t.Fatal(diff)
			}
		})
	}
	t.Run("below the snapshot", func(t *testing.T) {
		w, _ := openT(t, Options{Dir: t.TempDir(), NoSync: true})
		defer closeT(t, w)
		if err := w.SaveSnapshot(snapAt(10, 1, ""), true); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			first uint64
			want  string
		}{{10, "at or below the snapshot's index 10"}, {12, "entries start at index 12 but the log ends at 10"}} {
			if err := w.Save(raft.HardState{Term: 1}, ents(tt.first, 1, "x")); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Save from %d: have %v, want %q", tt.first, err, tt.want)
			}
		}
		if err := w.Save(raft.HardState{Term: 1}, ents(11, 1, "x")); err != nil {
			t.Fatal(err)
		}
	})
}

// buildSnapshots makes a WAL of small segments with entries 1-60, commit
// trailing by 5, and keepLog snapshots at 20 and 40, so that the segments
// up to index 20 are deleted.
func buildSnapshots(t *testing.T) (string, Options, State) {
	t.Helper()
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 256, NoSync: true}
	w, _ := openT(t, opts)
	saveAll(t, w, 1, 30, 5)
	s20 := snapAt(20, 1, "twenty")
	if err := w.SaveSnapshot(s20, true); err != nil {
		t.Fatal(err)
	}
	saveAll(t, w, 31, 50, 5)
	if err := w.SaveSnapshot(snapAt(40, 1, "forty"), true); err != nil {
		t.Fatal(err)
	}
	hs := saveAll(t, w, 51, 60, 5)
	closeT(t, w)
	var all []raft.Entry
	for i := uint64(1); i <= 60; i++ {
		all = append(all, ents(i, 1, strings.Repeat("e", 40))...)
	}
	// The state after falling back to the snapshot at 20.
	return dir, opts, State{HardState: hs, Snapshot: &s20, Entries: all[20:]}
}

func TestSnapshotDeletesSegments(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 256, NoSync: true}
	w, _ := openT(t, opts)
	hs := saveAll(t, w, 1, 100, 3)
	before := segmentFiles(t, dir)
	for i, at := range []uint64{30, 60, 90} {
		if err := w.SaveSnapshot(snapAt(at, 1, "s"), true); err != nil {
			t.Fatal(err)
		}
		segs := segmentFiles(t, dir)
		// Every remaining segment but the oldest begins above the older
		// snapshot kept (none after the first snapshot) + 1.
		older := []uint64{0, 30, 60}[i]
		for j, name := range segs[1:] {
			s, _ := parseSegmentName(name)
			if s.first-1 <= older {
				t.Fatalf("after the snapshot at %d: segment %s kept (older snapshot %d; all %v)", at, segs[j], older, segs)
			}
		}
		first, _ := parseSegmentName(segs[0])
		if first.first-1 > older {
			t.Fatalf("after the snapshot at %d: too much deleted, log begins at %d", at, first.first)
		}
		if want := min(i+1, 2); len(snapshotFiles(t, dir)) != want {
			t.Fatalf("after the snapshot at %d: snapshot files %v, want %d", at, snapshotFiles(t, dir), want)
		}
	}
	after := segmentFiles(t, dir)
	t.Logf("segments: %d before the snapshots, %d after", len(before), len(after))
	if len(after) >= len(before)/2 {
		t.Fatalf("segments: %d before the snapshots, %d after", len(before), len(after))
	}
	closeT(t, w)
	st := reopenT(t, opts)
	var want []raft.Entry
	for i := uint64(91); i <= 100; i++ {
		want = append(want, ents(i, 1, strings.Repeat("e", 40))...)
	}
	s := snapAt(90, 1, "s")
	if diff := diffState(st, State{HardState: hs, Snapshot: &s, Entries: want}); diff != "" {
		t.Fatal(diff)
	}
}

// TestSnapshotWorkload runs a random workload of saves and snapshots of
// every kind over tiny segments, reopening now and then.
func TestSnapshotWorkload(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		dir := t.TempDir()
		opts := Options{Dir: dir, SegmentBytes: 1 << 10, NoSync: true}
		g := newWorkload(seed, false)
		g.snapshots = true
		snaps := 0
		for round := range 10 {
			w, st := openT(t, opts)
			if diff := diffState(st, g.st); diff != "" {
				t.Fatalf("seed %d, round %d, after %d saves: %s", seed, round, g.n, diff)
			}
			for range 100 {
				o := g.nextOp()
				if o.snap != nil {
					snaps++
				}
				if err := o.do(w); err != nil {
					t.Fatalf("seed %d, op %d: %v", seed, g.n, err)
				}
			}
			closeT(t, w)
		}
		if diff := diffState(reopenT(t, opts), g.st); diff != "" {
			t.Fatalf("seed %d, final: %s", seed, diff)
		}
		t.Logf("seed %d: %d ops, %d snapshots, %d segments and %d snapshot files left", seed, g.n, snaps,
			len(segmentFiles(t, dir)), len(snapshotFiles(t, dir)))
	}
}

// openLogged opens dir with a logger into a buffer.
func openLogged(t *testing.T, opts Options) (*WAL, State, string, error) {
	t.Helper()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	w, st, err := Open(opts)
	return w, st, logs.String(), err
}

// TestSnapshotFallback damages the newest snapshot: Open must fall back to
// the older one, with the entries after it from the log.
func TestSnapshotFallback(t *testing.T) {
	damages := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"cut by one byte", func(b []byte) []byte { return b[:len(b)-1] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"bit flip in data", func(b []byte) []byte { b[len(b)-6] ^= 1; return b }},
		{"bit flip in meta", func(b []byte) []byte { b[11] ^= 0x10; return b }},
		{"bad magic", func(b []byte) []byte { b[0] = 'W'; return b }},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir, opts, want := buildSnapshots(t)
			newest := filepath.Join(dir, snapFile{40, 1}.name())
			b, _ := os.ReadFile(newest)
			if err := os.WriteFile(newest, d.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			w, st, logs, err := openLogged(t, opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, newest) || !strings.Contains(logs, "falling back") {
				t.Errorf("no warning naming %s: %s", newest, logs)
			}
			if diff := diffState(st, want); diff != "" {
				t.Fatal(diff)
			}
			if _, err := os.Stat(newest); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("damaged snapshot left: %v", err)
			}
			// The node goes on from the older snapshot: it compacts
			// again, below the damaged one's index, and saves.
			if err := w.SaveSnapshot(snapAt(30, 1, "thirty"), true); err != nil {
				t.Fatal(err)
			}
			hs := want.HardState
			hs.Commit = 60
			if err := w.Save(hs, ents(61, 1, "x")); err != nil {
				t.Fatal(err)
			}
			closeT(t, w)
			s30 := snapAt(30, 1, "thirty")
			want = State{HardState: hs, Snapshot: &s30, Entries: append(slices.Clone(want.Entries[10:]), ents(61, 1, "x")...)}
			w, st, logs, err = openLogged(t, opts)
			if err != nil {
				t.Fatalf("Open again: %v", err)
			}
			closeT(t, w)
			if diff := diffState(st, want); diff != "" {
				t.Fatalf("reopened: %s", diff)
			}
			if strings.Contains(logs, "level=WARN") {
				t.Errorf("warnings on a clean reopen: %s", logs)
			}
		})
	}
}

// TestSnapshotFallbackAfterReplace falls back past a snapshot from the
// leader that replaced the log: the log after the older snapshot is gone.
func TestSnapshotFallbackAfterReplace(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 256, NoSync: true}
	w, _ := openT(t, opts)
	saveAll(t, w, 1, 30, 5) // commit 25
	s20 := snapAt(20, 1, "twenty")
	if err := w.SaveSnapshot(s20, true); err != nil {
		t.Fatal(err)
	}
	if err := w.SaveSnapshot(snapAt(50, 2, "fifty"), false); err != nil {
		t.Fatal(err)
	}
	hs := raft.HardState{Term: 2, Commit: 52}
	if err := w.Save(hs, ents(51, 2, "p", "q", "r")); err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	newest := filepath.Join(dir, snapFile{50, 2}.name())
	if err := os.Truncate(newest, 10); err != nil {
		t.Fatal(err)
	}
	w, st, logs, err := openLogged(t, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !strings.Contains(logs, "catch up from the leader") {
		t.Errorf("no warning that the log was dropped: %s", logs)
	}
	want := State{HardState: raft.HardState{Term: 2, Commit: 20}, Snapshot: &s20}
	if diff := diffState(st, want); diff != "" {
		t.Fatal(diff)
	}
	// The leader sends what follows.
	hs = raft.HardState{Term: 2, Commit: 21}
	if err := w.Save(hs, ents(21, 2, "u", "v")); err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	if diff := diffState(reopenT(t, opts), State{HardState: hs, Snapshot: &s20, Entries: ents(21, 2, "u", "v")}); diff != "" {
		t.Fatalf("reopened: %s", diff)
	}
}

func TestSnapshotBothDamaged(t *testing.T) {
	dir, opts, _ := buildSnapshots(t)
	for _, s := range []snapFile{{20, 1}, {40, 1}} {
		if err := os.Truncate(filepath.Join(dir, s.name()), 30); err != nil {
			t.Fatal(err)
		}
	}
	_, _, logs, err := openLogged(t, opts)
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "no snapshot covers the entries before it") ||
		!strings.Contains(ce.Reason, snapFile{20, 1}.name()) || !strings.Contains(ce.Reason, snapFile{40, 1}.name()) {
		t.Fatalf("Open: have %v, want a CorruptError naming both snapshots", err)
	}
	t.Log(err)
	if strings.Count(logs, "snapshot damaged") != 2 {
		t.Errorf("want a warning per snapshot: %s", logs)
	}
	// Nothing was changed: restoring the files makes the log whole again.
	for _, s := range []snapFile{{20, 1}, {40, 1}} {
		if _, err := os.Stat(filepath.Join(dir, s.name())); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotLeftovers(t *testing.T) {
	t.Run("torn temporary file", func(t *testing.T) {
		dir, opts, _ := buildSnapshots(t)
		want := reopenT(t, opts)
		tmp := filepath.Join(dir, snapFile{55, 1}.name()+tmpSuffix)
		if err := os.WriteFile(tmp, []byte("wraftsnp\x01half a snap"), 0o600); err != nil {
			t.Fatal(err)
		}
		if diff := diffState(reopenT(t, opts), want); diff != "" {
			t.Fatal(diff)
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temporary file left: %v", err)
		}
	})
	t.Run("snapshot without its mark", func(t *testing.T) {
		// A crash after the file was renamed into place, before the mark.
		dir, opts, _ := buildSnapshots(t)
		want := reopenT(t, opts)
		w, _ := openT(t, opts)
		if err := w.writeSnapshot(snapAt(58, 1, "fifty-eight")); err != nil {
			t.Fatal(err)
		}
		closeT(t, w)
		if diff := diffState(reopenT(t, opts), want); diff != "" {
			t.Fatal(diff)
		}
		if have := snapshotFiles(t, dir); len(have) != 2 || slices.Contains(have, snapFile{58, 1}.name()) {
			t.Fatalf("snapshot files: %v", have)
		}
	})
	t.Run("no segments", func(t *testing.T) {
		dir, opts, _ := buildSnapshots(t)
		for _, name := range segmentFiles(t, dir) {
			os.Remove(filepath.Join(dir, name))
		}
		if _, _, err := Open(opts); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "no log segment") {
			t.Fatalf("Open: have %v", err)
		}
	})
	t.Run("oldest segment removed", func(t *testing.T) {
		// The newest snapshot covers what the segment held; the older
		// one does not.
		dir, opts, _ := buildSnapshots(t)
		want := reopenT(t, opts)
		os.Remove(filepath.Join(dir, segmentFiles(t, dir)[0]))
		if diff := diffState(reopenT(t, opts), want); diff != "" {
			t.Fatal(diff)
		}
		os.Truncate(filepath.Join(dir, snapFile{40, 1}.name()), 100)
		_, _, err := Open(opts)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "no snapshot covers") {
			t.Fatalf("Open: have %v", err)
		}
		t.Log(err)
	})
}

// TestSnapshotConcurrentSaves takes snapshots while other goroutines
// enqueue saves and wait apart (run with -race).
func TestSnapshotConcurrentSaves(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 2 << 10}
	w, _ := openT(t, opts)
	const savers, each = 8, 60
	wait, enqueued := startSavers(t, w, savers, each)
	done := make(chan struct{})
	var snaps []uint64
	go func() {
		defer close(done)
		for {
			commit := max(enqueued(), 1) - 1 // the commit index of the last save enqueued
			if commit >= savers*each-1 {
				return
			}
			if commit > 0 && (len(snaps) == 0 || commit > snaps[len(snaps)-1]) {
				if err := w.SaveSnapshot(snapAt(commit, 1, "s"), true); err != nil {
					t.Error(err)
					return
				}
				snaps = append(snaps, commit)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	wait()
	<-done
	closeT(t, w)
	st := reopenT(t, opts)
	checkContiguous(t, st)
	if st.Snapshot == nil || st.Snapshot.Meta.Index != snaps[len(snaps)-1] || st.Snapshot.Meta.Index+uint64(len(st.Entries)) != savers*each {
		t.Fatalf("have snapshot %v and %d entries after it; want the snapshot at %d and the log up to %d", st.Snapshot, len(st.Entries), snaps[len(snaps)-1], savers*each)
	}
	t.Logf("%d snapshots, %d segments left", len(snaps), len(segmentFiles(t, dir)))
}
