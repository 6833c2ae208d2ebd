package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

var single = engine.Config{Raft: raft.Config{ID: 1, Voters: []uint64{1}, Seed: 3}}

// call hands data to an export the way a host does: alloc, write, call.
func call(x *instance, export func(x *instance, ptr, n uint32) []byte, data []byte) []byte {
	b := x.alloc(uint32(len(data)))
	copy(b, data)
	return bytes.Clone(export(x, addr(b), uint32(len(data))))
}

func initx(x *instance, ptr, n uint32) []byte   { return x.init(ptr, n) }
func handlex(x *instance, ptr, n uint32) []byte { return x.handle(ptr, n) }

// coreError returns the text of out's EventCoreError, failing unless out
// is exactly one such event.
func coreError(t *testing.T, out []byte) string {
	t.Helper()
	effs, err := abi.DecodeEffects(out)
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	if len(effs) != 1 {
		t.Fatalf("output has %d effects %+v, want one EventCoreError", len(effs), effs)
	}
	e, ok := effs[0].(engine.Emit)
	if !ok || e.Event.Kind != raft.EventCoreError {
		t.Fatalf("output %+v, want one EventCoreError", effs)
	}
	return e.Event.Text
}

func wantError(t *testing.T, out []byte, want string) {
	t.Helper()
	if have := coreError(t, out); !strings.Contains(have, want) {
		t.Errorf("error %q, want it to contain %q", have, want)
	}
}

// wantRejected checks that out is exactly one EventInputsRejected whose
// text contains want.
func wantRejected(t *testing.T, out []byte, want string) {
	t.Helper()
	effs, err := abi.DecodeEffects(out)
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	if e, ok := effs[0].(engine.Emit); len(effs) != 1 || !ok || e.Event.Kind != raft.EventInputsRejected {
		t.Fatalf("output %+v, want one EventInputsRejected", effs)
	} else if !strings.Contains(e.Event.Text, want) {
		t.Errorf("text %q, want it to contain %q", e.Event.Text, want)
	}
}

func mustInit(t *testing.T, x *instance, cfg engine.Config) {
	t.Helper()
	out := call(x, initx, abi.AppendInit(nil, cfg, engine.Restored{}))
	if want := []byte{abi.Version, 0}; !bytes.Equal(out, want) {
		t.Fatalf("init output % x, want % x", out, want)
	}
}

func TestHandleMatchesEngine(t *testing.T) {
	x := newInstance(nativeCore)
	mustInit(t, x, single)
	e, err := engine.New(single, engine.Restored{})
	if err != nil {
		t.Fatal(err)
	}
	batches := [][]engine.Input{
		{engine.Tick{}},
		make([]engine.Input, 30),
		{engine.Read{RequestID: 1, Key: "k", Stale: true}},
	}
	for i := range batches[1] {
		batches[1][i] = engine.Tick{}
	}
	for i, in := range batches {
		have := call(x, handlex, abi.AppendInputs(nil, in))
		effs, _ := e.Handle(in)
		if want := abi.AppendEffects(nil, effs); !bytes.Equal(have, want) {
			t.Errorf("batch %d: have % x, want % x", i, have, want)
		}
	}
}

