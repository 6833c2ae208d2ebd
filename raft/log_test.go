package raft

// Unit tests of raftLog, the in-memory log.

import (
	"errors"
	"slices"
	"testing"
)

// §5.4.1: "If the logs have last entries with different terms, then the
// log with the later term is more up-to-date. If the logs end with the same
// term, then whichever log is longer is more up-to-date."
func TestLogIsUpToDate(t *testing.T) {
	l := newLog(0, 0, logOf(1, 2, 2)) // last (3, 2)
	tests := []struct {
		index, term uint64
		want        bool
	}{
		{3, 2, true},
		{4, 2, true},
		{2, 2, false},
		{1, 3, true},
		{9, 1, false},
		{0, 0, false},
	}
	for _, tt := range tests {
		if have := l.isUpToDate(tt.index, tt.term); have != tt.want {
			t.Errorf("isUpToDate(%d, %d): have %v, want %v", tt.index, tt.term, have, tt.want)
		}
	}
	empty := newLog(0, 0, nil)
	if !empty.isUpToDate(0, 0) {
		t.Errorf("an empty log is as up to date as an empty log")
	}
}

// findConflictByTerm is the fast-backtracking hint: the largest index <= i
// whose term is <= t.
func TestLogFindConflictByTerm(t *testing.T) {
	l := newLog(0, 0, logOf(1, 1, 2, 2, 4, 4)) // indexes 1..6
	tests := []struct {
		i, t      uint64
		wantIndex uint64
		wantTerm  uint64
	}{
		{6, 4, 6, 4},
		{6, 3, 4, 2},
		{6, 2, 4, 2},
		{6, 1, 2, 1},
		{6, 0, 0, 0},
		{9, 5, 6, 4}, // beyond the log: from its end
		{3, 5, 3, 2},
		{0, 5, 0, 0},
	}
	for _, tt := range tests {
		i, term := l.findConflictByTerm(tt.i, tt.t)
		if i != tt.wantIndex || term != tt.wantTerm {
			t.Errorf("findConflictByTerm(%d, %d): have (%d, %d), want (%d, %d)", tt.i, tt.t, i, term, tt.wantIndex, tt.wantTerm)
		}
	}
}

func TestLogFindConflict(t *testing.T) {
	l := newLog(0, 0, logOf(1, 2, 3))
	tests := []struct {
		ents []Entry
		want uint64
	}{
		{nil, 0},
		{[]Entry{{Index: 1, Term: 1}, {Index: 2, Term: 2}}, 0},
		{[]Entry{{Index: 2, Term: 2}, {Index: 3, Term: 3}, {Index: 4, Term: 4}}, 4},
		{[]Entry{{Index: 2, Term: 2}, {Index: 3, Term: 4}}, 3},
		{[]Entry{{Index: 1, Term: 4}}, 1},
	}
	for _, tt := range tests {
		if have := l.findConflict(tt.ents); have != tt.want {
			t.Errorf("findConflict(%v): have %d, want %d", tt.ents, have, tt.want)
		}
	}
}

// truncateAndAppend refuses to replace committed entries, and moves the
// storage marks back when it truncates.
func TestLogTruncateAndAppend(t *testing.T) {
	l := newLog(0, 0, logOf(1, 1, 1, 1))
	l.commitTo(2)
	if err := l.truncateAndAppend([]Entry{{Index: 2, Term: 2}}); !errors.Is(err, errCommittedConflict) {
		t.Fatalf("replacing committed entry 2: have %v, want errCommittedConflict", err)
	}
	if have := l.lastIndex(); have != 4 {
		t.Fatalf("a refused truncation changed the log (last %d)", have)
	}
	if err := l.truncateAndAppend([]Entry{{Index: 3, Term: 2}}); err != nil {
		t.Fatal(err)
	}
	if l.lastIndex() != 3 || l.lastTerm() != 2 || l.stable != 2 || l.unstable != 3 {
		t.Fatalf("have last (%d, %d) stable %d unstable %d, want (3, 2), 2, 3", l.lastIndex(), l.lastTerm(), l.stable, l.unstable)
	}
	if have := l.takeUnstable(); len(have) != 1 || have[0].Term != 2 {
		t.Fatalf("takeUnstable: %+v, want the new entry 3", have)
	}
}

