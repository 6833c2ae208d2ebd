package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wraft/wraft/raft"
)

// saveArgs is one call to Save.
type saveArgs struct {
	hs   raft.HardState
	ents []raft.Entry
}

// workload makes a deterministic sequence of saves that keep the log's
// rules, as a Raft node's would: appends, commit advances, elections, and
// elections that overwrite the uncommitted tail. Every save changes the
// state, so that a state tells how many saves made it. It tracks the State that
// the saves so far leave, in st, which the next save changes in place.
type workload struct {
	rng     *rand.Rand
	bigData bool // now and then an entry of several KiB
	st      State
	n       int // saves made
}

func newWorkload(seed uint64, bigData bool) *workload {
	return &workload{rng: rand.New(rand.NewPCG(seed, 0x5741_4c)), bigData: bigData}
}

func (g *workload) last() uint64 { return uint64(len(g.st.Entries)) }

// next returns the next save and applies it to the tracked state.
func (g *workload) next() saveArgs {
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
		if last := g.last(); last > hs.Commit {
			from = hs.Commit + 1 + g.rng.Uint64N(last-hs.Commit)
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
		g.st.Entries = append(g.st.Entries[:ents[0].Index-1], ents...)
	}
	g.st.HardState = hs
	g.n++
}

// diffState describes how have differs from want, or returns "".
func diffState(have, want State) string {
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

// checkContiguous fails t unless st's entries are numbered 1, 2, ... and
// keep the log's rules.
func checkContiguous(t testing.TB, st State) {
	t.Helper()
	var s logState
	if err := s.check(st.HardState, st.Entries); err != nil {
		t.Fatalf("recovered state breaks the log's rules: %v", err)
	}
	if len(st.Entries) > 0 && st.Entries[0].Index != 1 {
		t.Fatalf("recovered log starts at index %d", st.Entries[0].Index)
	}
}
