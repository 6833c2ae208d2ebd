package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// corpus is a WAL of several segments, kept in memory with what it holds
// after each save, so that tests can damage copies of it and judge what
// Open makes of them.
type corpus struct {
	dir          string            // where write lays it out
	segmentBytes int64             // the WAL's, which every Open of the corpus uses
	segs         []segment         // in seq order
	files        map[string][]byte // by name, segments and the hard-state file
	starts       map[string][]int64
	// dataEnds maps a file's name to where its records end: the newest
	// segment is preallocated, zeros follow.
	dataEnds map[string]int64
	// states[m] is the State after the first m saves; ends[k] is where
	// save k+1 ends.
	states []State
	ends   []position
	next   *workload // the workload, positioned after the last save
}

// position is a place in the log: a byte offset in segment seq.
type position struct {
	seq uint64
	off int64
}

func (p position) atOrBefore(q position) bool {
	return p.seq < q.seq || (p.seq == q.seq && p.off <= q.off)
}

func buildCorpus(t testing.TB, seed uint64, saves int, segmentBytes int64, maxPayload int) *corpus {
	t.Helper()
	return buildCorpusWith(t, seed, saves, Options{SegmentBytes: segmentBytes, NoSync: true}, maxPayload)
}

// buildCorpusWith builds a corpus with the WAL options opts (Dir is set
// here).
func buildCorpusWith(t testing.TB, seed uint64, saves int, opts Options, maxPayload int) *corpus {
	t.Helper()
	dir := t.TempDir()
	segmentBytes := opts.SegmentBytes
	opts.Dir = dir
	w, st := openT(t, opts)
	w.maxPayload = maxPayload
	c := &corpus{segmentBytes: segmentBytes, files: map[string][]byte{}, starts: map[string][]int64{}, dataEnds: map[string]int64{}, states: []State{st}, next: newWorkload(seed, true)}
	for range saves {
		s := c.next.next()
		at := position{w.seg.seq, w.size}
		if err := w.Save(s.hs, s.ents); err != nil {
			t.Fatal(err)
		}
		at.off += int64(len(appendSave(nil, s.hs, s.ents, w.maxPayload)))
		c.ends = append(c.ends, at)
		c.states = append(c.states, State{HardState: c.next.st.HardState, Entries: slices.Clone(c.next.st.Entries)})
	}
	closeT(t, w)
	hs, err := os.ReadFile(filepath.Join(dir, HardStateFile))
	if err != nil {
		t.Fatal(err)
	}
	c.files[HardStateFile] = hs
	c.segs, _, _ = listSegments(dir)
	for i, s := range c.segs {
		b, err := os.ReadFile(filepath.Join(dir, s.name()))
		if err != nil {
			t.Fatal(err)
		}
		c.files[s.name()] = b
		data, ok := splitZeroTail(b)
		if !ok || (len(data) < len(b) && i < len(c.segs)-1) {
			t.Fatalf("%s: %d bytes of records, then %d not all zeros, or in an older segment", s.name(), len(data), len(b)-len(data))
		}
		c.dataEnds[s.name()] = int64(len(data))
		for off := int64(0); off < int64(len(data)); {
			c.starts[s.name()] = append(c.starts[s.name()], off)
			off += headerBytes + int64(binary.LittleEndian.Uint32(b[off:]))
		}
	}
	return c
}

// savesUpTo returns how many saves end at or before p.
func (c *corpus) savesUpTo(p position) int {
	n := 0
	for _, e := range c.ends {
		if e.atOrBefore(p) {
			n++
		}
	}
	return n
}

// recordAt returns the start of the record holding byte off of a file, and
// whether that record is the file's last; for a byte of the zero tail after
// the records, the end of the records and true.
func (c *corpus) recordAt(name string, off int64) (start int64, last bool) {
	if off >= c.dataEnds[name] {
		return c.dataEnds[name], true
	}
	starts := c.starts[name]
	for i := len(starts) - 1; i >= 0; i-- {
		if starts[i] <= off {
			return starts[i], i == len(starts)-1
		}
	}
	panic("offset before the first record")
}

