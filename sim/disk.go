package sim

import (
	"fmt"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// disk is one node's simulated stable storage: what survives a crash.
type disk struct {
	hs raft.HardState
	// snap is the stored snapshot, if any.
	snap *raft.Snapshot
	// entries is the stored log. Invariant: entries[i].Index == i+1. The
	// entries up to the snapshot's index are not stored by a real host; the
	// disk keeps them (the committed entries the snapshot covers) only so
	// that the checker sees whole logs. restored leaves them out.
	entries []raft.Entry
	// chain[i] hashes entries[0..i], so that two logs with equal chain
	// values at an index hold identical prefixes up to it.
	chain []uint64
}

// last returns the index of the last stored entry, or 0.
func (d *disk) last() uint64 { return uint64(len(d.entries)) }

// checkShape reports whether p can be applied to a log whose last index is
// last: its entries must be contiguous, start at index 1 or above, and
// leave no gap after last.
func checkShape(p engine.Persist, last uint64) error {
	if len(p.Entries) == 0 {
		return nil
	}
	first := p.Entries[0].Index
	if first == 0 || first > last+1 {
		return fmt.Errorf("persist starts at index %d but the log ends at %d: it would leave a gap", first, last)
	}
	for i, e := range p.Entries {
		if e.Index != first+uint64(i) {
			return fmt.Errorf("persist entries are not contiguous: entry %d of the batch has index %d, want %d", i, e.Index, first+uint64(i))
		}
	}
	return nil
}

// write makes p durable: it replaces the stored entries from
// p.Entries[0].Index on with p.Entries, then stores p.HardState. It returns
// the first index written (0 when p has no entries).
func (d *disk) write(p engine.Persist) (uint64, error) {
	if err := checkShape(p, d.last()); err != nil {
		return 0, err
	}
	from := d.append(p.Entries)
	d.hs = p.HardState
	return from, nil
}

// tear lands only the first k entries of p, and not its hard state: the
// state a crash leaves behind when it cuts a write short. With k == 0
// nothing changes. It returns the first index written, or 0.
func (d *disk) tear(p engine.Persist, k int) uint64 {
	if k == 0 || checkShape(p, d.last()) != nil {
		return 0
	}
	return d.append(p.Entries[:k])
}

// append truncates the stored log before ents[0].Index and appends ents,
// which checkShape accepted. It returns ents[0].Index, or 0.
func (d *disk) append(ents []raft.Entry) uint64 {
	if len(ents) == 0 {
		return 0
	}
	from := ents[0].Index
	d.entries = append(d.entries[:from-1], ents...)
	d.chain = d.chain[:from-1]
	prev := uint64(0)
	if from > 1 {
		prev = d.chain[from-2]
	}
	for _, e := range ents {
		prev = chainHash(prev, e)
		d.chain = append(d.chain, prev)
	}
	return from
}

// restored returns what a restarting host hands the engine. The entries
// slice is the engine's; their Data is shared and must not be modified.
func (d *disk) restored() engine.Restored {
	if d.snap == nil {
		return engine.Restored{HardState: d.hs, Entries: append([]raft.Entry(nil), d.entries...)}
	}
	snap := *d.snap
	return engine.Restored{HardState: d.hs, Snapshot: &snap, Entries: append([]raft.Entry(nil), d.entries[snap.Meta.Index:]...)}
}

// saveSnapshot stores s and drops the entries it covers, and every entry
// after it unless keep. covered holds the committed entries up to its
// index, which the disk keeps for the checker in place of the dropped
// ones. It returns the first index whose entry changed, or 0.
func (d *disk) saveSnapshot(s raft.Snapshot, keep bool, covered []raft.Entry) uint64 {
	idx := s.Meta.Index
	d.snap = &s
	// The first index at which the stored log leaves the committed one.
	k := uint64(0)
	for k < idx && k < d.last() && sameEntry(d.entries[k], covered[k]) {
		k++
	}
	var rest []raft.Entry
	if keep && d.last() > idx {
		rest = append(rest, d.entries[idx:]...)
	}
	if k == idx && (keep || d.last() == idx) {
		return 0 // the stored log already is the committed one up to idx
	}
	d.entries, d.chain = d.entries[:k], d.chain[:k]
	d.append(covered[k:idx])
	if len(rest) > 0 {
		d.append(rest)
	}
	return k + 1
}

// chainHash extends the hash prev of a log prefix with entry e (FNV-1a
// over e's term, type and data).
func chainHash(prev uint64, e raft.Entry) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		for range 8 {
			h ^= v & 0xff
			h *= prime
			v >>= 8
		}
	}
	mix(prev)
	mix(e.Term)
	mix(uint64(e.Type))
	mix(uint64(len(e.Data)))
	for _, b := range e.Data {
		h ^= uint64(b)
		h *= prime
	}
	return h
}
