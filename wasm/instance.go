package main

//lint:file-ignore U1000 abiVersion is used by the wasip1 exports in main.go

import (
	"runtime"
	"strconv"
	"unsafe"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// abiVersion is what wraft_abi_version returns. It versions the exports
// and their lifecycle (docs/ABI.md, "Exports"); abi.Version versions the
// byte encodings passed through them.
const abiVersion = 1

// Sizes that bound the memory an instance keeps between calls.
const (
	// maxAlloc is the largest buffer wraft_alloc hands out. Larger
	// requests get 0: Go on wasm32 cannot promise more, and running out of
	// memory is a fatal error, not a panic we could recover from.
	maxAlloc = 1 << 30
	// keepBytes is the largest input or output buffer kept for reuse by
	// the next call; a larger one (a big restored log, say) is dropped.
	keepBytes = 1 << 20
	// keepInputs is the largest slice of decoded inputs kept for reuse.
	keepInputs = 1 << 12
	// maxStack bounds the goroutine stack appended to a panic's text.
	maxStack = 4 << 10
)

// newCoreFunc makes the engine; tests substitute cores that misbehave.
type newCoreFunc func(engine.Config, engine.Restored) (engine.Core, error)

// instance is everything raft.wasm keeps between export calls. The exports
// are free functions, so one instance lives in a package variable (see
// main.go); it is also what keeps the buffers handed to the host alive,
// since Go's collector frees unreferenced memory (it never moves it).
//
// Invariant: in is the buffer of the last alloc until the next alloc,
// init or handle returns; out holds the last output until the next call;
// inputs is empty (and cleared) between calls.
type instance struct {
	newCore newCoreFunc
	// core is the engine, or nil before a successful init.
	core engine.Core
	// initErr says why the last init failed, for handle's error.
	initErr string
	// poison is the text of a panic, returned by every handle until the
	// next init. A panic may have left the engine half-updated.
	poison string
	in     []byte
	out    []byte
	// inputs is the slice handle decodes each batch into, reused so that
	// a call allocates only the inputs themselves. The engine keeps no
	// reference to the slice, only to what its inputs hold.
	inputs []engine.Input
}

func newInstance(f newCoreFunc) *instance { return &instance{newCore: f} }

// nativeCore is the production newCoreFunc: the engine itself.
func nativeCore(cfg engine.Config, r engine.Restored) (engine.Core, error) {
	e, err := engine.New(cfg, r)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// alloc returns a buffer of size bytes for the host to write its input
// into, or nil if size exceeds maxAlloc. The buffer has a capacity of at
// least one byte, so even an empty one has an address.
func (x *instance) alloc(size uint32) (b []byte) {
	defer func() {
		if r := recover(); r != nil {
			x.poison = panicText("wraft_alloc", r)
			b = nil
		}
	}()
	if size > maxAlloc {
		return nil
	}
	n := int(size)
	if cap(x.in) < max(n, 1) || (cap(x.in) > keepBytes && n <= keepBytes) {
		x.in = make([]byte, max(n, 1))
	}
	x.in = x.in[:n]
	return x.in
}

// input returns the n bytes at address ptr, which must lie inside the
// buffer of the last alloc. Anything else is refused rather than read: the
// module reads no memory it did not hand out.
func (x *instance) input(ptr, n uint32) ([]byte, string) {
	if n == 0 {
		return nil, ""
	}
	base := addr(x.in)
	if x.in == nil || ptr < base || uint64(ptr)+uint64(n) > uint64(base)+uint64(len(x.in)) {
		return nil, "input (ptr " + u32(ptr) + ", len " + u32(n) +
			") is not inside the buffer of the last wraft_alloc (ptr " + u32(base) + ", len " + strconv.Itoa(len(x.in)) + ")"
	}
	off := ptr - base
	return x.in[off : off+n], ""
}

// init decodes an init record and creates the engine, replacing any
// previous one. It returns an effects batch: empty on success, one
// EventCoreError on failure (and then there is no engine).
func (x *instance) init(ptr, n uint32) (out []byte) {
	defer x.release()
	defer func() {
		if r := recover(); r != nil {
			x.core, x.initErr = nil, ""
			x.poison = panicText("wraft_init", r)
			out = x.fail(x.poison)
		}
	}()
	x.core, x.initErr, x.poison = nil, "", ""
	data, bad := x.input(ptr, n)
	if bad != "" {
		x.initErr = "wraft_init: " + bad
		return x.fail(x.initErr)
	}
	cfg, rs, err := abi.DecodeInit(data)
	if err == nil {
		x.core, err = x.newCore(cfg, rs)
	}
	if err != nil {
		x.core = nil
		x.initErr = "wraft_init: " + err.Error()
		return x.fail(x.initErr)
	}
	x.out = abi.AppendEffects(x.reuseOut(), nil)
	return x.out
}

// handle decodes an inputs batch, runs the engine and returns the encoded
// effects. Without an engine it handles nothing and returns one
// EventCoreError. If the batch's framing is broken it handles nothing and
// returns one EventInputsRejected; the engine stays usable. (An input that
// is bad on its own is answered by the engine: see abi.DecodeInputs.)
func (x *instance) handle(ptr, n uint32) (out []byte) {
	defer x.release()
	defer func() {
		if r := recover(); r != nil {
			x.poison = panicText("wraft_handle", r)
			out = x.fail(x.poison)
		}
	}()
	switch {
	case x.poison != "":
		return x.fail(x.poison)
	case x.core == nil && x.initErr != "":
		return x.fail("wraft_handle: no engine: " + x.initErr)
	case x.core == nil:
		return x.fail("wraft_handle: no engine: call wraft_init first")
	}
	data, bad := x.input(ptr, n)
	if bad != "" {
		return x.fail("wraft_handle: " + bad)
	}
	var err error
	if x.inputs, err = abi.DecodeInputsTo(x.inputs, data); err != nil {
		// The batch's framing is broken, so no input of it can be trusted:
		// none is handled, and the engine is as it was.
		ev := raft.Event{Kind: raft.EventInputsRejected, Text: "wraft_handle: " + err.Error()}
		x.out = abi.AppendEffects(x.reuseOut(), []engine.Effect{engine.Emit{Event: ev}})
		return x.out
	}
	effs, err := x.core.Handle(x.inputs)
	if err != nil {
		x.poison = "wraft_handle: " + err.Error()
		return x.fail(x.poison)
	}
	x.out = abi.AppendEffects(x.reuseOut(), effs)
	return x.out
}

// fail returns a batch holding one EventCoreError with text.
func (x *instance) fail(text string) []byte {
	ev := raft.Event{Kind: raft.EventCoreError, Text: text}
	x.out = abi.AppendEffects(x.reuseOut(), []engine.Effect{engine.Emit{Event: ev}})
	return x.out
}

// reuseOut returns the output buffer emptied, or nil if it grew too big
// to keep.
func (x *instance) reuseOut() []byte {
	if cap(x.out) > keepBytes {
		return nil
	}
	return x.out[:0]
}

// release ends the life of the input buffer and of the decoded inputs:
// the next call may reuse both.
func (x *instance) release() {
	clear(x.inputs)
	x.inputs = x.inputs[:0]
	if cap(x.inputs) > keepInputs {
		x.inputs = nil
	}
	if cap(x.in) > keepBytes {
		x.in = nil
		return
	}
	x.in = x.in[:0]
}

// panicText describes a recovered panic for an EventCoreError: "panic: "
// and its value, then the start of the goroutine's stack.
func panicText(export string, r any) string {
	var msg string
	switch r := r.(type) {
	case error:
		msg = r.Error()
	case string:
		msg = r
	case interface{ String() string }:
		msg = r.String()
	default:
		msg = "a value that is neither a string nor an error"
	}
	stack := make([]byte, maxStack)
	stack = stack[:runtime.Stack(stack, false)]
	return "panic: " + msg + " (in " + export + ")\n\n" + string(stack)
}

// addr returns the address of b's first byte as a wasm32 pointer. Only
// on wasm is it the real address; natively it is the low 32 bits, which
// is enough for tests that compute pointers the same way.
func addr(b []byte) uint32 {
	if cap(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
