package host_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/hosttest"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// leader returns a single-node core that has elected itself, and the
// StorageAck its last Persist asks for (nil if none).
func leader(b *testing.B, factory host.Factory) (engine.Core, []engine.Input) {
	cfg := engine.Config{Raft: raft.Config{ID: 1, Voters: []uint64{1}, Seed: 1}}
	c, err := factory(cfg, engine.Restored{})
	if err != nil {
		b.Fatal(err)
	}
	if cl, ok := c.(io.Closer); ok {
		b.Cleanup(func() { cl.Close() })
	}
	var acks []engine.Input
	for range 100 {
		effs, err := c.Handle(append(acks, engine.Tick{}))
		if err != nil {
			b.Fatal(err)
		}
		acks = ackFor(effs)
		for _, e := range effs {
			if s, ok := e.(engine.StatusReport); ok && s.Status.Role == raft.RoleLeader {
				warmUp(b, c)
				return c, acks
			}
		}
	}
	b.Fatal("no leader after 100 ticks")
	return nil, nil
}

// warmUp ticks c 20,000 times: a wasm instance's first calls grow its
// memory and run its first garbage collections, which would otherwise
// weigh on short benchmark runs.
func warmUp(b *testing.B, c engine.Core) {
	in := []engine.Input{engine.Tick{}}
	for range 20000 {
		if _, err := c.Handle(in); err != nil {
			b.Fatal(err)
		}
	}
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

// cpuMeter reports CPU time per operation as "cpu-ns/op".
type cpuMeter struct {
	start time.Duration
	ok    bool
	ops   int
}

func startCPU() *cpuMeter {
	t, ok := cpuTime()
	return &cpuMeter{start: t, ok: ok}
}

func (m *cpuMeter) report(b *testing.B) {
	t, ok := cpuTime()
	if m.ok && ok && m.ops > 0 {
		b.ReportMetric(float64(t-m.start)/float64(m.ops), "cpu-ns/op")
	}
}

func factories(b *testing.B) []struct {
	name string
	f    host.Factory
} {
	return []struct {
		name string
		f    host.Factory
	}{{"native", host.Native}, {"wazero", hosttest.Factory(b)}}
}

// BenchmarkHandleTick is one Handle call with a single Tick on an idle
// single-node leader: the fixed cost of a call.
func BenchmarkHandleTick(b *testing.B) {
	for _, f := range factories(b) {
		b.Run(f.name, func(b *testing.B) {
			c, _ := leader(b, f.f)
			in := []engine.Input{engine.Tick{}}
			cpu := startCPU()
			for b.Loop() {
				cpu.ops++
				if _, err := c.Handle(in); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkHandlePropose is one Handle call carrying the StorageAck of the
// previous call's Persist and a new SET with a 100-byte value, on a
// single-node leader: each call appends one entry and commits, applies and
// answers the previous one. proposals/s is committed writes per second.
func BenchmarkHandlePropose(b *testing.B) {
	value := make([]byte, 100)
	for i := range value {
		value[i] = 'v'
	}
	for _, f := range factories(b) {
		b.Run(f.name, func(b *testing.B) {
			c, acks := leader(b, f.f)
			var seq uint64
			var ok int
			cpu := startCPU()
			for b.Loop() {
				cpu.ops++
				seq++
				in := append(acks, engine.Propose{RequestID: seq, Command: kv.Command{ClientID: 1, Seq: seq,
					Op: kv.OpSet, Key: "key", Value: value}})
				effs, err := c.Handle(in)
				if err != nil {
					b.Fatal(err)
				}
				acks = ackFor(effs)
				for _, e := range effs {
					if r, isReply := e.(engine.Reply); isReply && r.Code == engine.ReplyOK {
						ok++
					}
				}
			}
			if seq > 1 && ok < int(seq)-1 {
				b.Fatalf("%d proposals, %d ok replies: want all but the last answered", seq, ok)
			}
			b.ReportMetric(float64(ok)/b.Elapsed().Seconds(), "proposals/s")
			cpu.report(b)
		})
	}
}

// BenchmarkNewCore is the cost of a core: a module instance, Go's runtime
// initialization inside it and an engine.
func BenchmarkNewCore(b *testing.B) {
	rt := hosttest.Runtime(b)
	var mem uint32
	for b.Loop() {
		c, err := rt.NewCore(single, engine.Restored{})
		if err != nil {
			b.Fatal(err)
		}
		mem = c.MemorySize()
		c.Close()
	}
	b.ReportMetric(float64(mem)/(1<<20), "MiB-memory")
}

// BenchmarkExportCall is raft.wasm's fixed costs, called through its
// exports directly: an empty call (wraft_abi_version), and wraft_alloc plus
// wraft_handle of an empty batch on an idle single-node leader, which
// decodes nothing and runs the engine's per-call bookkeeping only.
func BenchmarkExportCall(b *testing.B) {
	m := newRawModuleB(b)
	m.send("wraft_init", abi.AppendInit(nil, single, engine.Restored{}))
	for range 20000 {
		m.send("wraft_handle", abi.AppendInputs(nil, []engine.Input{engine.Tick{}}))
	}
	ctx := context.Background()
	alloc, handle := m.mod.ExportedFunction("wraft_alloc"), m.mod.ExportedFunction("wraft_handle")
	version := m.mod.ExportedFunction("wraft_abi_version")
	stack := make([]uint64, 2)
	b.Run("abi_version", func(b *testing.B) {
		cpu := startCPU()
		defer cpu.report(b)
		for b.Loop() {
			cpu.ops++
			if err := version.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("alloc", func(b *testing.B) {
		cpu := startCPU()
		defer cpu.report(b)
		for b.Loop() {
			cpu.ops++
			stack[0] = 64
			if err := alloc.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
	})
	empty := abi.AppendInputs(nil, nil)
	b.Run("handle_empty", func(b *testing.B) {
		cpu := startCPU()
		defer cpu.report(b)
		for b.Loop() {
			cpu.ops++
			stack[0] = uint64(len(empty))
			if err := alloc.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
			p := stack[0]
			m.mod.Memory().Write(uint32(p), empty)
			stack[0], stack[1] = p, uint64(len(empty))
			if err := handle.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHandleBatch is one Handle call carrying n proposals (SETs of a
// 100-byte value to n keys) and the StorageAck of the previous call's
// Persist, on a single-node leader: how the fixed cost of a call spreads
// over the inputs of a batch. proposals/s is committed writes per second.
func BenchmarkHandleBatch(b *testing.B) {
	value := make([]byte, 100)
	for _, n := range []int{1, 16, 64} {
		for _, f := range factories(b) {
			b.Run(fmt.Sprintf("n=%d/%s", n, f.name), func(b *testing.B) {
				c, acks := leader(b, f.f)
				var seq uint64
				var ok int
				cpu := startCPU()
				for b.Loop() {
					cpu.ops++
					in := acks
					for i := range n {
						seq++
						in = append(in, engine.Propose{RequestID: seq, Command: kv.Command{ClientID: 1, Seq: seq,
							Op: kv.OpSet, Key: keys[i%len(keys)], Value: value}})
					}
					effs, err := c.Handle(in)
					if err != nil {
						b.Fatal(err)
					}
					acks = ackFor(effs)
					for _, e := range effs {
						if r, isReply := e.(engine.Reply); isReply && r.Code == engine.ReplyOK {
							ok++
						}
					}
				}
				if seq > uint64(n) && ok < int(seq)-n {
					b.Fatalf("%d proposals, %d ok replies: want all but the last batch answered", seq, ok)
				}
				b.ReportMetric(float64(ok)/b.Elapsed().Seconds(), "proposals/s")
				cpu.report(b)
			})
		}
	}
}

// keys are the keys BenchmarkHandleBatch writes.
var keys = func() []string {
	k := make([]string, 64)
	for i := range k {
		k[i] = fmt.Sprintf("key%02d", i)
	}
	return k
}()
