package wire

// AppendUvarint appends v as a minimal uvarint (1 to 10 bytes) and returns
// the extended slice.
func AppendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendInt appends v zigzag-encoded as a uvarint, so that small negative
// and positive values are both short: 0, -1, 1, -2 encode as 0, 1, 2, 3.
func AppendInt(b []byte, v int) []byte {
	x := int64(v)
	return AppendUvarint(b, uint64(x<<1)^uint64(x>>63))
}

// AppendByte appends the single byte v.
func AppendByte(b []byte, v byte) []byte { return append(b, v) }

// AppendBool appends 1 for true and 0 for false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendBytes appends len(p) as a uvarint followed by p. A nil and an empty
// p encode alike, as the single byte 0.
func AppendBytes(b, p []byte) []byte {
	b = AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// AppendString appends len(s) as a uvarint followed by the bytes of s. The
// bytes are copied as they are; no UTF-8 check is made.
func AppendString(b []byte, s string) []byte {
	b = AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendFrame appends the bytes that enc appends, preceded by their length
// as a uvarint: the framing that Reader.BeginFrame reads. The length is
// unknown until enc returns, so the bytes are moved once; frames are meant
// for single values such as one message, not for bulk data.
func AppendFrame(b []byte, enc func([]byte) []byte) []byte {
	start := len(b)
	b = enc(b)
	n := len(b) - start
	var hdr [10]byte
	h := AppendUvarint(hdr[:0], uint64(n))
	b = append(b, h...) // grow by len(h)
	copy(b[start+len(h):], b[start:start+n])
	copy(b[start:], h)
	return b
}
