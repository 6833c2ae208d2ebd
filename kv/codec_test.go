package kv_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/wire"
	"github.com/wraft/wraft/wire/wiretest"
	"pgregory.net/rapid"
)

// codecCommandGen generates commands in the form decoding yields: a known
// op, sizes within the limits, empty slices nil.
func codecCommandGen() *rapid.Generator[kv.Command] {
	return rapid.Custom(func(t *rapid.T) kv.Command {
		return kv.Command{
			ClientID:      rapid.Uint64().Draw(t, "clientID"),
			Seq:           rapid.Uint64().Draw(t, "seq"),
			Op:            rapid.SampledFrom([]kv.Op{kv.OpSet, kv.OpGet, kv.OpDel, kv.OpCAS}).Draw(t, "op"),
			Key:           wiretest.String(kv.MaxKeyBytes).Draw(t, "key"),
			Value:         wiretest.Bytes(300).Draw(t, "value"),
			Expect:        wiretest.Bytes(300).Draw(t, "expect"),
			ExpectMissing: rapid.Bool().Draw(t, "expectMissing"),
		}
	})
}

func TestCommandRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := codecCommandGen().Draw(t, "c")
		b := kv.AppendCommand(nil, c)
		have, err := kv.DecodeCommand(b)
		if err != nil {
			t.Fatalf("DecodeCommand(% x): %v", b, err)
		}
		if !reflect.DeepEqual(have, c) {
			t.Fatalf("have %+v, want %+v", have, c)
		}
	})
}

func TestResultRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		res := kv.Result{
			OK:    rapid.Bool().Draw(t, "ok"),
			Found: rapid.Bool().Draw(t, "found"),
			Value: wiretest.Bytes(300).Draw(t, "value"),
			Err:   wiretest.String(40).Draw(t, "err"),
		}
		b := kv.AppendResult(nil, res)
		have, err := kv.DecodeResult(b)
		if err != nil {
			t.Fatalf("DecodeResult(% x): %v", b, err)
		}
		if !reflect.DeepEqual(have, res) {
			t.Fatalf("have %+v, want %+v", have, res)
		}
	})
}

func TestAppendCommandBytes(t *testing.T) {
	tests := []struct {
		name string
		c    kv.Command
		want []byte
	}{
		{"set", kv.Command{ClientID: 7, Seq: 1, Op: kv.OpSet, Key: "k", Value: []byte("v")},
			[]byte{1, 1, 7, 1, 1, 'k', 1, 'v', 0, 0}},
		{"get without session", kv.Command{Op: kv.OpGet, Key: "key"},
			[]byte{1, 2, 0, 0, 3, 'k', 'e', 'y', 0, 0, 0}},
		{"cas missing", kv.Command{ClientID: 300, Seq: 2, Op: kv.OpCAS, Key: "a", Value: []byte("1"), ExpectMissing: true},
			[]byte{1, 4, 0xac, 0x02, 2, 1, 'a', 1, '1', 0, 1}},
	}
	for _, tt := range tests {
		if have := kv.AppendCommand(nil, tt.c); !bytes.Equal(have, tt.want) {
			t.Errorf("%s: have % x, want % x", tt.name, have, tt.want)
		}
	}
}

func TestDecodeCommandErrors(t *testing.T) {
	valid := kv.AppendCommand(nil, kv.Command{Op: kv.OpSet, Key: "k", Value: []byte("v")})
	with := func(i int, c byte) []byte {
		b := bytes.Clone(valid)
		b[i] = c
		return b
	}
	long := func(key string, value, expect []byte) []byte {
		return kv.AppendCommand(nil, kv.Command{Op: kv.OpCAS, Key: key, Value: value, Expect: expect})
	}
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, wire.ErrTruncated, "kv: command truncated at byte 0"},
		{"version", with(0, 2), wire.ErrVersion, "kv: command has version 2 (want 1) at byte 0"},
		{"op 0", with(1, 0), wire.ErrInvalid, "kv: command has unknown op 0 at byte 1"},
		{"op 5", with(1, 5), wire.ErrInvalid, "kv: command has unknown op 5 at byte 1"},
		{"expect missing 2", with(len(valid)-1, 2), wire.ErrInvalid, "kv: command has invalid bool 2 at byte 9"},
		{"truncated", valid[:len(valid)-1], wire.ErrTruncated, "kv: command truncated at byte 9"},
		{"trailing", append(bytes.Clone(valid), 0), wire.ErrInvalid, "kv: command has 1 trailing byte at byte 10"},
		{"key too long", long(strings.Repeat("k", kv.MaxKeyBytes+1), nil, nil),
			wire.ErrTooLarge, "kv: command key too large (257 > 256) at byte 4"},
		{"value too long", long("k", make([]byte, kv.MaxValueBytes+1), nil),
			wire.ErrTooLarge, "kv: command value too large (65537 > 65536) at byte 6"},
		{"expect too long", long("k", nil, make([]byte, kv.MaxValueBytes+1)),
			wire.ErrTooLarge, "kv: command expect too large (65537 > 65536) at byte 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := kv.DecodeCommand(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("have %v, want errors.Is(err, %v)", err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("message: have %q, want %q", err.Error(), tt.msg)
			}
			if !reflect.DeepEqual(c, kv.Command{}) {
				t.Errorf("command on error: have %+v, want zero", c)
			}
		})
	}
}

