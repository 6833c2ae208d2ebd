package host_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/hosttest"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// scriptNode is one node of a scripted run: its core and its storage.
type scriptNode struct {
	id   uint64
	core engine.Core // nil while crashed
	// hs and log are what the node's storage holds. Persist effects are
	// made durable at once, so a crash loses nothing acknowledged.
	hs  raft.HardState
	log []raft.Entry
	// acks are StorageAcks for the node's next Handle.
	acks []engine.Input
}

// script drives a three-node cluster with choices drawn from a seeded
// generator: ticks, message delivery in random order with drops and
// duplicates, proposals, reads, transfers, and crashes with restarts from
// storage. It records every effects batch, encoded with abi.AppendEffects,
// and hashes the whole trace.
type script struct {
	t       *testing.T
	rng     *rand.Rand
	factory host.Factory
	nodes   []*scriptNode
	net     []raft.Message
	nextReq uint64
	seq     [4]uint64

	batches [][]byte
	trace   io.Writer // sha256 of every step's node id, inputs and effects
	sum     func() []byte

	// Progress, so the run is not vacuous.
	ok, leaders, restarts, delivered int
}

func newScript(t *testing.T, seed uint64, factory host.Factory) *script {
	h := sha256.New()
	s := &script{t: t, rng: rand.New(rand.NewPCG(seed, 0x77726166)), factory: factory, trace: h,
		sum: func() []byte { return h.Sum(nil) }}
	for id := uint64(1); id <= 3; id++ {
		n := &scriptNode{id: id}
		s.nodes = append(s.nodes, n)
		s.restart(n)
		s.restarts = 0
	}
	return s
}

func (s *script) config(id uint64) engine.Config {
	return engine.Config{Raft: raft.Config{ID: id, Voters: []uint64{1, 2, 3}, ElectionTicks: 10, HeartbeatTicks: 2,
		Seed: 42}}
}

func (s *script) restart(n *scriptNode) {
	c, err := s.factory(s.config(n.id), engine.Restored{HardState: n.hs, Entries: slices.Clone(n.log)})
	if err != nil {
		s.t.Fatalf("restart node %d: %v", n.id, err)
	}
	n.core = c
	s.restarts++
}

func (s *script) crash(n *scriptNode) {
	if c, ok := n.core.(io.Closer); ok {
		c.Close()
	}
	n.core, n.acks = nil, nil
}

// step hands in to node n (after its pending acks) and carries out the
// effects.
func (s *script) step(n *scriptNode, in ...engine.Input) {
	if n.core == nil {
		return
	}
	in = append(n.acks, in...)
	n.acks = nil
	effs, err := n.core.Handle(in)
	if err != nil {
		s.t.Fatalf("step %d, node %d: %v", len(s.batches), n.id, err)
	}
	enc := abi.AppendEffects(nil, effs)
	s.batches = append(s.batches, enc)
	inEnc := abi.AppendInputs(nil, in)
	var hdr [24]byte
	binary.LittleEndian.PutUint64(hdr[0:], n.id)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(len(inEnc)))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(enc)))
	s.trace.Write(hdr[:])
	s.trace.Write(inEnc)
	s.trace.Write(enc)
	for _, e := range effs {
		switch e := e.(type) {
		case engine.Persist:
			if len(e.Entries) > 0 {
				first := e.Entries[0].Index
				n.log = append(n.log[:min(uint64(len(n.log)), first-1)], e.Entries...)
				last := e.Entries[len(e.Entries)-1]
				n.acks = append(n.acks, engine.StorageAck{Index: last.Index, Term: last.Term})
			}
			n.hs = e.HardState
		case engine.Send:
			s.net = append(s.net, e.Message)
		case engine.Reply:
			if e.Code == engine.ReplyOK {
				s.ok++
			}
		case engine.Emit:
			if e.Event.Kind == raft.EventElected {
				s.leaders++
			}
		}
	}
}

func (s *script) pick() *scriptNode { return s.nodes[s.rng.IntN(len(s.nodes))] }

func (s *script) value() []byte {
	v := make([]byte, 100)
	for i := range v {
		v[i] = byte('a' + s.rng.IntN(26))
	}
	return v
}

