package kv

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// newStore returns a store that keeps at most maxSessions sessions.
func newStore(maxSessions int) *Store {
	s := New()
	s.sessions.max = maxSessions
	return s
}

// fataler is what checkInvariants needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkInvariants fails t if the invariants written on Store's and
// session's fields do not hold.
func checkInvariants(t fataler, s *Store) {
	t.Helper()
	var sum uint64
	for k, e := range s.data {
		if e.hash != hashEntry(k, e.value) {
			t.Fatalf("entry %q: stale hash", k)
		}
		sum += e.hash
	}
	n := 0
	var last uint64
	for sess := s.sessions.oldest; sess != nil; sess = sess.newer {
		n++
		if s.sessions.byClient[sess.client] != sess {
			t.Fatalf("session %d in list but not in map", sess.client)
		}
		if sess.lastUsed <= last || sess.lastUsed > s.applied {
			t.Fatalf("session %d last used at %d: after %d, applied %d", sess.client, sess.lastUsed, last, s.applied)
		}
		if sess.newer == nil && s.sessions.newest != sess {
			t.Fatalf("list end %d is not newest", sess.client)
		}
		if sess.hash != hashSession(sess) {
			t.Fatalf("session %d: stale hash", sess.client)
		}
		last = sess.lastUsed
		sum += sess.hash
	}
	if n != s.sessions.len() || n > s.sessions.max {
		t.Fatalf("list holds %d sessions, map %d, max %d", n, s.sessions.len(), s.sessions.max)
	}
	if sum != s.sum {
		t.Fatalf("digest sum %x, recomputed %x", s.sum, sum)
	}
}

func set(k, v string) Command { return Command{Op: OpSet, Key: k, Value: []byte(v)} }
func get(k string) Command    { return Command{Op: OpGet, Key: k} }
func del(k string) Command    { return Command{Op: OpDel, Key: k} }
func cas(k, expect, v string) Command {
	return Command{Op: OpCAS, Key: k, Expect: []byte(expect), Value: []byte(v)}
}
func casMissing(k, v string) Command {
	return Command{Op: OpCAS, Key: k, ExpectMissing: true, Value: []byte(v)}
}

// resultString renders a Result for comparison and messages, telling a nil
// Value from an empty one.
func resultString(r Result) string {
	v := "nil"
	if r.Value != nil {
		v = strconv.Quote(string(r.Value))
	}
	return "{OK:" + strconv.FormatBool(r.OK) + " Found:" + strconv.FormatBool(r.Found) +
		" Value:" + v + " Err:" + strconv.Quote(r.Err) + "}"
}

func TestApplyOps(t *testing.T) {
	ok := Result{OK: true}
	found := Result{OK: true, Found: true}
	tests := []struct {
		name  string
		setup []Command // applied first, each must succeed
		cmd   Command
		want  Result
		after map[string]string // the whole store afterwards
	}{
		{"set new", nil, set("a", "1"), ok, map[string]string{"a": "1"}},
		{"set existing", []Command{set("a", "1")}, set("a", "2"), found, map[string]string{"a": "2"}},
		{"set empty value", nil, Command{Op: OpSet, Key: "a"}, ok, map[string]string{"a": ""}},
		{"get missing", nil, get("a"), ok, map[string]string{}},
		{"get", []Command{set("a", "1")}, get("a"), Result{OK: true, Found: true, Value: []byte("1")}, map[string]string{"a": "1"}},
		{"get empty value", []Command{set("a", "")}, get("a"), Result{OK: true, Found: true, Value: []byte{}}, map[string]string{"a": ""}},
		{"del missing", []Command{set("b", "1")}, del("a"), ok, map[string]string{"b": "1"}},
		{"del", []Command{set("a", "1"), set("b", "2")}, del("a"), found, map[string]string{"b": "2"}},
		{"cas match", []Command{set("a", "1")}, cas("a", "1", "2"), found, map[string]string{"a": "2"}},
		{"cas match empty", []Command{set("a", "")}, Command{Op: OpCAS, Key: "a", Value: []byte("2")}, found, map[string]string{"a": "2"}},
		{"cas differs", []Command{set("a", "1")}, cas("a", "0", "2"),
			Result{Found: true, Value: []byte("1"), Err: "cas: value differs"}, map[string]string{"a": "1"}},
		{"cas empty expect differs", []Command{set("a", "1")}, Command{Op: OpCAS, Key: "a", Value: []byte("2")},
			Result{Found: true, Value: []byte("1"), Err: "cas: value differs"}, map[string]string{"a": "1"}},
		{"cas missing", nil, cas("a", "1", "2"), Result{Err: "cas: key not found"}, map[string]string{}},
		{"cas expect missing", nil, casMissing("a", "1"), ok, map[string]string{"a": "1"}},
		{"cas expect missing, empty expect", nil, Command{Op: OpCAS, Key: "a", Expect: []byte{}, ExpectMissing: true, Value: []byte("1")},
			ok, map[string]string{"a": "1"}},
		{"cas expect missing exists", []Command{set("a", "1")}, casMissing("a", "2"),
			Result{Found: true, Value: []byte("1"), Err: "cas: key exists"}, map[string]string{"a": "1"}},
		{"cas expect missing exists empty", []Command{set("a", "")}, casMissing("a", "2"),
			Result{Found: true, Value: []byte{}, Err: "cas: key exists"}, map[string]string{"a": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			for i, c := range tt.setup {
				if r := s.Apply(uint64(i+1), c); !r.OK {
					t.Fatalf("setup %d: %s", i, resultString(r))
				}
			}
			index := uint64(len(tt.setup) + 1)
			have := s.Apply(index, tt.cmd)
			if resultString(have) != resultString(tt.want) {
				t.Errorf("result: have %s, want %s", resultString(have), resultString(tt.want))
			}
			if s.Applied() != index {
				t.Errorf("Applied: have %d, want %d", s.Applied(), index)
			}
			if s.Len() != len(tt.after) {
				t.Errorf("Len: have %d, want %d", s.Len(), len(tt.after))
			}
			for k, want := range tt.after {
				v, ok := s.Get(k)
				if !ok || string(v) != want || v == nil {
					t.Errorf("Get(%q): have %q, %v, want %q, true", k, v, ok, want)
				}
			}
			checkInvariants(t, s)
		})
	}
}

