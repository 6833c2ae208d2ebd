//go:build linux

package host

import (
	"math"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// memoryAllocator backs each instance's linear memory with one anonymous
// mapping of its maximum size, reserved but not committed: the kernel
// gives it pages as the module touches them. Growing the memory then
// moves nothing. wazero's default grows a Go slice by appending, which
// copies the whole memory (hundreds of megabytes for a store of large
// values) inside the module's call, where nothing else of the core can
// run; and the Go runtime cannot stop a goroutine running module code
// for a collection, so such a call stalls the whole process.
var memoryAllocator experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(allocateMapped)

// allocateMapped reserves maximum bytes, or falls back to a growing
// slice if the system refuses (a 32-bit address space, overcommit
// disabled).
func allocateMapped(_, maximum uint64) experimental.LinearMemory {
	if maximum == 0 || maximum > math.MaxInt {
		return &sliceMemory{}
	}
	b, err := syscall.Mmap(-1, 0, int(maximum), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return &sliceMemory{}
	}
	return &mappedMemory{buf: b}
}

// mappedMemory is a linear memory in a mapping of its maximum size.
type mappedMemory struct{ buf []byte }

// Reallocate returns the first size bytes of the mapping, or nil beyond it.
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if m.buf == nil || size > uint64(len(m.buf)) {
		return nil
	}
	return m.buf[:size:size]
}

// Free unmaps the memory.
func (m *mappedMemory) Free() {
	if m.buf != nil {
		syscall.Munmap(m.buf)
		m.buf = nil
	}
}
