package kv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// sampleStore returns a store with keys, an empty value, and sessions that
// remember a value, a missing value and a failed CAS.
func sampleStore() *Store {
	s := New()
	s.Apply(1, set("b", "2"))
	s.Apply(2, set("a", "1"))
	s.Apply(3, set("empty", ""))
	s.Apply(5, withSession(300, 1, get("a")))
	s.Apply(6, withSession(2, 7, get("missing")))
	s.Apply(7, withSession(1, 1, cas("b", "x", "y")))
	s.Apply(8, withSession(2, 8, del("gone")))
	return s
}

// withCRC returns body followed by its checksum.
func withCRC(body []byte) []byte {
	sum := crc32.ChecksumIEEE(body)
	return append(slices.Clone(body), byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum))
}

func TestSnapshotGolden(t *testing.T) {
	s := New()
	s.Apply(1, set("k", "v"))
	s.Apply(2, withSession(5, 1, get("k")))
	want := "02" + // version
		"02" + // applied
		"01" + "016b" + "0176" + // 1 key: "k" = "v"
		"01" + "05" + "01" + "02" + // session 5, seq 1, used at 2,
		"DIGEST" + // the digest of its GET "k",
		"07" + "0176" + "00" + // OK|Found|value "v", no err
		"CRC" // crc
	have := hex.EncodeToString(s.Snapshot())
	want = strings.Replace(want, "DIGEST", fmt.Sprintf("%016x", commandDigest(get("k"))), 1)
	body, _ := hex.DecodeString(strings.TrimSuffix(want, "CRC"))
	want = hex.EncodeToString(withCRC(body))
	if have != want {
		t.Errorf("snapshot format changed:\nhave %s\nwant %s", have, want)
	}
	if d := commandDigest(get("k")); d != 0x93dafce7790d95df {
		t.Errorf("digest of GET \"k\": have %#x; the digest must not change between versions", d)
	}
}

