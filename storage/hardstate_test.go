package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// openCorrupt opens dir and wants a CorruptError naming path whose reason
// holds want.
func openCorrupt(t *testing.T, opts Options, path, want string) *CorruptError {
	t.Helper()
	w, st, err := Open(opts)
	if err == nil {
		w.Close()
		t.Fatalf("Open succeeded (term %d, %d entries); want a CorruptError naming %s", st.HardState.Term, len(st.Entries), path)
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Path != path || !strings.Contains(ce.Reason, want) {
		t.Fatalf("have %v; want a CorruptError naming %s with %q", err, path, want)
	}
	return ce
}

// electionLog writes a log of several segments in which the term rises
// in every segment, the last election in the newest one, as a node's log
// does across elections. It returns the options, the segment names and the
// state.
func electionLog(t *testing.T, prealloc bool) (Options, []string, State) {
	t.Helper()
	opts := Options{Dir: t.TempDir(), SegmentBytes: 2 << 10, NoSync: true, noPrealloc: !prealloc}
	w, _ := openT(t, opts)
	var hs raft.HardState
	var all []raft.Entry
	for i := uint64(1); i <= 60; i++ {
		if i%12 == 1 {
			hs.Term, hs.Vote = hs.Term+1, 1+hs.Term%3
		}
		hs.Commit = i - 1
		es := ents(i, hs.Term, strings.Repeat("v", 60))
		if err := w.Save(hs, es); err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
	}
	hs.Term, hs.Vote = hs.Term+1, 2 // an election after the last entry
	if err := w.Save(hs, nil); err != nil {
		t.Fatal(err)
	}
	closeT(t, w)
	segs := segmentFiles(t, opts.Dir)
	if len(segs) < 3 {
		t.Fatalf("%d segments, want 3 or more", len(segs))
	}
	return opts, segs, State{HardState: hs, Entries: all}
}

// TestZeroedNewestSegment is issue 16's report: the newest segment cut to
// 0 bytes (or zeroed, or cut to its header) was taken for a torn header;
// Open dropped it with a warning, and with it the acknowledged entries it
// held and the term and vote: the node came back in an older term, free
// to vote twice. Open must refuse, naming the segment.
func TestZeroedNewestSegment(t *testing.T) {
	for _, prealloc := range []bool{true, false} {
		for _, tt := range []struct {
			name   string
			damage func(b []byte) []byte
			want   string
		}{
			{"cut to 0 bytes", func(b []byte) []byte { return nil }, "not whole"},
			{"zeroed", func(b []byte) []byte { return make([]byte, len(b)) }, "not whole"},
			{"cut inside its header", func(b []byte) []byte { return b[:headerBytes+2] }, "not whole"},
		} {
			name := tt.name
			if !prealloc {
				name += ", not preallocated"
			}
			t.Run(name, func(t *testing.T) {
				opts, segs, _ := electionLog(t, prealloc)
				path := filepath.Join(opts.Dir, segs[len(segs)-1])
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tt.damage(b), 0o600); err != nil {
					t.Fatal(err)
				}
				ce := openCorrupt(t, opts, path, tt.want)
				t.Log(ce)
				// Nothing was repaired: the operator sees what was found.
				if have, _ := os.ReadFile(path); !bytes.Equal(have, tt.damage(b)) {
					t.Fatal("Open changed the damaged segment")
				}
			})
		}
	}
	// Cut to its header only: the header is whole, but the file is shorter
	// than it was made.
	t.Run("cut to its header", func(t *testing.T) {
		opts, segs, _ := electionLog(t, true)
		path := filepath.Join(opts.Dir, segs[len(segs)-1])
		b := segmentData(t, path)
		hdrLen := headerBytes + int(b[0]) // header payloads are short
		if err := os.WriteFile(path, b[:hdrLen], 0o600); err != nil {
			t.Fatal(err)
		}
		t.Log(openCorrupt(t, opts, path, "cut short"))
	})
}

// TestNewestSegmentRemoved removes the newest segment: the one before it
// is whole, but the hard-state file knows a later segment was made.
func TestNewestSegmentRemoved(t *testing.T) {
	opts, segs, _ := electionLog(t, true)
	if err := os.Remove(filepath.Join(opts.Dir, segs[len(segs)-1])); err != nil {
		t.Fatal(err)
	}
	t.Log(openCorrupt(t, opts, filepath.Join(opts.Dir, HardStateFile), "segments were removed"))
}