// Oversized requests in a batch are answered one by one with the same
// replies a natively linked engine gives, and the rest of the batch is
// handled: one bad input never costs its batch, nor the core.
func TestHandleOversizedInputs(t *testing.T) {
	x := newInstance(nativeCore)
	mustInit(t, x, single)
	e, err := engine.New(single, engine.Restored{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", 300)
	elect := make([]engine.Input, 30)
	for i := range elect {
		elect[i] = engine.Tick{}
	}
	batches := [][]engine.Input{
		elect,
		{
			engine.Propose{RequestID: 1, Command: kv.Command{ClientID: 1, Seq: 1, Op: kv.OpSet, Key: long}},
			engine.Propose{RequestID: 2, Command: kv.Command{ClientID: 1, Seq: 2, Op: kv.OpCAS, Key: "k",
				Expect: make([]byte, kv.MaxValueBytes+1)}},
			engine.Read{RequestID: 3, Key: long},
			engine.ChangeMembers{RequestID: 4, Change: raft.ConfChange{Type: raft.ConfAddLearner, NodeID: 9,
				Addr: strings.Repeat("a", 2000)}},
			engine.Propose{RequestID: 5, Command: kv.Command{ClientID: 1, Seq: 3, Op: kv.OpSet, Key: "k", Value: []byte("v")}},
			engine.Propose{RequestID: 6, Command: kv.Command{ClientID: 1, Seq: 4, Op: 9, Key: "k"}},
			engine.Tick{},
		},
	}
	var last []engine.Effect
	for i, in := range batches {
		have := call(x, handlex, abi.AppendInputs(nil, in))
		effs, _ := e.Handle(in)
		if want := abi.AppendEffects(nil, effs); !bytes.Equal(have, want) {
			t.Errorf("batch %d: have % x, want % x", i, have, want)
		}
		last = effs
	}
	want := map[uint64]string{
		1: "kv: key too long (300 > 256 bytes)",
		2: "kv: cas expectation too long (65537 > 65536 bytes)",
		3: "kv: key too long (300 > 256 bytes)",
		4: "engine: member address too long (2000 > 1024 bytes)",
		6: "kv: unknown op 9",
	}
	persisted := false
	for _, ef := range last {
		switch ef := ef.(type) {
		case engine.Reply:
			if ef.Code != engine.ReplyInvalid || ef.Error != want[ef.RequestID] {
				t.Errorf("reply to %d: have %v %q, want invalid %q", ef.RequestID, ef.Code, ef.Error, want[ef.RequestID])
			}
			delete(want, ef.RequestID)
		case engine.Persist:
			persisted = len(ef.Entries) == 1
		}
	}
	if len(want) > 0 {
		t.Errorf("no replies to %v", want)
	}
	if !persisted {
		t.Errorf("the valid write of the batch was not appended: %+v", last)
	}
}

func TestHandleErrors(t *testing.T) {
	x := newInstance(nativeCore)
	ticks := abi.AppendInputs(nil, []engine.Input{engine.Tick{}})
	wantError(t, call(x, handlex, ticks), "no engine: call wraft_init first")

	wantError(t, call(x, initx, abi.AppendInit(nil, engine.Config{}, engine.Restored{})),
		"wraft_init: raft: invalid config: node id 0 is reserved")
	wantError(t, call(x, handlex, ticks), "no engine: wraft_init: raft: invalid config")
	wantError(t, call(x, initx, []byte{9, 9, 9}), "wraft_init: abi: init")

	mustInit(t, x, single)
	// A batch whose framing is broken is rejected: it handles nothing and
	// poisons nothing.
	wantRejected(t, call(x, handlex, []byte{abi.Version, 1, 77}), "wraft_handle: abi: inputs has unknown input tag 77")
	wantRejected(t, call(x, handlex, nil), "wraft_handle: abi: inputs")
	if out := call(x, handlex, ticks); bytes.Contains(out, []byte("wraft_handle")) {
		t.Errorf("after a bad batch: %q", out)
	}

	// An input outside the alloc'd buffer is refused, not read.
	b := x.alloc(4)
	copy(b, ticks)
	wantError(t, x.handle(addr(b)+1, 4), "is not inside the buffer of the last wraft_alloc")
	b = x.alloc(4)
	wantError(t, x.handle(addr(b)-8, 2), "is not inside the buffer of the last wraft_alloc")
}

func TestAlloc(t *testing.T) {
	x := newInstance(nativeCore)
	if b := x.alloc(maxAlloc + 1); b != nil {
		t.Errorf("alloc(maxAlloc+1) has len %d, want nil", len(b))
	}
	if b := x.alloc(0); b == nil || cap(b) == 0 || addr(b) == 0 {
		t.Errorf("alloc(0) = %v (cap %d), want an empty buffer with an address", b, cap(b))
	}
	small := x.alloc(100)
	if again := x.alloc(50); addr(again) != addr(small) {
		t.Errorf("alloc(50) after alloc(100): a new buffer, want the old one reused")
	}
	x.alloc(keepBytes + 1)
	x.release()
	if x.in != nil {
		t.Errorf("a buffer over keepBytes is kept after the call, want it dropped")
	}
}

// panicky is a core that panics or fails on demand.
type panicky struct {
	engine.Core
	panicWith any
	err       error
}

func (p *panicky) Handle(in []engine.Input) ([]engine.Effect, error) {
	if p.panicWith != nil {
		panic(p.panicWith)
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.Core.Handle(in)
}

func TestPanicPoisons(t *testing.T) {
	tests := []struct {
		name  string
		core  panicky
		want  string
		stack bool
	}{
		{"string", panicky{panicWith: "boom"}, "panic: boom (in wraft_handle)", true},
		{"runtime error", panicky{panicWith: errors.New("index out of range")}, "panic: index out of range", true},
		{"other value", panicky{panicWith: 42}, "panic: a value that is neither", true},
		{"error result", panicky{err: errors.New("engine: broken")}, "wraft_handle: engine: broken", false},
	}
	ticks := abi.AppendInputs(nil, []engine.Input{engine.Tick{}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *panicky
			x := newInstance(func(cfg engine.Config, r engine.Restored) (engine.Core, error) {
				e, err := engine.New(cfg, r)
				p = &panicky{Core: e, panicWith: tt.core.panicWith, err: tt.core.err}
				return p, err
			})
			mustInit(t, x, single)
			first := coreError(t, call(x, handlex, ticks))
			if !strings.HasPrefix(first, tt.want) {
				t.Errorf("error %q, want prefix %q", first, tt.want)
			}
			if tt.stack && !strings.Contains(first, "goroutine") {
				t.Errorf("panic text %q has no stack", first)
			}
			// Poisoned: the same error, even once the core behaves.
			p.panicWith, p.err = nil, nil
			if again := coreError(t, call(x, handlex, ticks)); again != first {
				t.Errorf("second call: %q, want the first error again", again)
			}
			mustInit(t, x, single)
			if out := call(x, handlex, ticks); len(out) < 3 {
				t.Errorf("after re-init: % x, want effects", out)
			}
		})
	}
}

func TestInitPanic(t *testing.T) {
	x := newInstance(func(engine.Config, engine.Restored) (engine.Core, error) { panic("bad restore") })
	wantError(t, call(x, initx, abi.AppendInit(nil, single, engine.Restored{})), "panic: bad restore (in wraft_init)")
	wantError(t, call(x, handlex, abi.AppendInputs(nil, []engine.Input{engine.Tick{}})), "panic: bad restore")
}
