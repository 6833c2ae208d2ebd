package host

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/tetratelabs/wazero/api"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// ErrCoreFailed is wrapped by every error a WasmCore returns once the
// module failed: it reported an EventCoreError (a panic inside, no
// engine), trapped, exited or returned bytes that do not decode. The core
// is then unusable; the host discards it and makes a new one from what
// storage holds. (A batch the module refused as a whole gives an error
// wrapping engine.ErrInputRejected instead, and the core stays usable.)
var ErrCoreFailed = errors.New("host: raft.wasm core failed")

// ErrClosed is returned by Handle after Close.
var ErrClosed = errors.New("host: core is closed")

// WasmCore is one engine running inside its own instance of raft.wasm. It
// implements engine.Core. It is not safe for concurrent use.
type WasmCore struct {
	mod                          api.Module
	mem                          api.Memory
	alloc, init, handle, version api.Function
	stderr                       *tail
	cleanup                      runtime.Cleanup
	// stack is reused by every call, to spare wazero an allocation.
	stack []uint64
	// in is the encoding buffer for inputs, reused by every Handle.
	in []byte
	// err, once set, is returned by every later Handle.
	err error
}

func newWasmCore(mod api.Module, stderr *tail) (*WasmCore, error) {
	c := &WasmCore{mod: mod, mem: mod.Memory(), stderr: stderr, stack: make([]uint64, 2)}
	for _, f := range []struct {
		fn   *api.Function
		name string
	}{{&c.alloc, "wraft_alloc"}, {&c.init, "wraft_init"}, {&c.handle, "wraft_handle"}, {&c.version, "wraft_abi_version"}} {
		if *f.fn = mod.ExportedFunction(f.name); *f.fn == nil {
			return nil, fmt.Errorf("host: raft.wasm does not export %s", f.name)
		}
	}
	if c.mem == nil {
		return nil, errors.New("host: raft.wasm does not export its memory")
	}
	return c, nil
}

// Handle passes the inputs to the engine and returns its effects. The
// effects share no memory with the module. An error wrapping
// engine.ErrInputRejected means the module refused the batch's encoding
// and handled none of it; the core is still usable. Any other error wraps
// ErrCoreFailed (or is ErrClosed); after one, the core is unusable and
// every later call returns the same error.
func (c *WasmCore) Handle(in []engine.Input) ([]engine.Effect, error) {
	if c.err != nil {
		return nil, c.err
	}
	c.in = abi.AppendInputs(c.in[:0], in)
	effs, err := c.call(c.handle, "wraft_handle", c.in)
	if cap(c.in) > 1<<20 {
		c.in = nil // do not keep a huge batch's buffer
	}
	if err != nil {
		return nil, err
	}
	return effs, nil
}

// call writes input into the module's memory (through wraft_alloc), calls
// fn on it and decodes the effects batch it returns. Any failure is
// sticky.
func (c *WasmCore) call(fn api.Function, name string, input []byte) ([]engine.Effect, error) {
	ctx := context.Background()
	c.stack[0] = uint64(len(input))
	if err := c.alloc.CallWithStack(ctx, c.stack); err != nil {
		return nil, c.fail("trapped in wraft_alloc: %v%s", err, c.stderr.suffix())
	}
	ptr := uint32(c.stack[0])
	if ptr == 0 {
		return nil, c.fail("wraft_alloc(%d) returned 0", len(input))
	}
	// Views of the memory are fetched anew after every call: a call may
	// grow the memory, which makes older views stale.
	if !c.mem.Write(ptr, input) {
		return nil, c.fail("wraft_alloc(%d) returned %d, outside memory", len(input), ptr)
	}
	c.stack[0], c.stack[1] = uint64(ptr), uint64(len(input))
	if err := fn.CallWithStack(ctx, c.stack); err != nil {
		return nil, c.fail("trapped in %s: %v%s", name, err, c.stderr.suffix())
	}
	desc := uint32(c.stack[0])
	outPtr, ok1 := c.mem.ReadUint32Le(desc)
	outLen, ok2 := c.mem.ReadUint32Le(desc + 4)
	out, ok3 := c.mem.Read(outPtr, outLen)
	if !ok1 || !ok2 || !ok3 {
		return nil, c.fail("%s returned descriptor %d (ptr %d, len %d), outside memory", name, desc, outPtr, outLen)
	}
	// DecodeEffects copies what it keeps: out may be overwritten by the
	// next call.
	effs, err := abi.DecodeEffects(out)
	if err != nil {
		return nil, c.fail("%s returned effects that do not decode: %v", name, err)
	}
	for _, e := range effs {
		if e, ok := e.(engine.Emit); ok && e.Event.Kind == raft.EventCoreError {
			return nil, c.fail("%s", e.Event.Text)
		}
	}
	if len(effs) == 1 {
		if e, ok := effs[0].(engine.Emit); ok && e.Event.Kind == raft.EventInputsRejected {
			// The module handled nothing and is intact: not sticky.
			return nil, fmt.Errorf("%w: %s", engine.ErrInputRejected, e.Event.Text)
		}
	}
	return effs, nil
}

// fail makes the core unusable and returns the error every later Handle
// returns.
func (c *WasmCore) fail(format string, args ...any) error {
	c.err = fmt.Errorf("%w: "+format, append([]any{ErrCoreFailed}, args...)...)
	return c.err
}

// ABIVersion returns what the module's wraft_abi_version returns.
func (c *WasmCore) ABIVersion() (int32, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.version.CallWithStack(context.Background(), c.stack); err != nil {
		return 0, c.fail("trapped in wraft_abi_version: %v", err)
	}
	return int32(c.stack[0]), nil
}

// MemorySize returns the size of the module's linear memory in bytes.
func (c *WasmCore) MemorySize() uint32 { return c.mem.Size() }

// Close frees the module instance. Handle returns ErrClosed afterwards.
// Closing twice does nothing.
func (c *WasmCore) Close() error {
	if c.err == ErrClosed {
		return nil
	}
	c.err = ErrClosed
	c.cleanup.Stop()
	return c.mod.Close(context.Background())
}

// tail keeps the last bytes the module wrote to stderr (Go's runtime
// writes a fatal error's message there) to add to errors.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 2 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailBytes; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// suffix returns "; stderr: ..." with what the module wrote, or "".
func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return ""
	}
	return "; stderr: " + string(t.buf)
}