// TestTruncateNewestWithoutPreallocation cuts the newest segment of a log
// that was written without preallocation (a filesystem without
// fallocate) at every length. There a cut is a torn tail unless the
// hard-state file shows that it lost a durable term, vote or commit
// index: Open must either refuse, naming the hard-state file (or the
// segment, cut inside its header), or return exactly the saves before the
// cut, and never a term or vote older than a save made durable.
func TestTruncateNewestWithoutPreallocation(t *testing.T) {
	c := buildCorpusWith(t, 42, 60, Options{SegmentBytes: 1200, NoSync: true, noPrealloc: true}, 400)
	newest := c.segs[len(c.segs)-1]
	b := c.files[newest.name()]
	rec, _, reason := decodeHardStateFile(c.files[HardStateFile])
	if reason != "" {
		t.Fatal(reason)
	}
	if allZero(b[len(b)-10:]) {
		t.Fatal("newest segment ends in zeros: preallocated")
	}
	refused, kept := 0, 0
	for n := int64(0); n < int64(len(b)); n++ {
		dir := c.write(t, func(d segment, b []byte) []byte {
			if d == newest {
				return b[:n]
			}
			return b
		})
		what := newest.name() + " cut to " + itoa(n) + " bytes"
		if n < c.starts[newest.name()][1] {
			c.expectCorrupt(t, dir, what, newest.name())
			refused++
			continue
		}
		m := c.savesUpTo(position{newest.seq, n})
		hs := c.states[m].HardState
		lost := hs.Term < rec.hs.Term || (hs.Term == rec.hs.Term && rec.hs.Vote != 0 && hs.Vote != rec.hs.Vote) || hs.Commit < rec.hs.Commit
		if lost {
			c.expectCorrupt(t, dir, what, HardStateFile)
			refused++
			continue
		}
		c.expectOK(t, dir, m, what)
		kept++
	}
	t.Logf("%d cuts refused, %d taken as torn tails", refused, kept)
}

// TestHardStateFile damages the hard-state file, or makes it disagree
// with the log, in every way that matters.
func TestHardStateFile(t *testing.T) {
	build := func(t *testing.T) (Options, State, []byte) {
		opts, _, st := electionLog(t, true)
		b, err := os.ReadFile(filepath.Join(opts.Dir, HardStateFile))
		if err != nil {
			t.Fatal(err)
		}
		rec, _, reason := decodeHardStateFile(b)
		if reason != "" || rec.hs.Term != st.HardState.Term || rec.hs.Vote != st.HardState.Vote {
			t.Fatalf("hard-state file holds %+v (%s), want the term and vote of %+v", rec, reason, st.HardState)
		}
		return opts, st, b
	}
	write := func(t *testing.T, opts Options, b []byte) string {
		t.Helper()
		path := filepath.Join(opts.Dir, HardStateFile)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Run("missing", func(t *testing.T) {
		opts, _, _ := build(t)
		path := filepath.Join(opts.Dir, HardStateFile)
		os.Remove(path)
		t.Log(openCorrupt(t, opts, path, "missing"))
	})
	t.Run("every byte flipped, every length cut", func(t *testing.T) {
		opts, st, good := build(t)
		for i := range good {
			for _, bit := range []byte{0x01, 0x80} {
				b := bytes.Clone(good)
				b[i] ^= bit
				openCorrupt(t, opts, write(t, opts, b), "")
			}
		}
		for n := range len(good) {
			openCorrupt(t, opts, write(t, opts, good[:n]), "")
		}
		openCorrupt(t, opts, write(t, opts, append(bytes.Clone(good), 0)), "")
		write(t, opts, good)
		if diff := diffState(reopenT(t, opts), st); diff != "" {
			t.Fatal(diff)
		}
	})
	for _, tt := range []struct {
		name   string
		change func(*hardStateRecord)
		want   string
	}{
		{"term ahead of the log", func(r *hardStateRecord) { r.hs.Term++ }, "lost durable saves"},
		{"another vote", func(r *hardStateRecord) { r.hs.Vote = 3 }, "had voted for 3"},
		{"commit ahead of the log", func(r *hardStateRecord) { r.hs.Commit = 61 }, "lost durable saves"},
		{"commit ahead of the log's commit", func(r *hardStateRecord) { r.hs.Commit = 60 }, "it had reached 60"},
		{"a later segment", func(r *hardStateRecord) { r.seq += 1 }, "segments were removed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts, _, good := build(t)
			rec, _, _ := decodeHardStateFile(good)
			tt.change(&rec)
			t.Log(openCorrupt(t, opts, write(t, opts, encodeHardStateFile(rec)), tt.want))
		})
	}
	// A file that lags the log is what a crash after a save's fsync and
	// before the file's rewrite leaves: Open brings it up to date.
	t.Run("behind the log", func(t *testing.T) {
		opts, st, good := build(t)
		rec, _, _ := decodeHardStateFile(good)
		rec.hs = raft.HardState{Term: rec.hs.Term - 1, Vote: 1, Commit: 3}
		rec.seq = 0
		path := write(t, opts, encodeHardStateFile(rec))
		if diff := diffState(reopenT(t, opts), st); diff != "" {
			t.Fatal(diff)
		}
		have, _ := os.ReadFile(path)
		if r, _, _ := decodeHardStateFile(have); r.hs.Term != st.HardState.Term || r.hs.Vote != st.HardState.Vote || r.seq == 0 {
			t.Fatalf("Open left the file at %+v, want the log's term and vote", r)
		}
	})
	t.Run("leftover temporary file", func(t *testing.T) {
		opts, st, _ := build(t)
		tmp := filepath.Join(opts.Dir, HardStateFile+tmpSuffix)
		if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		if diff := diffState(reopenT(t, opts), st); diff != "" {
			t.Fatal(diff)
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temporary file left: %v", err)
		}
	})
}

