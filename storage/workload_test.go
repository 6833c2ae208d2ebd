package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wraft/wraft/raft"
)

// saveArgs is one call to Save.
type saveArgs struct {
	hs   raft.HardState
	ents []raft.Entry
}

// op is one call to Save or, if snap is set, to SaveSnapshot.
type op struct {
	saveArgs
	snap *raft.Snapshot
	keep bool
}

// do carries out o on w.
func (o op) do(w *WAL) error {
	if o.snap != nil {
		return w.SaveSnapshot(*o.snap, o.keep)
	}
	return w.Save(o.hs, o.ents)
}

// workload makes a deterministic sequence of saves that keep the log's
// rules, as a Raft node's would: appends, commit advances, elections, and
// elections that overwrite the uncommitted tail. Every save changes the
// state, so that a state tells how many saves made it. It tracks the State that
// the saves so far leave, in st, which the next save changes in place.
type workload struct {
	rng       *rand.Rand
	bigData   bool // now and then an entry of several KiB
	snapshots bool // now and then a snapshot
	st        State
	n         int // saves made
}

func newWorkload(seed uint64, bigData bool) *workload {
	return &workload{rng: rand.New(rand.NewPCG(seed, 0x5741_4c)), bigData: bigData}
}

// base returns the index of the snapshot, or 0.
func (g *workload) base() uint64 {
	if g.st.Snapshot == nil {
		return 0
	}
	return g.st.Snapshot.Meta.Index
}

func (g *workload) last() uint64 { return g.base() + uint64(len(g.st.Entries)) }

// termAt returns the term of the entry at index i, held or the snapshot's.
func (g *workload) termAt(i uint64) uint64 {
	if i == g.base() {
		if g.st.Snapshot == nil {
			return 0
		}
		return g.st.Snapshot.Meta.Term
	}
	return g.st.Entries[i-g.base()-1].Term
}

// next returns the next save and applies it to the tracked state. With
// snapshots, use nextOp.
func (g *workload) next() saveArgs { return g.nextOp().saveArgs }

// nextOp returns the next save or snapshot and applies it to the tracked
// state.
func (g *workload) nextOp() op {
	if g.snapshots && g.rng.IntN(100) < 6 {
		return g.nextSnapshot()
	}
	return op{saveArgs: g.nextSave()}
}

func (g *workload) nextSave() saveArgs {
	hs := g.st.HardState
	newTerm := func() {
		hs.Term++
		hs.Vote = uint64(g.rng.IntN(4)) // 0: no vote cast yet
	}
	if hs.Term == 0 {
		newTerm()
	}
	var ents []raft.Entry
	from := g.last() + 1
	switch k := g.rng.IntN(100); {
	case k < 65: // append
		ents = g.entries(from, 1+g.rng.IntN(4), hs.Term)
	case k < 75 && g.last() > hs.Commit: // commit advance
		hs.Commit += 1 + g.rng.Uint64N(g.last()-hs.Commit)
	case k < 85: // election
		newTerm()
	default: // election and overwrite of the uncommitted tail
		newTerm()
		if floor, last := max(hs.Commit, g.base()), g.last(); last > floor {
			from = floor + 1 + g.rng.Uint64N(last-floor)
		}
		ents = g.entries(from, 1+g.rng.IntN(3), hs.Term)
	}
	last := g.last()
	if len(ents) > 0 {
		last = ents[len(ents)-1].Index
	}
	if last > hs.Commit && g.rng.IntN(2) == 0 {
		hs.Commit += 1 + g.rng.Uint64N(last-hs.Commit)
	}
	g.apply(hs, ents)
	return saveArgs{hs: hs, ents: ents}
}

func (g *workload) entries(from uint64, n int, term uint64) []raft.Entry {
	ents := make([]raft.Entry, n)
	for i := range ents {
		e := raft.Entry{Index: from + uint64(i), Term: term}
		if g.rng.IntN(10) == 0 {
			e.Type = raft.EntryNoop
		} else {
			size := g.rng.IntN(120)
			if g.bigData && g.rng.IntN(30) == 0 {
				size = 500 + g.rng.IntN(1000)
			}
			e.Data = make([]byte, size)
			for j := range e.Data {
				e.Data[j] = byte(g.rng.Uint32())
			}
			if size == 0 {
				e.Data = nil
			}
		}
		ents[i] = e
	}
	return ents
}

func (g *workload) apply(hs raft.HardState, ents []raft.Entry) {
	if len(ents) > 0 {
		// In place: whoever keeps a State from before must clone it.
		g.st.Entries = append(g.st.Entries[:ents[0].Index-1-g.base()], ents...)
	}
	g.st.HardState = hs
	g.n++
}