func TestDecodeCommandAtLimits(t *testing.T) {
	c := kv.Command{Op: kv.OpCAS, Key: strings.Repeat("k", kv.MaxKeyBytes),
		Value: make([]byte, kv.MaxValueBytes), Expect: make([]byte, kv.MaxValueBytes)}
	have, err := kv.DecodeCommand(kv.AppendCommand(nil, c))
	if err != nil || !reflect.DeepEqual(have, c) {
		t.Errorf("have %v, want a command at the limits to decode", err)
	}
}

func TestDecodeResultErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"version", []byte{0, 0, 0, 0, 0}, wire.ErrVersion, "kv: result has version 0 (want 1) at byte 0"},
		{"ok 2", []byte{1, 2, 0, 0, 0}, wire.ErrInvalid, "kv: result has invalid bool 2 at byte 1"},
		{"truncated", []byte{1, 1, 1, 3, 'a'}, wire.ErrTruncated, "kv: result value truncated at byte 3"},
		{"value too long", append([]byte{1, 1, 1}, wire.AppendUvarint(nil, kv.MaxValueBytes+1)...),
			wire.ErrTooLarge, "kv: result value too large (65537 > 65536) at byte 3"},
	}
	for _, tt := range tests {
		_, err := kv.DecodeResult(tt.in)
		if !errors.Is(err, tt.want) || err.Error() != tt.msg {
			t.Errorf("%s: have %v, want %q", tt.name, err, tt.msg)
		}
	}
}

// FuzzDecodeCommand checks that DecodeCommand never panics and that a
// command it accepts re-encodes to the same bytes and the same value.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range []kv.Command{
		{Op: kv.OpSet, Key: "k", Value: []byte("v")},
		{ClientID: 1 << 60, Seq: 99, Op: kv.OpGet, Key: "user:1"},
		{ClientID: 3, Seq: 4, Op: kv.OpDel, Key: "gone"},
		{Op: kv.OpCAS, Key: "x", Value: []byte("new"), Expect: []byte("old")},
		{Op: kv.OpCAS, Key: "y", Value: []byte("first"), ExpectMissing: true},
	} {
		f.Add(kv.AppendCommand(nil, c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := kv.DecodeCommand(b)
		if err != nil {
			return
		}
		again := kv.AppendCommand(nil, c)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded: have % x, want % x", again, b)
		}
		c2, err := kv.DecodeCommand(again)
		if err != nil || !reflect.DeepEqual(c2, c) {
			t.Fatalf("decoded again: have %+v, %v, want %+v, nil", c2, err, c)
		}
	})
}

// FuzzDecodeResult checks DecodeResult as FuzzDecodeCommand checks
// DecodeCommand.
func FuzzDecodeResult(f *testing.F) {
	for _, r := range []kv.Result{
		{OK: true},
		{OK: true, Found: true, Value: []byte("value")},
		{Found: true, Value: []byte("other"), Err: "cas: value differs"},
	} {
		f.Add(kv.AppendResult(nil, r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := kv.DecodeResult(b)
		if err != nil {
			return
		}
		again := kv.AppendResult(nil, res)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded: have % x, want % x", again, b)
		}
		res2, err := kv.DecodeResult(again)
		if err != nil || !reflect.DeepEqual(res2, res) {
			t.Fatalf("decoded again: have %+v, %v, want %+v, nil", res2, err, res)
		}
	})
}

// FuzzReadCommandUnchecked checks that ReadCommandUnchecked never panics,
// that a command it accepts re-encodes to the same bytes, and that it
// accepts everything DecodeCommand accepts, as the same command.
func FuzzReadCommandUnchecked(f *testing.F) {
	for _, c := range []kv.Command{
		{Op: kv.OpSet, Key: "k", Value: []byte("v")},
		{ClientID: 3, Seq: 4, Op: kv.OpDel, Key: "gone"},
		{Op: kv.OpCAS, Key: "x", Value: []byte("new"), Expect: []byte("old")},
		{ClientID: 1, Seq: 1, Op: kv.OpGet, Key: strings.Repeat("k", kv.MaxKeyBytes+1)},
		{ClientID: 1, Seq: 1, Op: 9, Key: "k"},
	} {
		f.Add(kv.AppendCommand(nil, c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := wire.NewReader(b, "kv: command")
		c := kv.ReadCommandUnchecked(r)
		if err := r.Done(); err != nil {
			if _, err2 := kv.DecodeCommand(b); err2 == nil {
				t.Fatalf("DecodeCommand accepts what ReadCommandUnchecked refuses (%v)", err)
			}
			return
		}
		if again := kv.AppendCommand(nil, c); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded: have % x, want % x", again, b)
		}
		if checked, err := kv.DecodeCommand(b); err == nil && !reflect.DeepEqual(checked, c) {
			t.Fatalf("DecodeCommand gives %+v, ReadCommandUnchecked %+v", checked, c)
		}
	})
}
