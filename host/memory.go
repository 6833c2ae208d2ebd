package host

// sliceMemory is a linear memory in a Go slice that grows by appending,
// as wazero's default: the fallback when a mapping cannot be had.
type sliceMemory struct{ buf []byte }

// Reallocate grows the slice to size bytes, moving it if need be.
func (m *sliceMemory) Reallocate(size uint64) []byte {
	if size > uint64(cap(m.buf)) {
		m.buf = append(m.buf[:cap(m.buf)], make([]byte, size-uint64(cap(m.buf)))...)
	}
	m.buf = m.buf[:size]
	return m.buf
}

// Free drops the slice.
func (m *sliceMemory) Free() { m.buf = nil }