// write lays the corpus out in its directory, passing each file through
// damage first. Only files that differ from what the directory holds are
// written (creating files is what makes these tests slow), and files that
// are not the corpus's are removed.
func (c *corpus) write(t testing.TB, damage func(s segment, b []byte) []byte) string {
	t.Helper()
	if c.dir == "" {
		c.dir = t.TempDir()
	}
	des, err := os.ReadDir(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if _, ok := c.files[de.Name()]; !ok && de.Name() != "LOCK" {
			if err := os.Remove(filepath.Join(c.dir, de.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range c.segs {
		path := filepath.Join(c.dir, s.name())
		want := damage(s, append([]byte(nil), c.files[s.name()]...))
		have, err := os.ReadFile(path)
		if err == nil && bytes.Equal(have, want) {
			continue
		}
		if err := patchFile(path, have, want); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(c.dir, HardStateFile)
	if have, err := os.ReadFile(path); err != nil || !bytes.Equal(have, c.files[HardStateFile]) {
		if err := os.WriteFile(path, c.files[HardStateFile], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c.dir
}

// patchFile makes the file at path, which holds have, hold want, writing
// as little as it can: ext4 flushes a file rewritten from empty on close,
// which would make these tests ten times slower.
func patchFile(path string, have, want []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	n := min(len(have), len(want))
	for i := 0; i < n; i++ {
		if have[i] != want[i] {
			j := i
			for j < n && have[j] != want[j] {
				j++
			}
			if _, err := f.WriteAt(want[i:j], int64(i)); err != nil {
				return err
			}
			i = j
		}
	}
	if len(want) > n {
		if _, err := f.WriteAt(want[n:], int64(n)); err != nil {
			return err
		}
	}
	return f.Truncate(int64(len(want)))
}

// expectOK opens dir and wants the state after m saves; then it checks
// that the WAL takes the save that followed save m and reopens with it.
func (c *corpus) expectOK(t testing.TB, dir string, m int, what string) {
	t.Helper()
	opts := Options{Dir: dir, SegmentBytes: c.segmentBytes, NoSync: true}
	w, st, err := Open(opts)
	if err != nil {
		t.Fatalf("%s: Open: %v (want the state after %d of %d saves)", what, err, m, len(c.ends))
	}
	if diff := diffState(st, c.states[m]); diff != "" {
		w.Close()
		t.Fatalf("%s: want the state after %d of %d saves: %s", what, m, len(c.ends), diff)
	}
	g := &workload{rng: rand.New(rand.NewPCG(uint64(m), 1)), st: st}
	s := g.next()
	if err := w.Save(s.hs, s.ents); err != nil {
		t.Fatalf("%s: Save after recovery: %v", what, err)
	}
	closeT(t, w)
	if diff := diffState(reopenT(t, opts), g.st); diff != "" {
		t.Fatalf("%s: reopened after a save: %s", what, diff)
	}
}

// expectCorrupt opens dir and wants a CorruptError naming one of names.
func (c *corpus) expectCorrupt(t testing.TB, dir string, what string, names ...string) *CorruptError {
	t.Helper()
	w, _, err := Open(Options{Dir: dir, SegmentBytes: c.segmentBytes, NoSync: true})
	if err == nil {
		w.Close()
		t.Fatalf("%s: Open succeeded, want ErrCorrupt", what)
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: have %v, want a CorruptError", what, err)
	}
	for _, n := range names {
		if ce.Path == filepath.Join(dir, n) {
			return ce
		}
	}
	t.Fatalf("%s: %v names the wrong file (want one of %v)", what, err, names)
	return nil
}

func testCorpus(t *testing.T) *corpus {
	c := buildCorpus(t, 42, 60, 1200, 400)
	if len(c.segs) < 4 {
		t.Fatalf("corpus has %d segments, want several", len(c.segs))
	}
	size := 0
	for _, b := range c.files {
		size += len(b)
	}
	newest := c.segs[len(c.segs)-1].name()
	if tail := int64(len(c.files[newest])) - c.dataEnds[newest]; tail < 100 {
		t.Fatalf("corpus's newest segment has a zero tail of %d bytes, want one to damage", tail)
	}
	t.Logf("corpus: %d saves, %d entries, %d segments, %d bytes", len(c.ends), len(c.states[len(c.ends)].Entries), len(c.segs), size)
	return c
}

// TestFlipEveryByte flips one bit of every byte of every segment in turn.
// In an older segment, or before the newest segment's last record, Open
// must refuse with the file and the damaged record's offset; in the last
// record it must lose that record's save and nothing else; in the zero
// tail after it (the newest segment is preallocated), nothing.
func TestFlipEveryByte(t *testing.T) {
	c := testCorpus(t)
	rng := rand.New(rand.NewPCG(1, 2))
	stride := int64(1)
	if testing.Short() {
		stride = 7
	}
	newest := c.segs[len(c.segs)-1]
	for _, s := range c.segs {
		for off := int64(0); off < int64(len(c.files[s.name()])); off += stride {
			bit := byte(1) << rng.IntN(8)
			dir := c.write(t, func(d segment, b []byte) []byte {
				if d == s {
					b[off] ^= bit
				}
				return b
			})
			what := s.name() + " flipped at " + itoa(off)
			start, lastRecord := c.recordAt(s.name(), off)
			if s == newest && lastRecord {
				c.expectOK(t, dir, c.savesUpTo(position{s.seq, start}), what)
				continue
			}
			ce := c.expectCorrupt(t, dir, what, s.name())
			if ce.Offset != start {
				t.Fatalf("%s: %v: want offset %d", what, ce, start)
			}
		}
	}
}

// TestTruncateEveryLength cuts each segment at every length. Every cut is
// corruption, naming the segment cut (or the next, for an older segment
// cut at a record boundary): no crash makes a segment shorter, neither an
// older one, which never changes again, nor the newest, which is
// preallocated when it is made (and a torn write inside it leaves its
// size). That includes a cut to 0 bytes, which an earlier version took
// for a torn header and so lost a whole segment of acknowledged saves
// along with the term and vote they raised.
func TestTruncateEveryLength(t *testing.T) {
	c := testCorpus(t)
	stride := int64(1)
	if testing.Short() {
		stride = 7
	}
	for i, s := range c.segs {
		for n := int64(0); n < int64(len(c.files[s.name()])); n += stride {
			dir := c.write(t, func(d segment, b []byte) []byte {
				if d == s {
					return b[:n]
				}
				return b
			})
			what := s.name() + " cut to " + itoa(n) + " bytes"
			if i == len(c.segs)-1 {
				c.expectCorrupt(t, dir, what, s.name())
				continue
			}
			c.expectCorrupt(t, dir, what, s.name(), c.segs[i+1].name())
		}
	}
}

// TestRandomDamage flips several bytes, cuts and extends files at random.
// Open must either refuse with ErrCorrupt or return the state after some
// prefix of the saves that keeps every save ending before the first damage.
func TestRandomDamage(t *testing.T) {
	c := testCorpus(t)
	rng := rand.New(rand.NewPCG(3, 4))
	cases := 600
	if testing.Short() {
		cases = 100
	}
	for i := range cases {
		first := position{seq: ^uint64(0)}
		damage := map[segment][]func([]byte) []byte{}
		for range 1 + rng.IntN(3) {
			s := c.segs[rng.IntN(len(c.segs))]
			size := int64(len(c.files[s.name()]))
			off := rng.Int64N(size)
			var f func([]byte) []byte
			switch rng.IntN(4) {
			case 0:
				f = func(b []byte) []byte { return b[:min(off, int64(len(b)))] }
			case 1:
				junk := make([]byte, 1+rng.IntN(600))
				if rng.IntN(2) == 0 {
					for j := range junk {
						junk[j] = byte(rng.Uint32())
					}
				}
				off = size
				f = func(b []byte) []byte { return append(b, junk...) }
			default:
				v := byte(1 + rng.IntN(255))
				f = func(b []byte) []byte {
					if off < int64(len(b)) {
						b[off] ^= v
					}
					return b
				}
			}
			if p := (position{s.seq, off}); p.atOrBefore(first) {
				first = p
			}
			damage[s] = append(damage[s], f)
		}
		dir := c.write(t, func(s segment, b []byte) []byte {
			for _, f := range damage[s] {
				b = f(b)
			}
			return b
		})
		w, st, err := Open(Options{Dir: dir, SegmentBytes: c.segmentBytes, NoSync: true})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("case %d: %v", i, err)
			}
			continue
		}
		w.Close()
		least := c.savesUpTo(first)
		ok := false
		for m := least; m < len(c.states) && !ok; m++ {
			ok = diffState(st, c.states[m]) == ""
		}
		if !ok {
			t.Fatalf("case %d: Open returned a state that no prefix of %d or more saves leaves (damage from %+v)", i, least, first)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