func TestApplyInvalid(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"empty key", Command{Op: OpSet, Value: []byte("v")}, "kv: empty key"},
		{"key too long", Command{Op: OpGet, Key: strings.Repeat("k", 300)}, "kv: key too long (300 > 256 bytes)"},
		{"bad utf-8", Command{Op: OpDel, Key: "a\xff"}, "kv: key is not valid utf-8"},
		{"value too long", Command{Op: OpSet, Key: "a", Value: make([]byte, MaxValueBytes+1)}, "kv: value too long (65537 > 65536 bytes)"},
		{"unknown op", Command{Op: 9, Key: "a"}, "kv: unknown op 9"},
		{"zero op", Command{Key: "a"}, "kv: unknown op 0"},
		{"conflict", Command{Op: OpCAS, Key: "a", Expect: []byte("x"), ExpectMissing: true}, "kv: cas has both expect and expect-missing"},
		{"session", Command{ClientID: 7, Seq: 2, Op: OpSet}, "kv: empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			s.Apply(1, set("a", "1"))
			s.Apply(2, Command{ClientID: 7, Seq: 1, Op: OpSet, Key: "b"})
			before, digest := s.Snapshot(), s.Digest()

			have := s.Apply(3, tt.cmd)
			if resultString(have) != resultString(Result{Err: tt.want}) {
				t.Errorf("have %s, want Err %q", resultString(have), tt.want)
			}
			if s.Applied() != 3 {
				t.Errorf("Applied: have %d, want 3 (an invalid command consumes its index)", s.Applied())
			}
			// Apart from the applied index, nothing changed.
			s.applied = 2
			if !bytes.Equal(s.Snapshot(), before) || s.Digest() != digest {
				t.Errorf("state changed")
			}
			checkInvariants(t, s)
		})
	}
}

func TestApplyIndex(t *testing.T) {
	s := New()
	if r := s.Apply(0, set("a", "1")); r.Err != "kv: index 0 not above applied index 0" {
		t.Errorf("index 0: have %s", resultString(r))
	}
	if s.Len() != 0 || s.Applied() != 0 {
		t.Fatalf("index 0 changed the store")
	}
	if r := s.Apply(5, set("a", "1")); !r.OK {
		t.Fatalf("index 5: %s", resultString(r))
	}
	digest := s.Digest()
	for _, index := range []uint64{5, 4, 1} {
		r := s.Apply(index, set("a", "2"))
		want := "kv: index " + strconv.FormatUint(index, 10) + " not above applied index 5"
		if r.OK || r.Err != want {
			t.Errorf("index %d: have %s, want Err %q", index, resultString(r), want)
		}
	}
	if v, _ := s.Get("a"); string(v) != "1" || s.Applied() != 5 || s.Digest() != digest {
		t.Errorf("replayed indexes changed the store: a=%q applied=%d", v, s.Applied())
	}
	if r := s.Apply(9, set("a", "3")); !r.OK || s.Applied() != 9 {
		t.Errorf("gap in indexes refused: %s", resultString(r))
	}
}