// TestHardStateFileUpgrade opens a log written before the hard-state file
// (version 2 headers, no file): it opens as it is, and Open writes the
// file.
func TestHardStateFileUpgrade(t *testing.T) {
	dir := t.TempDir()
	hs := raft.HardState{Term: 3, Vote: 2, Commit: 1}
	b, start := beginRecord(nil, recHeader)
	b = append(b, 2)
	b = wire.AppendUvarint(b, 0) // seq
	b = wire.AppendUvarint(b, 1) // first
	b = wire.AppendUvarint(b, 0) // previous size
	b = wire.AppendHardState(b, raft.HardState{})
	b = wire.AppendUvarint(b, 0)
	b = wire.AppendUvarint(b, 0)
	b = endRecord(b, start)
	b = appendSave(b, hs, ents(1, 3, "a", "b"), maxPayloadBytes)
	path := filepath.Join(dir, segment{0, 1}.name())
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: dir, NoSync: true, SegmentBytes: 4 << 10}
	want := State{HardState: hs, Entries: ents(1, 3, "a", "b")}
	if diff := diffState(reopenT(t, opts), want); diff != "" {
		t.Fatal(diff)
	}
	rec, ok, err := readHardStateFile(dir)
	if err != nil || !ok || rec.hs != hs {
		t.Fatalf("hard-state file: %+v, %v, %v; want %+v", rec, ok, err, hs)
	}
	if diff := diffState(reopenT(t, opts), want); diff != "" {
		t.Fatal(diff)
	}
}

// TestHardStateFileWrites checks when a save rewrites the hard-state
// file: when it changes the term or the vote, and before its Wait returns;
// not otherwise (a save then costs one fdatasync, as before the file).
func TestHardStateFileWrites(t *testing.T) {
	dir := t.TempDir()
	w, _ := openT(t, Options{Dir: dir, SegmentBytes: 1 << 20})
	defer closeT(t, w)
	saves := []struct {
		hs      raft.HardState
		ents    []raft.Entry
		rewrite bool
	}{
		{raft.HardState{Term: 1, Vote: 1}, nil, true},
		{raft.HardState{Term: 1, Vote: 1}, ents(1, 1, "a"), false},
		{raft.HardState{Term: 1, Vote: 1, Commit: 1}, ents(2, 1, "b"), false},
		{raft.HardState{Term: 2, Commit: 1}, nil, true},
		{raft.HardState{Term: 2, Vote: 3, Commit: 1}, nil, true},
		{raft.HardState{Term: 2, Vote: 3, Commit: 2}, ents(3, 2, "c"), false},
		{raft.HardState{Term: 5, Commit: 2}, ents(4, 5, "d"), true},
	}
	for i, s := range saves {
		before := w.syncs.Load()
		if err := w.Save(s.hs, s.ents); err != nil {
			t.Fatal(err)
		}
		rec, ok, err := readHardStateFile(dir)
		if err != nil || !ok || rec.hs.Term != s.hs.Term || rec.hs.Vote != s.hs.Vote {
			t.Fatalf("save %d: hard-state file holds %+v (%v, %v), want term %d vote %d", i, rec, ok, err, s.hs.Term, s.hs.Vote)
		}
		want := uint64(1)
		if s.rewrite {
			want = 3 // the segment, the file, the directory
		}
		if have := w.syncs.Load() - before; w.prealloc && have != want {
			t.Fatalf("save %d: %d syncs, want %d", i, have, want)
		}
	}
}