// nextSnapshot returns a snapshot, applied to the tracked state: mostly a
// local compaction at a committed index (keepLog), now and then one from a
// leader (above the commit index; the log goes, or stays if it ends before
// the snapshot).
func (g *workload) nextSnapshot() op {
	hs := g.st.HardState
	if hs.Term == 0 {
		hs.Term = 1 // the term of the first entry saves will bring
	}
	meta := raft.SnapshotMeta{Members: []raft.Member{{ID: 1, Addr: "a:1"}, {ID: 2, Learner: true}}}
	keep := true
	switch base := g.base(); {
	case hs.Commit > base && g.rng.IntN(4) != 0:
		meta.Index = base + 1 + g.rng.Uint64N(hs.Commit-base)
		meta.Term = g.termAt(meta.Index)
	case g.rng.IntN(2) == 0: // from a leader, past our log
		meta.Index, meta.Term = g.last()+1+g.rng.Uint64N(3), hs.Term
	default: // from a leader, replacing our log
		meta.Index, meta.Term = max(hs.Commit, base+1)+g.rng.Uint64N(3), hs.Term
		keep = false
	}
	snap := &raft.Snapshot{Meta: meta, Data: []byte(fmt.Sprintf("state at %d/%d (save %d)", meta.Index, meta.Term, g.n+1))}
	if g.rng.IntN(8) == 0 {
		snap.Data = nil
	}
	g.applySnapshot(snap, keep)
	return op{snap: snap, keep: keep}
}

// applySnapshot applies SaveSnapshot(snap, keep) to the tracked state.
func (g *workload) applySnapshot(snap *raft.Snapshot, keep bool) {
	i := snap.Meta.Index
	if keep && i <= g.last() && g.termAt(i) != snap.Meta.Term {
		keep = false
	}
	if !keep || i >= g.last() {
		g.st.Entries = nil
	} else {
		g.st.Entries = slices.Clone(g.st.Entries[i-g.base():])
	}
	g.st.Snapshot = snap
	g.n++
}

// diffState describes how have differs from want, or returns "".
func diffState(have, want State) string {
	switch hs, ws := have.Snapshot, want.Snapshot; {
	case (hs == nil) != (ws == nil):
		return fmt.Sprintf("snapshot: have %v, want %v", hs != nil, ws != nil)
	case hs != nil && (hs.Meta.Index != ws.Meta.Index || hs.Meta.Term != ws.Meta.Term ||
		!slices.Equal(hs.Meta.Members, ws.Meta.Members) || !bytes.Equal(hs.Data, ws.Data)):
		return fmt.Sprintf("snapshot: have %d/%d %q %v, want %d/%d %q %v", hs.Meta.Index, hs.Meta.Term, hs.Data, hs.Meta.Members,
			ws.Meta.Index, ws.Meta.Term, ws.Data, ws.Meta.Members)
	}
	if have.HardState != want.HardState {
		return fmt.Sprintf("hard state: have %+v, want %+v", have.HardState, want.HardState)
	}
	if len(have.Entries) != len(want.Entries) {
		return fmt.Sprintf("entries: have %d, want %d", len(have.Entries), len(want.Entries))
	}
	for i, h := range have.Entries {
		w := want.Entries[i]
		if h.Index != w.Index || h.Term != w.Term || h.Type != w.Type || !bytes.Equal(h.Data, w.Data) {
			return fmt.Sprintf("entry %d: have {%d %d %d %d bytes}, want {%d %d %d %d bytes}",
				i, h.Index, h.Term, h.Type, len(h.Data), w.Index, w.Term, w.Type, len(w.Data))
		}
	}
	return ""
}

// checkContiguous fails t unless st's entries are numbered from the
// snapshot's index + 1 (or 1) and keep the log's rules.
func checkContiguous(t testing.TB, st State) {
	t.Helper()
	var s logState
	if st.Snapshot != nil {
		m := st.Snapshot.Meta
		s = logState{snap: m.Index, snapTerm: m.Term, base: m.Index, baseTerm: m.Term}
	}
	if err := s.check(st.HardState, st.Entries); err != nil {
		t.Fatalf("recovered state breaks the log's rules: %v", err)
	}
	if len(st.Entries) > 0 && st.Entries[0].Index != s.base+1 {
		t.Fatalf("recovered log starts at index %d, after a snapshot at %d", st.Entries[0].Index, s.base)
	}
}
