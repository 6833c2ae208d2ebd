package wire

// Reader decodes the primitives of the wire format from a byte slice. Its
// error is sticky: once a read fails, every later read returns the zero
// value and Err reports the first failure. A Reader never panics, whatever
// its input.
//
// Byte slices and strings it returns are copies: they never alias the
// input.
type Reader struct {
	in   []byte // the whole input
	b    []byte // in, narrowed to the innermost open frame
	off  int    // next byte to read, as an offset into in
	what string // the value being decoded, for errors: "wire: message"
	err  error
}

// NewReader returns a Reader over b. What names the value being decoded,
// prefixed by the decoding package, such as "wire: message" or
// "kv: command"; errors read "<what> truncated at byte 17".
func NewReader(b []byte, what string) *Reader {
	return &Reader{in: b, b: b, what: what}
}

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Offset returns the number of bytes read so far.
func (r *Reader) Offset() int { return r.off }

// Len returns the number of unread bytes (in the current frame, if any).
func (r *Reader) Len() int { return max(len(r.b)-r.off, 0) }

// Done returns the first error met or, if there was none and bytes remain
// unread, an ErrInvalid error. Call it after the last field of a value.
func (r *Reader) Done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail(r.off, ErrInvalid, "has "+trailing(len(r.b)-r.off))
	}
	return r.err
}

// Invalid records an ErrInvalid error for the field that begins at byte at
// (an earlier Offset), unless an error was already recorded. Reason follows
// the value's name in the message, as in "has unknown op 9".
func (r *Reader) Invalid(at int, reason string) { r.fail(at, ErrInvalid, reason) }

func (r *Reader) fail(at int, err error, reason string) {
	if r.err == nil {
		r.err = &decodeError{what: r.what, reason: reason, offset: at, err: err}
	}
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail(r.off, ErrTruncated, "truncated")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// Bool reads one byte that must be 0 (false) or 1 (true).
func (r *Reader) Bool() bool {
	at := r.off
	switch c := r.Byte(); c {
	case 0:
		return false
	case 1:
		return true
	default:
		r.Invalid(at, "has invalid bool "+itoa(int(c)))
		return false
	}
}

// Version reads a format version byte and records an ErrVersion error if
// it is not want.
func (r *Reader) Version(want byte) {
	at := r.off
	if v := r.Byte(); r.err == nil && v != want {
		r.fail(at, ErrVersion, "has version "+itoa(int(v))+" (want "+itoa(int(want))+")")
	}
}

// Uvarint reads a uvarint. It must be in its shortest form and fit in 64
// bits.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	at := r.off
	var x uint64
	for i := uint(0); ; i++ {
		if r.off >= len(r.b) {
			r.fail(at, ErrTruncated, "truncated")
			return 0
		}
		c := r.b[r.off]
		r.off++
		if i == 9 && c > 1 {
			r.fail(at, ErrInvalid, "has uvarint overflowing 64 bits")
			return 0
		}
		if c < 0x80 {
			if c == 0 && i > 0 {
				r.fail(at, ErrInvalid, "has non-minimal uvarint")
				return 0
			}
			return x | uint64(c)<<(7*i)
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
}

// Int reads a zigzag-encoded int (see AppendInt). A value that does not fit
// in an int on this platform is an ErrInvalid error.
func (r *Reader) Int() int {
	at := r.off
	u := r.Uvarint()
	x := int64(u>>1) ^ -int64(u&1)
	if int64(int(x)) != x {
		r.fail(at, ErrInvalid, "has int out of range")
		return 0
	}
	return int(x)
}

// length reads a uvarint length of field and checks it against max and
// against the bytes that remain, given that each unit takes at least
// unitSize bytes. It returns -1 after any failure.
func (r *Reader) length(field string, max, unitSize int) int {
	at := r.off
	n := r.Uvarint()
	if r.err != nil {
		return -1
	}
	if n > uint64(max) {
		r.fail(at, ErrTooLarge, field+" too large ("+utoa(n)+" > "+itoa(max)+")")
		return -1
	}
	if n > uint64(r.Len()/unitSize) {
		r.fail(at, ErrTruncated, field+" truncated")
		return -1
	}
	return int(n)
}

// Bytes reads a length-prefixed byte slice of at most max bytes, named
// field in errors ("entry data"). It returns a copy of the bytes, or nil
// for a length of 0.
func (r *Reader) Bytes(field string, max int) []byte {
	n := r.length(field, max, 1)
	if n <= 0 {
		return nil
	}
	p := make([]byte, n)
	copy(p, r.b[r.off:])
	r.off += n
	return p
}

// String reads a length-prefixed string of at most max bytes, named field
// in errors. Its bytes are not checked for valid UTF-8.
func (r *Reader) String(field string, max int) string {
	n := r.length(field, max, 1)
	if n <= 0 {
		return ""
	}
	s := string(r.b[r.off : r.off+n])
	r.off += n
	return s
}

// Count reads the uvarint length of a list named field ("entries"), which
// must be at most max. Each item takes at least minSize bytes (at least 1),
// so a count that the remaining bytes cannot hold fails at once, before the
// caller allocates. It returns 0 after any failure.
func (r *Reader) Count(field string, max, minSize int) int {
	n := r.length(field, max, minSize)
	if n < 0 {
		return 0
	}
	return n
}

// BeginFrame reads a uvarint length of at most max bytes and narrows the
// Reader to that many following bytes, until the matching EndFrame. It
// returns what EndFrame needs to restore the outer bounds. Frames nest.
// Offsets in errors stay relative to the start of the whole input.
func (r *Reader) BeginFrame(field string, max int) (outer int) {
	outer = len(r.b)
	n := r.length(field, max, 1)
	if n < 0 {
		return outer
	}
	r.b = r.in[:r.off+n]
	return outer
}

// EndFrame checks that the frame opened by BeginFrame was read to its end
// (trailing bytes are an ErrInvalid error) and restores the outer bounds.
func (r *Reader) EndFrame(outer int) {
	if r.err == nil && r.off != len(r.b) {
		r.fail(r.off, ErrInvalid, "has "+trailing(len(r.b)-r.off)+" in frame")
	}
	if outer > len(r.in) || outer < r.off {
		outer = len(r.in)
	}
	r.b = r.in[:outer]
}

// Frame reads a uvarint length of at most max bytes, skips that many
// following bytes and returns a new Reader over them that names its value
// what in errors (offsets in its errors count from the frame's start). An
// error met by the returned Reader is its own: r goes on after the frame,
// so a decoder can refuse one framed item and still read the next. A
// length that r cannot hold fails r, and the returned Reader has failed
// too.
func (r *Reader) Frame(field string, max int, what string) Reader {
	n := r.length(field, max, 1)
	if n < 0 {
		return Reader{what: what, err: r.err}
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return Reader{in: b, b: b, what: what}
}

// trailing describes n unread bytes: "1 trailing byte", "3 trailing bytes".
func trailing(n int) string {
	if n == 1 {
		return "1 trailing byte"
	}
	return itoa(n) + " trailing bytes"
}
