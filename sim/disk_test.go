package sim

import (
	"slices"
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

func ents(first uint64, terms ...uint64) []raft.Entry {
	var out []raft.Entry
	for i, t := range terms {
		out = append(out, raft.Entry{Index: first + uint64(i), Term: t, Data: []byte{byte(first) + byte(i), byte(t)}})
	}
	return out
}

func termsOf(es []raft.Entry) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Term)
	}
	return out
}

func TestDiskWrite(t *testing.T) {
	var d disk
	steps := []struct {
		p         engine.Persist
		wantFrom  uint64
		wantTerms []uint64
		wantErr   bool
	}{
		{engine.Persist{HardState: raft.HardState{Term: 1, Vote: 1}}, 0, nil, false},
		{engine.Persist{HardState: raft.HardState{Term: 1}, Entries: ents(1, 1, 1, 1)}, 1, []uint64{1, 1, 1}, false},
		{engine.Persist{HardState: raft.HardState{Term: 2}, Entries: ents(2, 2)}, 2, []uint64{1, 2}, false},
		{engine.Persist{HardState: raft.HardState{Term: 2}, Entries: ents(3, 2, 2)}, 3, []uint64{1, 2, 2, 2}, false},
		{engine.Persist{Entries: ents(6, 2)}, 0, []uint64{1, 2, 2, 2}, true},                            // gap
		{engine.Persist{Entries: []raft.Entry{{Index: 5, Term: 2}, {Index: 7, Term: 2}}}, 0, nil, true}, // not contiguous
	}
	for i, s := range steps {
		from, err := d.write(s.p)
		if (err != nil) != s.wantErr {
			t.Fatalf("step %d: error %v, want error %v", i, err, s.wantErr)
		}
		if err != nil {
			continue
		}
		if from != s.wantFrom {
			t.Errorf("step %d: wrote from %d, want %d", i, from, s.wantFrom)
		}
		if got := termsOf(d.entries); !slices.Equal(got, s.wantTerms) {
			t.Errorf("step %d: log terms %v, want %v", i, got, s.wantTerms)
		}
		if d.hs != s.p.HardState {
			t.Errorf("step %d: hard state %+v, want %+v", i, d.hs, s.p.HardState)
		}
	}
}

func TestDiskTornWriteKeepsOldHardState(t *testing.T) {
	var d disk
	if _, err := d.write(engine.Persist{HardState: raft.HardState{Term: 1, Vote: 2, Commit: 2}, Entries: ents(1, 1, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	p := engine.Persist{HardState: raft.HardState{Term: 3, Vote: 3, Commit: 2}, Entries: ents(2, 3, 3, 3)}
	if from := d.tear(p, 2); from != 2 {
		t.Errorf("torn write landed from %d, want 2", from)
	}
	if got, want := termsOf(d.entries), []uint64{1, 3, 3}; !slices.Equal(got, want) {
		t.Errorf("log terms after a torn write %v, want %v", got, want)
	}
	if want := (raft.HardState{Term: 1, Vote: 2, Commit: 2}); d.hs != want {
		t.Errorf("hard state after a torn write %+v, want the old %+v", d.hs, want)
	}
	if from := d.tear(p, 0); from != 0 || len(d.entries) != 3 {
		t.Errorf("a tear of nothing changed the log: from %d, %d entries", from, len(d.entries))
	}
}

func TestDiskChainHashNamesPrefixes(t *testing.T) {
	var a, b disk
	mustWrite := func(d *disk, p engine.Persist) {
		t.Helper()
		if _, err := d.write(p); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(&a, engine.Persist{Entries: ents(1, 1, 1, 2)})
	mustWrite(&b, engine.Persist{Entries: ents(1, 1, 1)})
	mustWrite(&b, engine.Persist{Entries: ents(3, 2)})
	for i := range a.chain {
		if a.chain[i] != b.chain[i] {
			t.Errorf("equal logs differ in chain hash at index %d", i+1)
		}
	}
	// Same entry at index 3, different entry at index 2: the chain at 3
	// must differ.
	var c disk
	mustWrite(&c, engine.Persist{Entries: []raft.Entry{a.entries[0], {Index: 2, Term: 1, Data: []byte("other")}, a.entries[2]}})
	if c.chain[2] == a.chain[2] {
		t.Error("logs differing at index 2 share a chain hash at index 3")
	}
	r := a.restored()
	r.Entries[0].Term = 99
	if a.entries[0].Term == 99 {
		t.Error("restored() shares the disk's entries")
	}
}
