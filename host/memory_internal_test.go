package host

import (
	"context"
	"runtime"
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero"
)

// growModule is a module with a memory of one page and a function grow
// that adds 16 pages (1 MiB) and returns the old size in pages.
var growModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type: [] -> [i32]
	0x03, 0x02, 0x01, 0x00, // function 0 has type 0
	0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page, no max
	0x07, 0x11, 0x02, // exports
	0x04, 'g', 'r', 'o', 'w', 0x00, 0x00,
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
	0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x10, 0x40, 0x00, 0x0b, // code: memory.grow(16)
}

// TestMemoryGrowsInPlace checks that growing a module's memory moves
// nothing: wazero's default copies the whole memory into a larger slice,
// which for a core holding hundreds of megabytes took long enough, inside
// one call, to stall the node past an election timeout.
func TestMemoryGrowsInPlace(t *testing.T) {
	if runtime.GOOS != "linux" || unsafe.Sizeof(uintptr(0)) < 8 {
		t.Skip("the memory is mapped in place only on 64-bit Linux")
	}
	ctx := context.Background()
	r := &Runtime{rt: wazero.NewRuntime(ctx)}
	defer r.rt.Close(ctx)
	var err error
	r.compiled, err = r.rt.CompileModule(ctx, growModule)
	if err != nil {
		t.Fatal(err)
	}
	mod, _, err := r.instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	mem := mod.Memory()
	base := func() *byte {
		b, ok := mem.Read(0, 1)
		if !ok {
			t.Fatal("cannot read the memory")
		}
		return &b[0]
	}
	if !mem.WriteByte(100, 42) {
		t.Fatal("cannot write the memory")
	}
	first := base()
	grow := mod.ExportedFunction("grow")
	for i := range 32 {
		res, err := grow.Call(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := uint32(res[0]), uint32(1+16*i); got != want {
			t.Fatalf("grow %d: old size %d pages, want %d", i, got, want)
		}
		if base() != first {
			t.Fatalf("grow %d to %d pages moved the memory", i, 1+16*(i+1))
		}
	}
	if v, _ := mem.ReadByte(100); v != 42 {
		t.Errorf("byte 100 = %d after growing, want 42", v)
	}
	if v, ok := mem.ReadByte(mem.Size() - 1); !ok || v != 0 {
		t.Errorf("last byte = %d, %v; want 0, true", v, ok)
	}
}

// TestSliceMemory checks the fallback: it grows, keeps what it held and
// hands out zeroed bytes.
func TestSliceMemory(t *testing.T) {
	var m sliceMemory
	b := m.Reallocate(10)
	b[3] = 7
	b = m.Reallocate(1 << 20)
	if len(b) != 1<<20 || b[3] != 7 || b[len(b)-1] != 0 {
		t.Fatalf("after growing: len %d, b[3] %d, last %d; want %d, 7, 0", len(b), b[3], b[len(b)-1], 1<<20)
	}
	m.Free()
}
