package storage

import (
	"fmt"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// logState is what checking a save needs to know of the log: the hard state
// and the term of every entry. Save checks against it before it writes and
// replay checks every record against it, with the same rules (ErrInvalid
// lists them), so that whatever Save accepts, Open accepts back.
//
// Invariants: terms[i] is the term of the entry at index i+1; terms never
// go down, each is at least 1 and at most hs.Term; hs.Commit <= len(terms).
type logState struct {
	hs    raft.HardState
	terms []uint64
}

// last returns the index of the last entry, or 0.
func (s *logState) last() uint64 { return uint64(len(s.terms)) }

// check returns why a save of hs and ents cannot follow s, or nil.
func (s *logState) check(hs raft.HardState, ents []raft.Entry) error {
	last := s.last()
	if len(ents) > 0 {
		first := ents[0].Index
		switch {
		case first == 0:
			return fmt.Errorf("entries start at index 0")
		case first > last+1:
			return fmt.Errorf("entries start at index %d but the log ends at %d", first, last)
		case first <= s.hs.Commit:
			return fmt.Errorf("entries start at index %d, overwriting committed entries (commit index %d)", first, s.hs.Commit)
		}
		prev := uint64(0)
		if first > 1 {
			prev = s.terms[first-2]
		}
		for i, e := range ents {
			switch {
			case e.Index != first+uint64(i):
				return fmt.Errorf("entries are not contiguous: entry %d has index %d, want %d", i, e.Index, first+uint64(i))
			case e.Type != raft.EntryNormal && e.Type != raft.EntryNoop:
				return fmt.Errorf("entry at index %d has unknown type %d", e.Index, e.Type)
			case len(e.Data) > wire.MaxEntryBytes:
				return fmt.Errorf("entry at index %d has %d bytes of data (limit %d)", e.Index, len(e.Data), wire.MaxEntryBytes)
			case e.Term == 0:
				return fmt.Errorf("entry at index %d has term 0", e.Index)
			case e.Term < prev:
				return fmt.Errorf("term goes down from %d to %d at index %d", prev, e.Term, e.Index)
			case e.Term > hs.Term:
				return fmt.Errorf("entry at index %d has term %d, above the hard state's term %d", e.Index, e.Term, hs.Term)
			}
			prev = e.Term
		}
		last = first + uint64(len(ents)) - 1
	}
	switch {
	case hs.Term < s.hs.Term:
		return fmt.Errorf("hard state's term goes down from %d to %d", s.hs.Term, hs.Term)
	case hs.Term == s.hs.Term && s.hs.Vote != 0 && hs.Vote != s.hs.Vote:
		return fmt.Errorf("vote changes from %d to %d within term %d", s.hs.Vote, hs.Vote, hs.Term)
	case hs.Commit < s.hs.Commit:
		return fmt.Errorf("commit index goes down from %d to %d", s.hs.Commit, hs.Commit)
	case hs.Commit > last:
		return fmt.Errorf("commit index %d is beyond the last index %d", hs.Commit, last)
	}
	return nil
}

// apply records a save that check accepted.
func (s *logState) apply(hs raft.HardState, ents []raft.Entry) {
	if len(ents) > 0 {
		s.terms = s.terms[:ents[0].Index-1]
		for _, e := range ents {
			s.terms = append(s.terms, e.Term)
		}
	}
	s.hs = hs
}
