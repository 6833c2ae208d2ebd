package storage

import (
	"fmt"
	"slices"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// logState is what checking a save or a snapshot mark needs to know of the
// log: the hard state, the newest snapshot mark, and the term of every
// entry held. Save checks against it before it writes and replay checks
// every record against it, with the same rules (ErrInvalid lists them), so
// that whatever Save accepts, Open accepts back.
//
// The WAL's own logState holds the entries after the snapshot (base ==
// snap). Replay's (retain set) keeps the entries below a snapshot that
// kept its log, for a fallback to an older snapshot, and may begin with
// entries it never saw: a replay that starts in a segment whose
// predecessors were deleted knows the log up to that segment's first index
// only by its length.
//
// Invariants: terms[i] is the term of the entry at index base+1+i, and if
// retain, ents[i] is that entry; terms never go down, each is at least 1,
// at least snapTerm and at most hs.Term; snap <= last() and hs.Commit <=
// last(); outside replay, base == snap and baseTerm == snapTerm.
type logState struct {
	hs raft.HardState
	// snap and snapTerm are the index and term of the newest snapshot mark
	// (0, 0 before the first). No save may write at or below snap.
	snap, snapTerm uint64
	// base is the index of the entry before terms[0]; baseTerm is its term,
	// 0 if unknown (never when base is 0 or snap).
	base, baseTerm uint64
	terms          []uint64
	// retain: replay mode, which keeps ents and the entries below a
	// snapshot mark that kept its log.
	retain bool
	ents   []raft.Entry
}

// last returns the index of the last entry, or the base.
func (s *logState) last() uint64 { return s.base + uint64(len(s.terms)) }

// termAt returns the term of the entry at index i and whether it is known.
func (s *logState) termAt(i uint64) (uint64, bool) {
	switch {
	case i == s.base:
		return s.baseTerm, s.base == 0 || s.baseTerm != 0
	case i > s.base && i <= s.last():
		return s.terms[i-s.base-1], true
	}
	return 0, false
}

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
		case first <= s.snap:
			return fmt.Errorf("entries start at index %d, at or below the snapshot's index %d", first, s.snap)
		}
		prev, ok := s.termAt(first - 1)
		if !ok {
			// Only in a replay that began after the entry before first.
			prev = s.snapTerm
		}
		for i, e := range ents {
			switch {
			case e.Index != first+uint64(i):
				return fmt.Errorf("entries are not contiguous: entry %d has index %d, want %d", i, e.Index, first+uint64(i))
			case !e.Type.Valid():
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
	if err := s.checkHardState(hs); err != nil {
		return err
	}
	if hs.Commit < s.hs.Commit {
		return fmt.Errorf("commit index goes down from %d to %d", s.hs.Commit, hs.Commit)
	}
	if hs.Commit > last {
		return fmt.Errorf("commit index %d is beyond the last index %d", hs.Commit, last)
	}
	return nil
}

// checkHardState checks the rules on hs's term and vote.
func (s *logState) checkHardState(hs raft.HardState) error {
	switch {
	case hs.Term < s.hs.Term:
		return fmt.Errorf("hard state's term goes down from %d to %d", s.hs.Term, hs.Term)
	case hs.Term == s.hs.Term && s.hs.Vote != 0 && hs.Vote != s.hs.Vote:
		return fmt.Errorf("vote changes from %d to %d within term %d", s.hs.Vote, hs.Vote, hs.Term)
	}
	return nil
}

// apply records a save that check accepted.
func (s *logState) apply(hs raft.HardState, ents []raft.Entry) {
	if len(ents) > 0 {
		first := ents[0].Index
		if first-1 < s.base {
			// Replay only: the save rewrites entries it never saw.
			s.reset(first-1, 0)
		} else {
			s.terms = s.terms[:first-1-s.base]
			if s.retain {
				s.ents = s.ents[:first-1-s.base]
			}
		}
		for _, e := range ents {
			s.terms = append(s.terms, e.Term)
		}
		if s.retain {
			s.ents = append(s.ents, ents...)
		}
	}
	s.hs = hs
}

// reset empties the log at index base, of term baseTerm (0: unknown
// unless base is 0 or the snapshot's index).
func (s *logState) reset(base, baseTerm uint64) {
	if base == s.snap {
		baseTerm = s.snapTerm
	}
	s.base, s.baseTerm = base, baseTerm
	s.terms, s.ents = s.terms[:0], s.ents[:0]
}

// mark is a snapshot mark: the snapshot at index, of term, is durable; the
// entries up to index go, and those after it too unless keep. A rebase
// mark is written by Open when it falls back to an older snapshot than the
// newest mark's: it sets the snapshot back to index and the hard state to
// hs (whose commit index may go down, to the new last index at most).
// Other marks carry the hard state in force, unchanged.
type mark struct {
	index, term uint64
	keep        bool
	rebase      bool
	hs          raft.HardState
}

// effectiveKeep returns whether a snapshot at index, of term, can keep the
// log after it: not if the log holds a different entry at index (the
// entries after it belong to another history).
func (s *logState) effectiveKeep(index, term uint64, keep bool) bool {
	if t, ok := s.termAt(index); keep && ok && index <= s.last() && t != term {
		return false
	}
	return keep
}

// checkMark returns why mark m cannot follow s, or nil.
func (s *logState) checkMark(m mark) error {
	if m.rebase {
		return s.checkRebase(m)
	}
	switch {
	case m.index == 0 || m.term == 0:
		return fmt.Errorf("snapshot has index %d and term %d (0 is not a snapshot)", m.index, m.term)
	case m.index < s.snap:
		return fmt.Errorf("snapshot at index %d is older than the previous one, at %d", m.index, s.snap)
	case m.term < s.snapTerm:
		return fmt.Errorf("snapshot at index %d has term %d, below the previous snapshot's term %d", m.index, m.term, s.snapTerm)
	case m.index == s.snap && m.term != s.snapTerm:
		return fmt.Errorf("snapshot at index %d has term %d, but the previous one at that index had term %d", m.index, m.term, s.snapTerm)
	case m.hs != s.hs:
		return fmt.Errorf("snapshot mark's hard state %+v differs from the log's %+v", m.hs, s.hs)
	case !m.keep && s.hs.Commit > m.index:
		return fmt.Errorf("snapshot at index %d drops the log after it, with committed entries up to index %d", m.index, s.hs.Commit)
	case s.effectiveKeep(m.index, m.term, m.keep) != m.keep:
		t, _ := s.termAt(m.index)
		return fmt.Errorf("snapshot at index %d of term %d keeps the log, whose entry there has term %d", m.index, m.term, t)
	}
	return nil
}

// checkRebase checks a rebase mark.
func (s *logState) checkRebase(m mark) error {
	last := m.index
	switch {
	case (m.index == 0) != (m.term == 0):
		return fmt.Errorf("rebase to a snapshot with index %d and term %d", m.index, m.term)
	case m.index > s.snap:
		return fmt.Errorf("rebase to index %d, above the snapshot's index %d", m.index, s.snap)
	case m.keep:
		if t, ok := s.termAt(m.index); m.index < s.base || (ok && t != m.term) {
			return fmt.Errorf("rebase to index %d of term %d keeps a log that does not hold it", m.index, m.term)
		}
		last = s.last()
	}
	if err := s.checkHardState(m.hs); err != nil {
		return err
	}
	if m.hs.Commit > last {
		return fmt.Errorf("rebase leaves commit index %d beyond the last index %d", m.hs.Commit, last)
	}
	return nil
}

// applyMark records a mark that checkMark accepted (or, for the WAL, one
// it made: effectiveKeep is applied).
func (s *logState) applyMark(m mark) {
	if m.rebase {
		s.hs = m.hs
	}
	s.snap, s.snapTerm = m.index, m.term
	switch {
	case !m.keep || s.last() < m.index:
		s.reset(m.index, m.term)
	case m.index >= s.base && !s.retain:
		s.terms = slices.Clone(s.terms[m.index-s.base:])
		s.base, s.baseTerm = m.index, m.term
	case m.index == s.base:
		s.baseTerm = m.term
	}
}

// compactTo drops the entries up to the snapshot's index, as the WAL's
// logState holds them, and stops retaining entries.
func (s *logState) compactTo() {
	if s.snap > s.base {
		s.terms = slices.Clone(s.terms[s.snap-s.base:])
		s.base = s.snap
	}
	s.baseTerm = s.snapTerm
	s.retain, s.ents = false, nil
}

// nextHeader returns the header of a segment made now (seq and prevSize
// left for the caller): it begins after the last entry.
func (s *logState) nextHeader() segmentHeader {
	return segmentHeader{first: s.last() + 1, hs: s.hs, snap: s.snap, snapTerm: s.snapTerm}
}
