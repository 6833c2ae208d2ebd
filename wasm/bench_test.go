package main

import (
	"testing"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// benchLeader returns an instance whose engine is an elected single-node
// leader, and the StorageAck its last Persist asks for (nil if none).
func benchLeader(b *testing.B) (*instance, []engine.Input) {
	x := newInstance(nativeCore)
	in := abi.AppendInit(nil, single, engine.Restored{})
	buf := x.alloc(uint32(len(in)))
	copy(buf, in)
	if out := x.init(addr(buf), uint32(len(in))); len(out) != 2 {
		b.Fatalf("init output % x, want an empty batch", out)
	}
	var acks []engine.Input
	for range 100 {
		effs := handleBytes(b, x, abi.AppendInputs(nil, append(acks, engine.Tick{})))
		acks = ackFor(effs)
		for _, e := range effs {
			if s, ok := e.(engine.StatusReport); ok && s.Status.Role == raft.RoleLeader {
				return x, acks
			}
		}
	}
	b.Fatal("no leader after 100 ticks")
	return nil, nil
}

// handleBytes runs x.handle on an encoded batch, as a host does, and
// decodes the effects.
func handleBytes(b *testing.B, x *instance, in []byte) []engine.Effect {
	buf := x.alloc(uint32(len(in)))
	copy(buf, in)
	effs, err := abi.DecodeEffects(x.handle(addr(buf), uint32(len(in))))
	if err != nil {
		b.Fatal(err)
	}
	return effs
}

func ackFor(effs []engine.Effect) []engine.Input {
	for _, e := range effs {
		if p, ok := e.(engine.Persist); ok && len(p.Entries) > 0 {
			last := p.Entries[len(p.Entries)-1]
			return []engine.Input{engine.StorageAck{Index: last.Index, Term: last.Term}}
		}
	}
	return nil
}

// BenchmarkInstanceTick is the work inside raft.wasm for one wraft_handle
// of a single Tick on an idle leader (see BenchmarkInstancePropose).
func BenchmarkInstanceTick(b *testing.B) {
	x, _ := benchLeader(b)
	in := abi.AppendInputs(nil, []engine.Input{engine.Tick{}})
	for b.Loop() {
		buf := x.alloc(uint32(len(in)))
		copy(buf, in)
		x.handle(addr(buf), uint32(len(in)))
	}
}

// BenchmarkInstancePropose is the work inside raft.wasm for one
// wraft_handle carrying the previous call's StorageAck and a SET of a
// 100-byte value, as BenchmarkHandlePropose in package host passes them.
// Natively, -benchmem counts its allocations, three of which (the two
// inputs and their encoding) are the loop's own; under wasip1 (go test -c
// and a WASI runtime) it times the same code as raft.wasm runs it.
func BenchmarkInstancePropose(b *testing.B) {
	x, acks := benchLeader(b)
	if len(acks) != 1 {
		b.Fatal("the leader's last call asked for no StorageAck")
	}
	// Each call appends one entry, so the ack it asks for is the next
	// index in the same term.
	ack := acks[0].(engine.StorageAck)
	value := make([]byte, 100)
	var seq uint64
	var in, out []byte
	inputs := make([]engine.Input, 2)
	for b.Loop() {
		seq++
		inputs[0] = ack
		inputs[1] = engine.Propose{RequestID: seq,
			Command: kv.Command{ClientID: 1, Seq: seq, Op: kv.OpSet, Key: "key", Value: value}}
		in = abi.AppendInputs(in[:0], inputs)
		buf := x.alloc(uint32(len(in)))
		copy(buf, in)
		out = x.handle(addr(buf), uint32(len(in)))
		ack.Index++
	}
	effs, err := abi.DecodeEffects(out)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range effs {
		if r, ok := e.(engine.Reply); ok && r.Code == engine.ReplyOK && r.RequestID == seq-1 {
			return
		}
	}
	b.Fatalf("the last call's effects %+v do not answer request %d", effs, seq-1)
}