// A version 1 snapshot (sessions without a command digest) still restores;
// its sessions take any command with their last sequence number as a
// retry, as version 1 did; a new command gets a digest; the store
// snapshots again in version 2.
func TestRestoreVersion1(t *testing.T) {
	v1, _ := hex.DecodeString("01" + "02" + "01" + "016b" + "0176" + "01" + "05" + "01" + "02" + "07" + "0176" + "00" + "1c856a57")
	s := New()
	if err := s.Restore(v1); err != nil {
		t.Fatalf("restore version 1: %v", err)
	}
	if v, ok := s.Get("k"); !ok || string(v) != "v" || s.Applied() != 2 {
		t.Fatalf("restored: k=%q %v, applied %d", v, ok, s.Applied())
	}
	checkInvariants(t, s)
	if r := s.Apply(3, withSession(5, 1, set("k", "other"))); !r.OK || !r.Found || string(r.Value) != "v" {
		t.Errorf("seq 1 again: have %s, want the remembered GET result", resultString(r))
	}
	if v, _ := s.Get("k"); string(v) != "v" {
		t.Errorf("k=%q after a retry, want it unchanged", v)
	}
	s.Apply(4, withSession(5, 2, set("k", "w")))
	if r := s.Apply(5, withSession(5, 2, set("k", "x"))); !r.SessionReused() {
		t.Errorf("seq 2 reused: have %s, want the session error", resultString(r))
	}
	again := New()
	if err := again.Restore(s.Snapshot()); err != nil || again.Digest() != s.Digest() || s.Snapshot()[0] != 2 {
		t.Errorf("version 2 round trip: %v, digest %x want %x, version %d", err, again.Digest(), s.Digest(), s.Snapshot()[0])
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, s := range []*Store{New(), sampleStore()} {
		snap := s.Snapshot()
		r := New()
		r.Apply(1, set("old", "state")) // replaced whole by Restore
		if err := r.Restore(snap); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		checkInvariants(t, r)
		if !bytes.Equal(r.Snapshot(), snap) {
			t.Errorf("Snapshot after Restore differs")
		}
		if r.Digest() != s.Digest() || r.Applied() != s.Applied() || r.Len() != s.Len() {
			t.Errorf("restored store: digest %x applied %d len %d, want %x %d %d",
				r.Digest(), r.Applied(), r.Len(), s.Digest(), s.Applied(), s.Len())
		}
		if !slices.Equal(sessionOrder(r), sessionOrder(s)) {
			t.Errorf("session order: have %v, want %v", sessionOrder(r), sessionOrder(s))
		}
	}

	// Remembered results survive, nil and empty values alike.
	r := New()
	if err := r.Restore(sampleStore().Snapshot()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cmd  Command
		want Result
	}{
		{withSession(300, 1, get("a")), Result{OK: true, Found: true, Value: []byte("1")}},
		{withSession(1, 1, cas("b", "x", "y")), Result{Found: true, Value: []byte("2"), Err: "cas: value differs"}},
		{withSession(2, 8, del("gone")), Result{OK: true}},
	} {
		if have := r.Apply(r.Applied()+1, tt.cmd); resultString(have) != resultString(tt.want) {
			t.Errorf("retry of %d: have %s, want %s", tt.cmd.ClientID, resultString(have), resultString(tt.want))
		}
	}
	if v, ok := r.Get("empty"); v == nil || len(v) != 0 || !ok {
		t.Errorf("empty value restored as %#v, %v", v, ok)
	}
}

func TestRestoreErrors(t *testing.T) {
	good := sampleStore().Snapshot()
	body := good[:len(good)-4]
	tests := []struct {
		name    string
		b       []byte
		wantErr error
		msg     string // a part of the message
	}{
		{"empty", nil, ErrCorruptSnapshot, "too short"},
		{"truncated", good[:len(good)-1], ErrCorruptSnapshot, "checksum mismatch"},
		{"bit flip", func() []byte { b := slices.Clone(good); b[5] ^= 1; return b }(), ErrCorruptSnapshot, "checksum mismatch"},
		{"version", withCRC(append([]byte{3}, body[1:]...)), ErrSnapshotVersion, "kv: unsupported snapshot version 3"},
		{"digest truncated", withCRC([]byte{2, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}), ErrCorruptSnapshot, "session count 1 exceeds the data"},
		{"version 0", withCRC([]byte{0}), ErrSnapshotVersion, "version 0"},
		{"no applied", withCRC([]byte{1}), ErrCorruptSnapshot, "truncated at applied index"},
		{"overlong varint", withCRC([]byte{1, 0x81, 0x00, 0, 0}), ErrCorruptSnapshot, "overlong varint"},
		{"varint overflow", withCRC([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0}), ErrCorruptSnapshot, "overflow"},
		{"huge key count", withCRC([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}), ErrCorruptSnapshot, "key count"},
		{"empty key", withCRC([]byte{1, 1, 1, 0, 0, 0}), ErrCorruptSnapshot, "invalid key"},
		{"bad utf-8 key", withCRC([]byte{1, 1, 1, 1, 0xff, 0, 0}), ErrCorruptSnapshot, "invalid key"},
		{"keys out of order", withCRC([]byte{1, 1, 2, 1, 'b', 0, 1, 'a', 0, 0}), ErrCorruptSnapshot, "out of order"},
		{"duplicate key", withCRC([]byte{1, 1, 2, 1, 'a', 0, 1, 'a', 0, 0}), ErrCorruptSnapshot, "out of order"},
		{"key too long", withCRC(append([]byte{1, 1, 1, 0x81, 0x02}, strings.Repeat("k", 257)+"\x00\x00"...)), ErrCorruptSnapshot, "key too long (257 > 256 bytes)"},
		{"value truncated", withCRC([]byte{1, 1, 1, 1, 'a', 5, 'x', 0}), ErrCorruptSnapshot, "truncated in value"},
		{"no sessions count", withCRC([]byte{1, 1, 1, 1, 'a', 0}), ErrCorruptSnapshot, "truncated at session count"},
		{"client 0", withCRC([]byte{1, 1, 0, 1, 0, 1, 1, 0, 0}), ErrCorruptSnapshot, "out of order at 0"},
		{"clients out of order", withCRC([]byte{1, 2, 0, 2, 2, 1, 1, 0, 0, 1, 1, 2, 0, 0}), ErrCorruptSnapshot, "out of order at 1"},
		{"used after applied", withCRC([]byte{1, 1, 0, 1, 1, 1, 2, 0, 0}), ErrCorruptSnapshot, "last used at index 2 (applied 1)"},
		{"never used", withCRC([]byte{1, 1, 0, 1, 1, 1, 0, 0, 0}), ErrCorruptSnapshot, "last used at index 0"},
		{"same use", withCRC([]byte{1, 1, 0, 2, 1, 1, 1, 0, 0, 2, 1, 1, 0, 0}), ErrCorruptSnapshot, "two sessions last used at index 1"},
		{"unknown flags", withCRC([]byte{1, 1, 0, 1, 1, 1, 1, 8, 0}), ErrCorruptSnapshot, "unknown result flags 8"},
		{"trailing bytes", withCRC(append(slices.Clone(body), 0)), ErrCorruptSnapshot, "1 bytes after the sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleStore()
			before := s.Snapshot()
			err := s.Restore(tt.b)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("have %v, want %v containing %q", err, tt.wantErr, tt.msg)
			}
			if !bytes.Equal(s.Snapshot(), before) {
				t.Errorf("failed Restore changed the store")
			}
		})
	}
}

func TestRestoreTooManySessions(t *testing.T) {
	s := newStore(4)
	for c := uint64(1); c <= 4; c++ {
		s.Apply(c, withSession(c, 1, get("a")))
	}
	r := newStore(3)
	if err := r.Restore(s.Snapshot()); !errors.Is(err, ErrCorruptSnapshot) || !strings.Contains(err.Error(), "4 sessions (limit 3)") {
		t.Errorf("have %v", err)
	}
}