// An entry slice handed out earlier keeps its contents when the log is
// truncated afterwards.
func TestLogTruncateDoesNotAliasHandedOutSlices(t *testing.T) {
	l := newLog(0, 0, logOf(1, 1, 1))
	out := l.slice(1, 4, ^uint64(0))
	l.truncateAndAppend([]Entry{{Index: 2, Term: 2}})
	if out[1].Term != 1 {
		t.Fatalf("a handed-out entry changed to %+v", out[1])
	}
}

// slice bounds the bytes of Data but always returns at least one entry.
func TestLogSliceByteLimit(t *testing.T) {
	var ents []Entry
	for i := range 5 {
		ents = append(ents, Entry{Index: uint64(i) + 1, Term: 1, Data: make([]byte, 3)})
	}
	l := newLog(0, 0, ents)
	tests := []struct {
		lo, hi, max uint64
		want        []uint64
	}{
		{1, 6, 100, []uint64{1, 2, 3, 4, 5}},
		{1, 6, 6, []uint64{1, 2}},
		{1, 6, 5, []uint64{1}},
		{1, 6, 0, []uint64{1}},
		{4, 9, 100, []uint64{4, 5}},
		{6, 9, 100, nil},
		{0, 2, 100, []uint64{1}},
	}
	for _, tt := range tests {
		var have []uint64
		for _, e := range l.slice(tt.lo, tt.hi, tt.max) {
			have = append(have, e.Index)
		}
		if !slices.Equal(have, tt.want) {
			t.Errorf("slice(%d, %d, %d): have %v, want %v", tt.lo, tt.hi, tt.max, have, tt.want)
		}
	}
}

// commitTo never moves back and never beyond the log.
func TestLogCommitTo(t *testing.T) {
	l := newLog(0, 0, logOf(1, 1, 1))
	steps := []struct {
		to, want uint64
		changed  bool
	}{
		{2, 2, true}, {1, 2, false}, {9, 3, true}, {3, 3, false},
	}
	for _, s := range steps {
		if changed := l.commitTo(s.to); changed != s.changed || l.committed != s.want {
			t.Errorf("commitTo(%d): have commit %d changed %v, want %d %v", s.to, l.committed, changed, s.want, s.changed)
		}
	}
}

// stableTo accepts only acknowledgements of entries handed to storage and
// still in the log with that term.
func TestLogStableTo(t *testing.T) {
	l := newLog(0, 0, logOf(1))
	l.append(Entry{Index: 2, Term: 2}, Entry{Index: 3, Term: 2})
	steps := []struct {
		i, t   uint64
		ok     bool
		stable uint64
	}{
		{2, 2, false, 1}, // not handed out yet
	}
	for _, s := range steps {
		if ok := l.stableTo(s.i, s.t); ok != s.ok || l.stable != s.stable {
			t.Errorf("stableTo(%d, %d) before handing out: have %v stable %d, want %v %d", s.i, s.t, ok, l.stable, s.ok, s.stable)
		}
	}
	l.takeUnstable()
	steps = []struct {
		i, t   uint64
		ok     bool
		stable uint64
	}{
		{2, 1, false, 1}, // wrong term
		{2, 2, true, 2},
		{2, 2, false, 2}, // again
		{1, 1, false, 2}, // older
		{4, 2, false, 2}, // beyond the log
		{3, 2, true, 3},
	}
	for _, s := range steps {
		if ok := l.stableTo(s.i, s.t); ok != s.ok || l.stable != s.stable {
			t.Errorf("stableTo(%d, %d): have %v stable %d, want %v %d", s.i, s.t, ok, l.stable, s.ok, s.stable)
		}
	}
}
