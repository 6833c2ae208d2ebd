package raft

import "errors"

// errCommittedConflict is returned when a message would overwrite a
// committed entry: only a faulty or malicious peer sends one.
var errCommittedConflict = errors.New("raft: message conflicts with a committed entry")

// raftLog is a node's whole log, in memory. Storage holds a copy, written
// through the Persist effects the node's Ready asks for.
//
// Invariants: ents is never empty; ents[0] is a sentinel that holds the
// index and term just before the first real entry (0, 0 while nothing has
// been compacted); ents[i].Index == ents[0].Index + i.
// applied <= committed <= lastIndex; stable < unstable <= lastIndex + 1.
type raftLog struct {
	ents []Entry
	// committed is the highest index known to be committed.
	committed uint64
	// applied is the highest index handed out for applying.
	applied uint64
	// stable is the highest index storage has acknowledged as durable.
	stable uint64
	// unstable is the first index not yet handed to storage.
	unstable uint64
}

// newLog returns a log whose entries before ents are compacted: index and
// term are those of the entry just before ents[0] (0, 0 for a log that
// starts at index 1).
func newLog(index, term uint64, ents []Entry) raftLog {
	l := raftLog{ents: make([]Entry, 1, len(ents)+1)}
	l.ents[0] = Entry{Index: index, Term: term}
	l.ents = append(l.ents, ents...)
	last := l.lastIndex()
	l.stable = last
	l.unstable = last + 1
	l.committed, l.applied = index, index
	return l
}

// entry returns the entry at i, if the log holds it (the sentinel does not
// count).
func (l *raftLog) entry(i uint64) (Entry, bool) {
	if i <= l.offset() || i > l.lastIndex() {
		return Entry{}, false
	}
	return l.ents[i-l.offset()], true
}

// compactTo drops the entries up to i, which the log holds; the entry at i
// becomes the sentinel. The caller guarantees offset() <= i <= lastIndex().
func (l *raftLog) compactTo(i uint64) {
	if i <= l.offset() {
		return
	}
	kept := make([]Entry, 1, len(l.ents)-int(i-l.offset()))
	kept[0] = Entry{Index: i, Term: l.ents[i-l.offset()].Term}
	l.ents = append(kept, l.ents[i-l.offset()+1:]...)
	l.stable = max(l.stable, i)
	l.unstable = max(l.unstable, i+1)
	l.committed = max(l.committed, i)
	l.applied = max(l.applied, i)
}

// reset empties the log: everything up to index (of term) is in a
// snapshot, and nothing follows it.
func (l *raftLog) reset(index, term uint64) {
	l.ents = []Entry{{Index: index, Term: term}}
	l.stable = index
	l.unstable = index + 1
	l.committed, l.applied = index, index
}

func (l *raftLog) offset() uint64     { return l.ents[0].Index }
func (l *raftLog) firstIndex() uint64 { return l.ents[0].Index + 1 }
func (l *raftLog) lastIndex() uint64  { return l.ents[len(l.ents)-1].Index }
func (l *raftLog) lastTerm() uint64   { return l.ents[len(l.ents)-1].Term }

// term returns the term of the entry at i, and false if the log does not
// hold i (beyond its end or before its sentinel).
func (l *raftLog) term(i uint64) (uint64, bool) {
	if i < l.offset() || i > l.lastIndex() {
		return 0, false
	}
	return l.ents[i-l.offset()].Term, true
}

func (l *raftLog) matchTerm(i, t uint64) bool {
	have, ok := l.term(i)
	return ok && have == t
}

// isUpToDate reports whether a log ending at (lastIndex, lastTerm) is at
// least as up to date as this one (paper §5.4.1).
func (l *raftLog) isUpToDate(lastIndex, lastTerm uint64) bool {
	return lastTerm > l.lastTerm() || (lastTerm == l.lastTerm() && lastIndex >= l.lastIndex())
}

// append adds entries that follow the last one. The caller guarantees
// ents[0].Index == lastIndex()+1.
func (l *raftLog) append(ents ...Entry) {
	l.ents = append(l.ents, ents...)
}

// truncateAndAppend replaces everything from ents[0].Index on with ents.
// It refuses to touch committed entries.
func (l *raftLog) truncateAndAppend(ents []Entry) error {
	if len(ents) == 0 {
		return nil
	}
	from := ents[0].Index
	if from <= l.committed {
		return errCommittedConflict
	}
	if from <= l.lastIndex() {
		// Copy the kept prefix so that slices handed out earlier never see
		// their entries overwritten.
		kept := make([]Entry, from-l.offset(), int(from-l.offset())+len(ents))
		copy(kept, l.ents[:from-l.offset()])
		l.ents = kept
		l.unstable = min(l.unstable, from)
		l.stable = min(l.stable, from-1)
	}
	l.ents = append(l.ents, ents...)
	return nil
}

// findConflict returns the index of the first entry of ents that the log
// does not hold (a different term at that index, or beyond the end), or 0
// when the log already holds all of ents.
func (l *raftLog) findConflict(ents []Entry) uint64 {
	for _, e := range ents {
		if !l.matchTerm(e.Index, e.Term) {
			return e.Index
		}
	}
	return 0
}

// findConflictByTerm returns the largest index <= i whose term is <= t,
// with that term: the leader's and follower's logs can only agree at or
// below it. Used for fast backtracking of nextIndex.
func (l *raftLog) findConflictByTerm(i, t uint64) (uint64, uint64) {
	i = min(i, l.lastIndex())
	for ; i > l.offset(); i-- {
		if have, _ := l.term(i); have <= t {
			return i, have
		}
	}
	return l.offset(), l.ents[0].Term
}

// slice returns the entries in [lo, hi), at most maxBytes of Data (but at
// least one entry if any). The result shares no backing array with the log.
func (l *raftLog) slice(lo, hi, maxBytes uint64) []Entry {
	lo = max(lo, l.firstIndex())
	hi = min(hi, l.lastIndex()+1)
	if lo >= hi {
		return nil
	}
	src := l.ents[lo-l.offset() : hi-l.offset()]
	var size uint64
	n := 0
	for n < len(src) {
		size += uint64(len(src[n].Data))
		if n > 0 && size > maxBytes {
			break
		}
		n++
	}
	out := make([]Entry, n)
	copy(out, src[:n])
	return out
}

// commitTo raises committed to i, never beyond the log's end. It reports
// whether committed changed.
func (l *raftLog) commitTo(i uint64) bool {
	i = min(i, l.lastIndex())
	if i <= l.committed {
		return false
	}
	l.committed = i
	return true
}

// takeUnstable returns the entries not yet handed to storage and marks them
// handed over.
func (l *raftLog) takeUnstable() []Entry {
	if l.unstable > l.lastIndex() {
		return nil
	}
	out := l.slice(l.unstable, l.lastIndex()+1, ^uint64(0))
	l.unstable = l.lastIndex() + 1
	return out
}

// takeCommitted returns the committed entries not yet handed out for
// applying and marks them applied.
func (l *raftLog) takeCommitted() []Entry {
	if l.applied >= l.committed {
		return nil
	}
	out := l.slice(l.applied+1, l.committed+1, ^uint64(0))
	l.applied = l.committed
	return out
}

// stableTo records that storage holds everything up to i, whose term is t.
// A stale acknowledgement (for entries since replaced) is ignored.
func (l *raftLog) stableTo(i, t uint64) bool {
	if i <= l.stable || i >= l.unstable || !l.matchTerm(i, t) {
		return false
	}
	l.stable = i
	return true
}