func (s *script) run(steps int) {
	for range steps {
		switch r := s.rng.IntN(100); {
		case r < 25:
			s.step(s.pick(), engine.Tick{})
		case r < 70:
			if len(s.net) == 0 {
				continue
			}
			j := s.rng.IntN(len(s.net))
			m := s.net[j]
			if s.rng.IntN(20) != 0 { // else: a duplicate stays in flight
				s.net = slices.Delete(s.net, j, j+1)
			}
			if s.rng.IntN(10) == 0 {
				continue // dropped
			}
			in := []engine.Input{engine.Receive{Message: m}}
			if s.rng.IntN(3) == 0 { // deliver everything else for m.To too
				s.net = slices.DeleteFunc(s.net, func(x raft.Message) bool {
					if x.To == m.To {
						in = append(in, engine.Receive{Message: x})
						return true
					}
					return false
				})
			}
			s.delivered += len(in)
			s.step(s.nodes[m.To-1], in...)
		case r < 82:
			n := s.pick()
			s.nextReq++
			s.seq[n.id]++
			s.step(n, engine.Propose{RequestID: s.nextReq, Command: kv.Command{ClientID: n.id, Seq: s.seq[n.id],
				Op: kv.OpSet, Key: "k" + strconv.Itoa(s.rng.IntN(8)), Value: s.value()}})
		case r < 90:
			s.nextReq++
			s.step(s.pick(), engine.Read{RequestID: s.nextReq, Key: "k" + strconv.Itoa(s.rng.IntN(8)),
				Stale: s.rng.IntN(4) == 0})
		case r < 91:
			s.step(s.pick(), engine.Transfer{To: uint64(1 + s.rng.IntN(3))})
		case r < 93:
			// Crash a node, or restart the crashed one: at most one is
			// down at a time, so the cluster keeps a quorum.
			down := slices.IndexFunc(s.nodes, func(n *scriptNode) bool { return n.core == nil })
			if down >= 0 {
				s.restart(s.nodes[down])
			} else {
				s.crash(s.pick())
			}
		default:
			for _, n := range s.nodes {
				s.step(n, engine.Tick{})
			}
		}
	}
	for _, n := range s.nodes {
		if n.core == nil {
			s.restart(n)
		}
		if c, ok := n.core.(io.Closer); ok {
			defer c.Close()
		}
	}
	// Let the cluster settle so that the restarted nodes catch up.
	for range 200 {
		for _, n := range s.nodes {
			s.step(n, engine.Tick{})
		}
		for len(s.net) > 0 {
			m := s.net[0]
			s.net = s.net[1:]
			s.step(s.nodes[m.To-1], engine.Receive{Message: m})
		}
	}
}

// TestNativeWasmEquivalence runs the same seeded script through the native
// engine and through raft.wasm in wazero: every effects batch must be
// byte-identical.
func TestNativeWasmEquivalence(t *testing.T) {
	wasm := hosttest.Factory(t)
	for _, seed := range []uint64{1, 2, 3} {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			native := newScript(t, seed, host.Native)
			native.run(1500)
			inWasm := newScript(t, seed, wasm)
			inWasm.run(1500)

			for i := range min(len(native.batches), len(inWasm.batches)) {
				if !bytes.Equal(native.batches[i], inWasm.batches[i]) {
					have, _ := abi.DecodeEffects(inWasm.batches[i])
					want, _ := abi.DecodeEffects(native.batches[i])
					t.Fatalf("batch %d differs:\nwasm:   %+v\nnative: %+v", i, have, want)
				}
			}
			if len(native.batches) != len(inWasm.batches) {
				t.Fatalf("wasm gave %d batches, native %d", len(inWasm.batches), len(native.batches))
			}
			hn, hw := hex.EncodeToString(native.sum()), hex.EncodeToString(inWasm.sum())
			if hn != hw {
				t.Fatalf("trace sha256: wasm %s, native %s", hw, hn)
			}
			t.Logf("%d batches, %d messages delivered, %d leaders elected, %d ok replies, %d restarts; trace sha256 %s",
				len(native.batches), native.delivered, native.leaders, native.ok, native.restarts, hn)
			if native.leaders == 0 || native.ok < 50 || native.restarts == 0 {
				t.Errorf("the script made too little progress to compare: %d leaders, %d ok replies, %d restarts",
					native.leaders, native.ok, native.restarts)
			}
			// Every node ends with the same log.
			for _, n := range native.nodes[1:] {
				if len(n.log) != len(native.nodes[0].log) {
					t.Errorf("node %d has %d entries, node 1 %d", n.id, len(n.log), len(native.nodes[0].log))
				}
			}
		})
	}
}
