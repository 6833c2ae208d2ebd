package host_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/hosttest"
	"github.com/wraft/wraft/raft"
)

var single = engine.Config{Raft: raft.Config{ID: 1, Voters: []uint64{1}, Seed: 1}}

// rawModule is raft.wasm driven through its exports directly, as a host
// in another language would.
type rawModule struct {
	t   testing.TB
	mod api.Module
}

func newRawModule(t *testing.T) *rawModule { return newRawModuleB(t) }

func newRawModuleB(t testing.TB) *rawModule {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, hosttest.WasmBytes(t),
		wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatal(err)
	}
	return &rawModule{t: t, mod: mod}
}

func (m *rawModule) call(name string, args ...uint64) uint64 {
	m.t.Helper()
	res, err := m.mod.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		m.t.Fatalf("%s: %v", name, err)
	}
	return res[0]
}

// send writes input with wraft_alloc and passes it to export; it returns
// the effects batch, copied out.
func (m *rawModule) send(export string, input []byte) []byte {
	m.t.Helper()
	ptr := m.call("wraft_alloc", uint64(len(input)))
	if !m.mod.Memory().Write(uint32(ptr), input) {
		m.t.Fatalf("wraft_alloc(%d) = %d: outside memory", len(input), ptr)
	}
	return m.output(m.call(export, ptr, uint64(len(input))))
}

func (m *rawModule) output(desc uint64) []byte {
	m.t.Helper()
	mem := m.mod.Memory()
	p, _ := mem.ReadUint32Le(uint32(desc))
	n, _ := mem.ReadUint32Le(uint32(desc) + 4)
	b, ok := mem.Read(p, n)
	if !ok {
		m.t.Fatalf("descriptor %d: ptr %d len %d outside memory", desc, p, n)
	}
	return append([]byte(nil), b...)
}

// wantCoreError checks that batch is a single EventCoreError whose text
// contains want.
func wantCoreError(t *testing.T, batch []byte, want string) {
	t.Helper()
	effs, err := abi.DecodeEffects(batch)
	if err != nil {
		t.Fatalf("batch does not decode: %v", err)
	}
	wantEvent(t, effs, raft.EventCoreError, want)
}

// wantEvent checks that effs is exactly one event of kind whose text
// contains want.
func wantEvent(t *testing.T, effs []engine.Effect, kind raft.EventKind, want string) {
	t.Helper()
	if len(effs) != 1 {
		t.Fatalf("have %d effects %+v, want one %v event", len(effs), effs, kind)
	}
	e, ok := effs[0].(engine.Emit)
	if !ok || e.Event.Kind != kind || !strings.Contains(e.Event.Text, want) {
		t.Fatalf("have %+v, want a %v event containing %q", effs[0], kind, want)
	}
}

func TestExports(t *testing.T) {
	m := newRawModule(t)
	if v := m.call("wraft_abi_version"); v != 1 {
		t.Errorf("wraft_abi_version = %d, want 1", v)
	}
	if p := m.call("wraft_alloc", 1<<31); p != 0 {
		t.Errorf("wraft_alloc(2 GiB) = %d, want 0", p)
	}
	ticks := abi.AppendInputs(nil, []engine.Input{engine.Tick{}, engine.Tick{}})

	wantCoreError(t, m.send("wraft_handle", ticks), "no engine: call wraft_init first")
	wantCoreError(t, m.send("wraft_init", []byte("garbage")), "wraft_init: abi: init")
	wantCoreError(t, m.send("wraft_handle", ticks), "no engine: wraft_init: abi: init")

	if out := m.send("wraft_init", abi.AppendInit(nil, single, engine.Restored{})); string(out) != "\x01\x00" {
		t.Fatalf("wraft_init = % x, want 01 00", out)
	}
	// A batch whose framing is broken is rejected: it handled nothing
	// and poisoned nothing.
	garbage, err := abi.DecodeEffects(m.send("wraft_handle", []byte{0xde, 0xad, 0xbe, 0xef}))
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, garbage, raft.EventInputsRejected, "abi: inputs")
	effs, err := abi.DecodeEffects(m.send("wraft_handle", ticks))
	if err != nil || len(effs) == 0 {
		t.Fatalf("ticks after garbage: %v %+v, want effects", err, effs)
	}
	for _, e := range effs {
		if e, ok := e.(engine.Emit); ok && e.Event.Kind == raft.EventCoreError {
			t.Fatalf("ticks after garbage: %+v", e)
		}
	}
	// An input that is not where wraft_alloc put it is refused.
	ptr := m.call("wraft_alloc", uint64(len(ticks)))
	m.mod.Memory().Write(uint32(ptr), ticks)
	wantCoreError(t, m.output(m.call("wraft_handle", 8, uint64(len(ticks)))), "not inside the buffer")
}

func TestWasmCoreInitError(t *testing.T) {
	rt := hosttest.Runtime(t)
	_, err := rt.NewCore(engine.Config{Raft: raft.Config{ID: 4, Voters: []uint64{1, 2, 3}}}, engine.Restored{})
	_, nativeErr := host.Native(engine.Config{Raft: raft.Config{ID: 4, Voters: []uint64{1, 2, 3}}}, engine.Restored{})
	if err == nil || nativeErr == nil || !strings.HasSuffix(err.Error(), nativeErr.Error()) {
		t.Errorf("wasm error %v, native error %v: want both, the first ending as the second", err, nativeErr)
	}
}

func TestABIVersionMismatch(t *testing.T) {
	_, err := host.NewRuntime(context.Background(), hosttest.FakeCoreModule(2, false), "")
	if !errors.Is(err, host.ErrABIVersion) || !strings.Contains(err.Error(), "wraft_abi_version is 2") {
		t.Errorf("NewRuntime(version 2 module) = %v, want ErrABIVersion naming version 2", err)
	}
	if _, err := host.NewRuntime(context.Background(), hosttest.FakeCoreModule(1, false), ""); err != nil {
		t.Errorf("NewRuntime(version 1 module) = %v, want it accepted", err)
	}
	_, err = host.NewRuntime(context.Background(), []byte("\x00asm\x01\x00\x00\x00"), "")
	if err == nil || !strings.Contains(err.Error(), "not a wraft core") {
		t.Errorf("NewRuntime(empty module) = %v, want an error saying it is not a wraft core", err)
	}
}

func TestTrapMakesCoreUnusable(t *testing.T) {
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, hosttest.FakeCoreModule(1, true), "")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	c, err := rt.NewCore(single, engine.Restored{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Handle([]engine.Input{engine.Tick{}})
	if !errors.Is(err, host.ErrCoreFailed) || !strings.Contains(err.Error(), "trapped in wraft_handle") {
		t.Fatalf("Handle on a trapping core = %v, want ErrCoreFailed: trapped in wraft_handle", err)
	}
	if _, again := c.Handle(nil); again != err {
		t.Errorf("second Handle = %v, want the first error again", again)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := c.Handle(nil); err != host.ErrClosed {
		t.Errorf("Handle after Close = %v, want ErrClosed", err)
	}
}

func TestWasmCoreCloseTwice(t *testing.T) {
	c, err := hosttest.Runtime(t).NewCore(single, engine.Restored{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.ABIVersion(); v != 1 || err != nil {
		t.Errorf("ABIVersion = %d, %v, want 1", v, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}