func TestValuesDoNotAlias(t *testing.T) {
	s := New()
	value := []byte("one")
	s.Apply(1, Command{Op: OpSet, Key: "a", Value: value})
	value[0] = 'X'
	got, _ := s.Get("a")
	got[0] = 'Y'
	r := s.Apply(2, get("a"))
	r.Value[0] = 'Z'
	failed := s.Apply(3, cas("a", "nope", "two"))
	failed.Value[0] = 'W'
	if v, _ := s.Get("a"); string(v) != "one" {
		t.Errorf("store value changed through a slice: %q", v)
	}

	// A remembered result is not changed through a returned one either.
	s.Apply(4, Command{ClientID: 1, Seq: 1, Op: OpGet, Key: "a"}).Value[0] = 'V'
	if r := s.Apply(5, Command{ClientID: 1, Seq: 1, Op: OpGet, Key: "a"}); string(r.Value) != "one" {
		t.Errorf("remembered result changed through a slice: %q", r.Value)
	}
}

func TestGet(t *testing.T) {
	s := New()
	s.Apply(1, set("empty", ""))
	s.Apply(2, set("a", "1"))
	if v, ok := s.Get("missing"); v != nil || ok {
		t.Errorf("Get(missing): have %q, %v", v, ok)
	}
	if v, ok := s.Get("empty"); v == nil || len(v) != 0 || !ok {
		t.Errorf("Get(empty): have %#v, %v, want non-nil empty, true", v, ok)
	}
	if v, ok := s.Get("a"); string(v) != "1" || !ok {
		t.Errorf("Get(a): have %q, %v", v, ok)
	}
}

func TestDigest(t *testing.T) {
	a, b := New(), New()
	if a.Digest() != b.Digest() {
		t.Fatalf("empty stores differ")
	}
	a.Apply(1, set("k", "v"))
	b.Apply(1, set("k", "w"))
	if a.Digest() == b.Digest() {
		t.Errorf("different values, same digest")
	}
	b.Apply(2, set("k", "v"))
	if a.Digest() == b.Digest() {
		t.Errorf("different applied index, same digest")
	}
	a.Apply(2, get("k"))
	if a.Digest() != b.Digest() {
		t.Errorf("same state, different digests")
	}
	// Adding and removing a key leaves no trace.
	a.Apply(3, set("x", "1"))
	a.Apply(4, del("x"))
	b.Apply(4, get("x"))
	if a.Digest() != b.Digest() {
		t.Errorf("delete left a trace in the digest")
	}
	// Key and value boundaries are part of the hash.
	c, d := New(), New()
	c.Apply(1, set("ab", "c"))
	d.Apply(1, set("a", "bc"))
	if c.Digest() == d.Digest() {
		t.Errorf("(ab, c) and (a, bc) collide")
	}
}

// Generators for property tests: a few keys, values and clients, so that
// commands collide often.

var (
	testKeys   = []string{"a", "b", "c", "key/with/slashes", "ü"}
	testValues = []string{"", "1", "2", "hello"}
)

func genBytes(t *rapid.T, label string) []byte {
	i := rapid.IntRange(-1, len(testValues)-1).Draw(t, label)
	if i < 0 {
		return nil
	}
	return []byte(testValues[i])
}

// genCommand draws any command, sometimes invalid, from clients 0 to
// clients-1 with small sequence numbers, so that retries and stale commands
// are common.
func genCommand(t *rapid.T, clients uint64) Command {
	c := Command{
		Op:     Op(rapid.IntRange(1, 4).Draw(t, "op")),
		Key:    rapid.SampledFrom(testKeys).Draw(t, "key"),
		Value:  genBytes(t, "value"),
		Expect: genBytes(t, "expect"),
	}
	if c.Op == OpCAS {
		c.ExpectMissing = rapid.Bool().Draw(t, "expectMissing")
		if c.ExpectMissing {
			c.Expect = nil
		}
	}
	if clients > 0 {
		c.ClientID = rapid.Uint64Range(0, clients-1).Draw(t, "client")
		c.Seq = rapid.Uint64Range(0, 6).Draw(t, "seq")
	}
	switch rapid.IntRange(0, 30).Draw(t, "invalid") {
	case 0:
		c.Key = ""
	case 1:
		c.Op = Op(rapid.IntRange(5, 255).Draw(t, "badOp"))
	case 2:
		c.Op, c.ExpectMissing, c.Expect = OpCAS, true, []byte("x")
	}
	return c
}

