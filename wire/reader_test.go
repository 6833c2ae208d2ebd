package wire_test

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/wraft/wraft/wire"
	"pgregory.net/rapid"
)

func TestAppendUvarint(t *testing.T) {
	tests := []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0x00}},
		{1, []byte{0x01}},
		{127, []byte{0x7f}},
		{128, []byte{0x80, 0x01}},
		{300, []byte{0xac, 0x02}},
		{16383, []byte{0xff, 0x7f}},
		{16384, []byte{0x80, 0x80, 0x01}},
		{math.MaxUint64, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tt := range tests {
		have := wire.AppendUvarint(nil, tt.v)
		if !bytes.Equal(have, tt.want) {
			t.Errorf("AppendUvarint(%d): have % x, want % x", tt.v, have, tt.want)
		}
		r := wire.NewReader(have, "test")
		if v := r.Uvarint(); v != tt.v || r.Done() != nil {
			t.Errorf("Uvarint(% x): have %d, %v, want %d, nil", have, v, r.Done(), tt.v)
		}
	}
}

func TestAppendInt(t *testing.T) {
	tests := []struct {
		v    int
		want []byte
	}{
		{0, []byte{0x00}},
		{-1, []byte{0x01}},
		{1, []byte{0x02}},
		{-2, []byte{0x03}},
		{63, []byte{0x7e}},
		{-64, []byte{0x7f}},
		{64, []byte{0x80, 0x01}},
	}
	if strconv.IntSize == 64 {
		tests = append(tests, []struct {
			v    int
			want []byte
		}{
			{math.MaxInt, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
			{math.MinInt, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		}...)
	}
	for _, tt := range tests {
		have := wire.AppendInt(nil, tt.v)
		if !bytes.Equal(have, tt.want) {
			t.Errorf("AppendInt(%d): have % x, want % x", tt.v, have, tt.want)
		}
		r := wire.NewReader(have, "test")
		if v := r.Int(); v != tt.v || r.Done() != nil {
			t.Errorf("Int(% x): have %d, %v, want %d, nil", have, v, r.Done(), tt.v)
		}
	}
}

func TestPrimitivesRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := rapid.Uint64().Draw(t, "u")
		i := rapid.Int().Draw(t, "i")
		c := rapid.Byte().Draw(t, "c")
		ok := rapid.Bool().Draw(t, "ok")
		p := rapid.SliceOfN(rapid.Byte(), 1, 300).Draw(t, "p")
		s := rapid.String().Draw(t, "s")
		var b []byte
		b = wire.AppendUvarint(b, u)
		b = wire.AppendInt(b, i)
		b = wire.AppendByte(b, c)
		b = wire.AppendBool(b, ok)
		b = wire.AppendBytes(b, p)
		b = wire.AppendString(b, s)
		b = wire.AppendFrame(b, func(b []byte) []byte { return wire.AppendBytes(b, p) })
		r := wire.NewReader(b, "test")
		if have := r.Uvarint(); have != u {
			t.Fatalf("uvarint: have %d, want %d", have, u)
		}
		if have := r.Int(); have != i {
			t.Fatalf("int: have %d, want %d", have, i)
		}
		if have := r.Byte(); have != c {
			t.Fatalf("byte: have %d, want %d", have, c)
		}
		if have := r.Bool(); have != ok {
			t.Fatalf("bool: have %v, want %v", have, ok)
		}
		if have := r.Bytes("p", 1000); !bytes.Equal(have, p) {
			t.Fatalf("bytes: have % x, want % x", have, p)
		}
		if have := r.String("s", 1<<20); have != s {
			t.Fatalf("string: have %q, want %q", have, s)
		}
		outer := r.BeginFrame("frame", 1000)
		if have := r.Bytes("p", 1000); !bytes.Equal(have, p) {
			t.Fatalf("framed bytes: have % x, want % x", have, p)
		}
		r.EndFrame(outer)
		if err := r.Done(); err != nil {
			t.Fatalf("Done: have %v, want nil", err)
		}
	})
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(r *wire.Reader)
		want error
		msg  string
	}{
		{"empty uvarint", nil, func(r *wire.Reader) { r.Uvarint() },
			wire.ErrTruncated, "wire: test truncated at byte 0"},
		{"cut uvarint", []byte{0x80}, func(r *wire.Reader) { r.Uvarint() },
			wire.ErrTruncated, "wire: test truncated at byte 0"},
		{"non-minimal uvarint", []byte{0x80, 0x00}, func(r *wire.Reader) { r.Uvarint() },
			wire.ErrInvalid, "wire: test has non-minimal uvarint at byte 0"},
		{"non-minimal long uvarint", []byte{0xff, 0x80, 0x00}, func(r *wire.Reader) { r.Uvarint() },
			wire.ErrInvalid, "wire: test has non-minimal uvarint at byte 0"},
		{"uvarint over 64 bits", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
			func(r *wire.Reader) { r.Uvarint() },
			wire.ErrInvalid, "wire: test has uvarint overflowing 64 bits at byte 0"},
		{"uvarint of 11 bytes", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00},
			func(r *wire.Reader) { r.Uvarint() },
			wire.ErrInvalid, "wire: test has uvarint overflowing 64 bits at byte 0"},
		{"bool 2", []byte{0x02}, func(r *wire.Reader) { r.Bool() },
			wire.ErrInvalid, "wire: test has invalid bool 2 at byte 0"},
		{"bool after byte", []byte{0x07, 0xff}, func(r *wire.Reader) { r.Byte(); r.Bool() },
			wire.ErrInvalid, "wire: test has invalid bool 255 at byte 1"},
		{"version", []byte{0x02}, func(r *wire.Reader) { r.Version(1) },
			wire.ErrVersion, "wire: test has version 2 (want 1) at byte 0"},
		{"bytes over limit", []byte{0x05, 1, 2, 3, 4, 5}, func(r *wire.Reader) { r.Bytes("data", 4) },
			wire.ErrTooLarge, "wire: test data too large (5 > 4) at byte 0"},
		{"bytes past end", []byte{0x05, 1, 2, 3, 4}, func(r *wire.Reader) { r.Bytes("data", 10) },
			wire.ErrTruncated, "wire: test data truncated at byte 0"},
		{"huge length", wire.AppendUvarint(nil, 1<<40),
			func(r *wire.Reader) { r.String("text", math.MaxInt) },
			wire.ErrTruncated, "wire: test text truncated at byte 0"},
		{"length over int", wire.AppendUvarint(nil, math.MaxUint64),
			func(r *wire.Reader) { r.String("text", math.MaxInt) },
			wire.ErrTooLarge, "wire: test text too large (18446744073709551615 > " + strconv.Itoa(math.MaxInt) + ") at byte 0"},
		{"count over limit", []byte{0x03}, func(r *wire.Reader) { r.Count("items", 2, 1) },
			wire.ErrTooLarge, "wire: test items too large (3 > 2) at byte 0"},
		{"count past end", []byte{0x02, 1, 2, 3}, func(r *wire.Reader) { r.Count("items", 10, 2) },
			wire.ErrTruncated, "wire: test items truncated at byte 0"},
		{"trailing", []byte{0x01, 0x02}, func(r *wire.Reader) { r.Byte() },
			wire.ErrInvalid, "wire: test has 1 trailing byte at byte 1"},
		{"frame not filled", []byte{0x02, 0x01, 0x01}, func(r *wire.Reader) {
			o := r.BeginFrame("frame", 10)
			r.Byte()
			r.EndFrame(o)
		}, wire.ErrInvalid, "wire: test has 1 trailing byte in frame at byte 2"},
		{"read past frame", []byte{0x01, 0x01, 0x01}, func(r *wire.Reader) {
			o := r.BeginFrame("frame", 10)
			r.Byte()
			r.Byte()
			r.EndFrame(o)
		}, wire.ErrTruncated, "wire: test truncated at byte 2"},
		{"invalid", []byte{0x09}, func(r *wire.Reader) { r.Invalid(r.Offset(), "has unknown op 9"); r.Byte() },
			wire.ErrInvalid, "wire: test has unknown op 9 at byte 0"},
		{"first error sticks", []byte{0x02}, func(r *wire.Reader) {
			r.Bool()
			r.Uvarint()
			r.Version(3)
		}, wire.ErrInvalid, "wire: test has invalid bool 2 at byte 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wire.NewReader(tt.in, "wire: test")
			tt.read(r)
			err := r.Done()
			if !errors.Is(err, tt.want) {
				t.Fatalf("have %v, want errors.Is(err, %v)", err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("message: have %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestReaderZeroAfterError(t *testing.T) {
	r := wire.NewReader([]byte{0x80}, "wire: test")
	r.Uvarint()
	if v, b, ok, p, s, n := r.Uvarint(), r.Byte(), r.Bool(), r.Bytes("p", 9), r.String("s", 9), r.Count("c", 9, 1); v != 0 || b != 0 || ok || p != nil || s != "" || n != 0 {
		t.Errorf("reads after error: have %d %d %v %v %q %d, want zero values", v, b, ok, p, s, n)
	}
}

func TestBytesCopies(t *testing.T) {
	in := []byte{3, 'a', 'b', 'c'}
	r := wire.NewReader(in, "wire: test")
	p := r.Bytes("p", 10)
	in[1] = 'x'
	if string(p) != "abc" {
		t.Errorf("have %q, want %q: Bytes aliases its input", p, "abc")
	}
	r = wire.NewReader([]byte{0}, "wire: test")
	if p := r.Bytes("p", 10); p != nil {
		t.Errorf("empty bytes: have %#v, want nil", p)
	}
}

func TestAppendFrame(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 300, 20000} {
		payload := bytes.Repeat([]byte{0xab}, n)
		prefix := []byte{0xee}
		have := wire.AppendFrame(prefix, func(b []byte) []byte { return append(b, payload...) })
		want := append(wire.AppendUvarint([]byte{0xee}, uint64(n)), payload...)
		if !bytes.Equal(have, want) {
			t.Errorf("frame of %d bytes: have % x..., want % x...", n, have[:min(8, len(have))], want[:min(8, len(want))])
		}
	}
}

// Frame: an error inside a frame stays in the frame's Reader; the outer
// Reader goes on after it. A broken length fails both.
func TestFrameKeepsErrorsApart(t *testing.T) {
	var b []byte
	b = wire.AppendFrame(b, func(b []byte) []byte { return append(b, 0x05) }) // a bool of 5
	b = wire.AppendUvarint(b, 42)
	r := wire.NewReader(b, "test: outer")
	sub := r.Frame("item", 10, "test: item")
	if sub.Bool(); sub.Err() == nil || !errors.Is(sub.Err(), wire.ErrInvalid) {
		t.Fatalf("inner error: have %v, want one wrapping ErrInvalid", sub.Err())
	}
	if got := sub.Err().Error(); got != "test: item has invalid bool 5 at byte 0" {
		t.Errorf("inner error text: have %q", got)
	}
	if v := r.Uvarint(); v != 42 || r.Done() != nil {
		t.Errorf("after the frame: have %d, %v, want 42, nil", v, r.Done())
	}

	r = wire.NewReader([]byte{0x05, 0x01}, "test: outer") // 5 bytes announced, 1 held
	sub = r.Frame("item", 10, "test: item")
	if !errors.Is(r.Err(), wire.ErrTruncated) || sub.Err() != r.Err() {
		t.Errorf("broken length: outer %v, inner %v, want both the truncation", r.Err(), sub.Err())
	}
	r = wire.NewReader([]byte{0x0b}, "test: outer")
	if r.Frame("item", 10, "test: item"); !errors.Is(r.Err(), wire.ErrTooLarge) {
		t.Errorf("length over max: have %v, want ErrTooLarge", r.Err())
	}
}