// applyAll applies cmds at increasing indexes and returns the results.
func applyAll(s *Store, first uint64, cmds []Command) []string {
	var out []string
	for i, c := range cmds {
		out = append(out, resultString(s.Apply(first+uint64(i), c)))
	}
	return out
}

func TestSnapshotDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		max := rapid.IntRange(1, 5).Draw(t, "maxSessions")
		cmds := rapid.SliceOf(rapid.Custom(func(t *rapid.T) Command { return genCommand(t, 8) })).Draw(t, "cmds")
		a, b := newStore(max), newStore(max)
		ra, rb := applyAll(a, 1, cmds), applyAll(b, 1, cmds)
		if !slices.Equal(ra, rb) {
			t.Fatalf("results differ")
		}
		if !bytes.Equal(a.Snapshot(), b.Snapshot()) || a.Digest() != b.Digest() {
			t.Fatalf("same commands, different snapshots or digests")
		}
		checkInvariants(t, a)
	})
}

func TestSnapshotRestoreProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		max := rapid.IntRange(1, 5).Draw(t, "maxSessions")
		gen := rapid.SliceOf(rapid.Custom(func(t *rapid.T) Command { return genCommand(t, 8) }))
		before, after := gen.Draw(t, "before"), gen.Draw(t, "after")

		a := newStore(max)
		applyAll(a, 1, before)
		snap := a.Snapshot()
		b := newStore(max)
		if err := b.Restore(snap); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		checkInvariants(t, b)
		if !bytes.Equal(b.Snapshot(), snap) || b.Digest() != a.Digest() {
			t.Fatalf("Snapshot, Restore, Snapshot differs")
		}
		// The restored store behaves as the original, evictions included.
		next := uint64(len(before)) + 1
		if !slices.Equal(applyAll(a, next, after), applyAll(b, next, after)) {
			t.Fatalf("restored store answers differently")
		}
		if !bytes.Equal(a.Snapshot(), b.Snapshot()) || a.Digest() != b.Digest() {
			t.Fatalf("restored store diverged")
		}
	})
}

func FuzzRestore(f *testing.F) {
	f.Add(New().Snapshot())
	f.Add(sampleStore().Snapshot())
	big := newStore(3)
	for i, c := range []Command{
		set("x", strings.Repeat("v", 200)), withSession(1, 1, get("x")), withSession(2, 9, casMissing("x", "")),
		withSession(3, 1, del("x")), withSession(4, 1, set(strings.Repeat("k", 256), "")),
	} {
		big.Apply(uint64(1000*i+1), c)
	}
	f.Add(big.Snapshot())
	f.Add([]byte{})
	f.Add(withCRC([]byte{1, 0x81, 0x00, 0, 0}))
	// Version 1: a session without a digest.
	f.Add(withCRC([]byte{1, 2, 1, 1, 'k', 1, 'v', 1, 5, 1, 2, 7, 1, 'v', 0}))
	check := func(t *testing.T, b []byte) {
		s := sampleStore()
		before := s.Snapshot()
		if err := s.Restore(b); err != nil {
			if !errors.Is(err, ErrCorruptSnapshot) && !errors.Is(err, ErrSnapshotVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			if !bytes.Equal(s.Snapshot(), before) {
				t.Fatalf("failed Restore changed the store")
			}
			return
		}
		checkInvariants(t, s)
		if b[0] == 1 {
			// A version 1 snapshot re-encodes in version 2, which must
			// restore to the same state.
			again := New()
			if err := again.Restore(s.Snapshot()); err != nil || again.Digest() != s.Digest() {
				t.Fatalf("version 1 snapshot re-encoded: %v, digest %x, want %x", err, again.Digest(), s.Digest())
			}
			return
		}
		if !bytes.Equal(s.Snapshot(), b) {
			t.Fatalf("Restore accepted a snapshot that does not re-encode to itself")
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
		// Mutated bytes almost never keep a valid checksum: also try them
		// with the checksum fixed, to reach the decoder behind it.
		if len(b) >= 4 {
			check(t, withCRC(b[:len(b)-4]))
		}
	})
}

func BenchmarkSnapshot(b *testing.B) {
	s := New()
	value := make([]byte, 100)
	for i := range 10000 {
		s.Apply(uint64(i+1), Command{ClientID: uint64(i%1000 + 1), Seq: uint64(i), Op: OpSet, Key: "key/" + strings.Repeat("x", i%10) + string(rune('a'+i%26)) + "/" + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)), Value: value})
	}
	b.Run("Snapshot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Snapshot()
		}
	})
	snap := s.Snapshot()
	b.Run("Restore", func(b *testing.B) {
		b.ReportAllocs()
		r := New()
		for b.Loop() {
			if err := r.Restore(snap); err != nil {
				b.Fatal(err)
			}
		}
	})
}
