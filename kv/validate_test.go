package kv

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := func(n int) []byte { return make([]byte, n) }
	tests := []struct {
		name    string
		cmd     Command
		wantErr error // nil for a valid command
		msg     string
	}{
		{"set", set("a", "1"), nil, ""},
		{"get", get("a"), nil, ""},
		{"del", del("a"), nil, ""},
		{"cas", cas("a", "1", "2"), nil, ""},
		{"cas expect missing", casMissing("a", "1"), nil, ""},
		{"cas expect missing, empty expect", Command{Op: OpCAS, Key: "a", Expect: []byte{}, ExpectMissing: true}, nil, ""},
		{"unicode key", get("ключ/🔑"), nil, ""},
		{"longest key", get(strings.Repeat("k", MaxKeyBytes)), nil, ""},
		{"longest value", Command{Op: OpSet, Key: "a", Value: long(MaxValueBytes)}, nil, ""},
		{"longest expect", Command{Op: OpCAS, Key: "a", Expect: long(MaxValueBytes)}, nil, ""},
		{"unused fields", Command{Op: OpGet, Key: "a", Value: []byte("v"), Expect: []byte("e"), ExpectMissing: true}, nil, ""},
		{"any session", Command{ClientID: 1 << 63, Seq: 0, Op: OpGet, Key: "a"}, nil, ""},

		{"empty key", Command{Op: OpSet}, ErrEmptyKey, "kv: empty key"},
		{"key too long", get(strings.Repeat("k", 300)), ErrKeyTooLong, "kv: key too long (300 > 256 bytes)"},
		{"key not utf-8", get("\xc3\x28"), ErrInvalidKey, "kv: key is not valid utf-8"},
		{"value too long", Command{Op: OpSet, Key: "a", Value: long(MaxValueBytes + 1)}, ErrValueTooLong, "kv: value too long (65537 > 65536 bytes)"},
		{"value too long, unused", Command{Op: OpGet, Key: "a", Value: long(MaxValueBytes + 1)}, ErrValueTooLong, "kv: value too long (65537 > 65536 bytes)"},
		{"expect too long", Command{Op: OpCAS, Key: "a", Expect: long(70000)}, ErrExpectTooLong, "kv: cas expectation too long (70000 > 65536 bytes)"},
		{"expect conflict", Command{Op: OpCAS, Key: "a", Expect: []byte("x"), ExpectMissing: true}, ErrExpectConflict, "kv: cas has both expect and expect-missing"},
		{"op zero", Command{Key: "a"}, ErrUnknownOp, "kv: unknown op 0"},
		{"op 255", Command{Op: 255, Key: "a"}, ErrUnknownOp, "kv: unknown op 255"},
		// The op is checked first, then the key, then the value.
		{"bad op and key", Command{Op: 5}, ErrUnknownOp, "kv: unknown op 5"},
		{"bad key and value", Command{Op: OpSet, Value: long(MaxValueBytes + 1)}, ErrEmptyKey, "kv: empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.cmd)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("have %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("have %v, want an error wrapping %v", err, tt.wantErr)
			}
			if err != nil && err.Error() != tt.msg {
				t.Errorf("message: have %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestValidateAllocs(t *testing.T) {
	c := set("a", "1")
	if n := testing.AllocsPerRun(100, func() { _ = Validate(c) }); n != 0 {
		t.Errorf("Validate of a valid command allocates %v times", n)
	}
}