// model is a trivial key-value store with sessions, to check Store against.
// It never evicts: tests give it fewer clients than MaxSessions.
type model struct {
	data     map[string]string
	sessions map[uint64]modelSession
}

type modelSession struct {
	seq    uint64
	cmd    string // what the command does: see effect
	result string
}

// effect describes what a valid command does: its op and the fields the op
// uses.
func effect(c Command) string {
	switch c.Op {
	case OpSet:
		return fmt.Sprintf("SET %q %q", c.Key, c.Value)
	case OpCAS:
		return fmt.Sprintf("CAS %q %q %q %v", c.Key, c.Value, c.Expect, c.ExpectMissing)
	}
	return c.Op.String() + " " + strconv.Quote(c.Key)
}

func (m *model) apply(c Command) string {
	if err := Validate(c); err != nil {
		return resultString(Result{Err: err.Error()})
	}
	if c.ClientID != 0 {
		if sess, ok := m.sessions[c.ClientID]; ok {
			if c.Seq == sess.seq && sess.cmd != effect(c) {
				return resultString(Result{Err: "kv: session: sequence reused with a different command (client " +
					strconv.FormatUint(c.ClientID, 10) + ", sequence " + strconv.FormatUint(c.Seq, 10) + ")"})
			}
			if c.Seq == sess.seq {
				return sess.result
			}
			if c.Seq < sess.seq {
				return resultString(Result{Err: "kv: stale sequence number " + strconv.FormatUint(c.Seq, 10) +
					" (session at " + strconv.FormatUint(sess.seq, 10) + ")"})
			}
		}
	}
	old, found := m.data[c.Key]
	var r Result
	switch c.Op {
	case OpSet:
		m.data[c.Key] = string(c.Value)
		r = Result{OK: true, Found: found}
	case OpGet:
		r = Result{OK: true, Found: found}
		if found {
			r.Value = []byte(old)
		}
	case OpDel:
		delete(m.data, c.Key)
		r = Result{OK: true, Found: found}
	case OpCAS:
		if c.ExpectMissing && !found || !c.ExpectMissing && found && old == string(c.Expect) {
			m.data[c.Key] = string(c.Value)
			r = Result{OK: true, Found: found}
		} else {
			r = Result{Found: found, Err: "cas: key not found"}
			if found {
				r.Value = []byte(old)
				r.Err = "cas: value differs"
				if c.ExpectMissing {
					r.Err = "cas: key exists"
				}
			}
		}
	}
	if c.ClientID != 0 {
		m.sessions[c.ClientID] = modelSession{c.Seq, effect(c), resultString(r)}
	}
	return resultString(r)
}

func TestStoreAgreesWithModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := New()
		m := &model{data: map[string]string{}, sessions: map[uint64]modelSession{}}
		clients := rapid.Uint64Range(0, 4).Draw(t, "clients")
		index := uint64(0)
		for i := range rapid.IntRange(1, 100).Draw(t, "n") {
			index += rapid.Uint64Range(1, 3).Draw(t, "gap")
			if rapid.IntRange(0, 9).Draw(t, "read") == 0 {
				k := rapid.SampledFrom(testKeys).Draw(t, "readKey")
				v, ok := s.Get(k)
				mv, mok := m.data[k]
				if ok != mok || string(v) != mv {
					t.Fatalf("step %d: Get(%q): have %q, %v, model %q, %v", i, k, v, ok, mv, mok)
				}
				continue
			}
			c := genCommand(t, clients)
			have, want := resultString(s.Apply(index, c)), m.apply(c)
			if have != want {
				t.Fatalf("step %d: %s %q: have %s, model %s", i, c.Op, c.Key, have, want)
			}
			if s.Len() != len(m.data) || s.Applied() != index {
				t.Fatalf("step %d: Len %d, model %d; Applied %d, want %d", i, s.Len(), len(m.data), s.Applied(), index)
			}
		}
		checkInvariants(t, s)
	})
}

func BenchmarkApply(b *testing.B) {
	s := New()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "key/" + strconv.Itoa(i)
	}
	value := make([]byte, 100)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Apply(uint64(i+1), Command{ClientID: uint64(i%100 + 1), Seq: uint64(i), Op: OpSet, Key: keys[i%len(keys)], Value: value})
	}
}
