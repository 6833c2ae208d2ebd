// Package refsim is the reference simulation: a tiny deterministic driver
// of a three-node cluster whose trace hash must come out the same through
// every core, the native engine as raft.wasm in any host. Its TypeScript
// twin is web/shim/refsim.ts; the golden hashes, made with the native
// engine, are in testdata/vectors/refsim.json. The two drivers must follow
// the algorithm below to the letter.
//
// The driver draws every choice from a splitmix64 generator seeded with the
// simulation seed. First it draws the engine seeds of nodes 1, 2 and 3, in
// that order, and starts each with the zero Restored and
//
//	Config{Raft: raft.Config{ID: id, Voters: [1 2 3], ElectionTicks: 10, HeartbeatTicks: 1, Seed: drawn}}
//
// Messages in flight wait in one FIFO queue of at most 32 messages. Then
// each step draws r = next() % 100 and does:
//
//	r < 25  tick node 1 + next() % 3
//	r < 70  deliver the oldest queued message (nothing if the queue is empty)
//	r < 88  deliver the queued message at next() % len(queue) (nothing, and no draw, if empty)
//	r < 90  drop the queued message at next() % len(queue) (nothing, and no draw, if empty)
//	r < 97  on node n = 1 + next() % 3, propose SET "k<next() % 4>" = "v<step>" as client n with
//	        the client's next sequence number (1, 2, ...) and the next request id (1, 2, ...)
//	else    on node n = 1 + next() % 3, read "k<next() % 4>" (not stale) with the next request id
//
// where <x> is x in decimal and step counts from 0. Requests of both kinds
// share one request id counter. Delivering a message hands it to the node
// its To field names (one not in 1..3 is dropped).
//
// Each input goes to its node in a batch of its own, and the node's effects
// are carried out at once, in order: a Persist is applied to the node's
// in-memory storage (entries at or above the first new index removed, the
// new entries appended, the hard state replaced); a Send appends the
// message to the queue's end; a Reply, an Emit and a StatusReport change
// nothing (an Emit of raft.EventCoreError fails the run). A Send to a full
// queue is dropped. If the batch held a Persist with entries, the node is
// then handed a batch of one StorageAck for the last entry of the last such
// Persist, and its effects are carried out the same way.
//
// The trace hash is the SHA-256 of every effect batch in the order the
// core returned them, each as its node id (one byte), its length (four
// bytes, little-endian) and its bytes as package abi encodes them, which
// are the bytes raft.wasm returns.
package refsim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"strconv"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// Factory starts a core, as engine.New does for the native engine.
type Factory func(engine.Config, engine.Restored) (engine.Core, error)

// Run runs the reference simulation for steps steps from seed, with cores
// that factory starts, and returns its trace hash. An error means a core
// failed: the factory or Handle returned one, or a core emitted
// raft.EventCoreError.
func Run(seed uint64, steps int, factory func(engine.Config, engine.Restored) (engine.Core, error)) ([32]byte, error) {
	sum, _, err := run(seed, steps, factory)
	return sum, err
}

// Stats counts what happened in a run, to check that a trace means
// something: elections won, writes and reads answered.
type Stats struct {
	Batches    int
	Elected    int // StatusReports of a node that became leader
	WritesOK   int
	ReadsOK    int
	OtherReply int // final replies other than OK
	Delivered  int
	Dropped    int // by a drop step or a full queue
}

// maxQueue bounds the messages in flight: a Send to a full queue is
// dropped, as a network drops what its buffers cannot hold.
const maxQueue = 32

type inFlight struct {
	to  uint64
	msg []byte // as wire.AppendMessage writes it
}

type node struct {
	id      uint64
	core    engine.Core
	hs      raft.HardState
	entries []raft.Entry
	seq     uint64 // the last session sequence number used by client id
	leader  bool
}

type sim struct {
	rng         splitmix64
	nodes       [3]*node
	queue       []inFlight
	nextRequest uint64
	writes      map[uint64]bool // request ids of writes in flight
	h           hash.Hash
	buf         []byte
	stats       Stats
}

func run(seed uint64, steps int, factory Factory) ([32]byte, Stats, error) {
	s := &sim{rng: splitmix64(seed), nextRequest: 1, writes: map[uint64]bool{}, h: sha256.New()}
	for i := range s.nodes {
		id := uint64(i + 1)
		cfg := engine.Config{Raft: raft.Config{ID: id, Voters: []uint64{1, 2, 3}, ElectionTicks: 10,
			HeartbeatTicks: 1, Seed: s.rng.next()}}
		core, err := factory(cfg, engine.Restored{})
		if err != nil {
			return [32]byte{}, s.stats, errors.New("refsim: starting node " + u(id) + ": " + err.Error())
		}
		s.nodes[i] = &node{id: id, core: core}
	}
	for step := range steps {
		if err := s.step(step); err != nil {
			return [32]byte{}, s.stats, errors.New("refsim: seed " + u(seed) + " step " + strconv.Itoa(step) + ": " + err.Error())
		}
	}
	var sum [32]byte
	s.h.Sum(sum[:0])
	return sum, s.stats, nil
}

func (s *sim) pick() *node { return s.nodes[s.rng.next()%3] }

func (s *sim) key() string { return "k" + u(s.rng.next()%4) }

func (s *sim) step(step int) error {
	switch r := s.rng.next() % 100; {
	case r < 25:
		return s.handle(s.pick(), engine.Tick{})
	case r < 70:
		if len(s.queue) == 0 {
			return nil
		}
		return s.deliver(0)
	case r < 88:
		if len(s.queue) == 0 {
			return nil
		}
		return s.deliver(int(s.rng.next() % uint64(len(s.queue))))
	case r < 90:
		if len(s.queue) == 0 {
			return nil
		}
		i := int(s.rng.next() % uint64(len(s.queue)))
		s.queue = append(s.queue[:i], s.queue[i+1:]...)
		s.stats.Dropped++
		return nil
	case r < 97:
		n := s.pick()
		key := s.key()
		n.seq++
		id := s.request()
		s.writes[id] = true
		return s.handle(n, engine.Propose{RequestID: id, Command: kv.Command{ClientID: n.id, Seq: n.seq,
			Op: kv.OpSet, Key: key, Value: []byte("v" + strconv.Itoa(step))}})
	default:
		n := s.pick()
		key := s.key()
		return s.handle(n, engine.Read{RequestID: s.request(), Key: key})
	}
}

func (s *sim) request() uint64 {
	id := s.nextRequest
	s.nextRequest++
	return id
}

// deliver takes the queued message at i off the queue and hands it to its
// destination.
func (s *sim) deliver(i int) error {
	f := s.queue[i]
	s.queue = append(s.queue[:i], s.queue[i+1:]...)
	if f.to < 1 || f.to > 3 {
		return nil
	}
	m, err := wire.DecodeMessage(f.msg)
	if err != nil {
		return err
	}
	s.stats.Delivered++
	return s.handle(s.nodes[f.to-1], engine.Receive{Message: m})
}

// handle hands one input to n and carries out the effects, then the
// storage acknowledgement they call for, if any.
func (s *sim) handle(n *node, in engine.Input) error {
	for in != nil {
		effs, err := n.core.Handle([]engine.Input{in})
		if err != nil {
			return errors.New("node " + u(n.id) + ": " + err.Error())
		}
		s.buf = abi.AppendEffects(s.buf[:0], effs)
		var hdr [5]byte
		hdr[0] = byte(n.id)
		binary.LittleEndian.PutUint32(hdr[1:], uint32(len(s.buf)))
		s.h.Write(hdr[:])
		s.h.Write(s.buf)
		s.stats.Batches++
		in = nil
		for _, e := range effs {
			switch e := e.(type) {
			case engine.Persist:
				n.persist(e)
				if len(e.Entries) > 0 {
					last := e.Entries[len(e.Entries)-1]
					in = engine.StorageAck{Index: last.Index, Term: last.Term}
				}
			case engine.Send:
				if len(s.queue) >= maxQueue {
					s.stats.Dropped++ // the network's buffer is full
					continue
				}
				s.queue = append(s.queue, inFlight{to: e.Message.To, msg: wire.AppendMessage(nil, e.Message)})
			case engine.Reply:
				s.count(e)
			case engine.Emit:
				if e.Event.Kind == raft.EventCoreError {
					return errors.New("node " + u(n.id) + ": core error: " + e.Event.Text)
				}
			case engine.StatusReport:
				leader := e.Status.Role == raft.RoleLeader
				if leader && !n.leader {
					s.stats.Elected++
				}
				n.leader = leader
			}
		}
	}
	return nil
}

func (s *sim) count(r engine.Reply) {
	switch {
	case r.Code == engine.ReplyPending:
	case r.Code != engine.ReplyOK:
		s.stats.OtherReply++
	case s.writes[r.RequestID]:
		s.stats.WritesOK++
	default:
		s.stats.ReadsOK++
	}
	if r.Code != engine.ReplyPending {
		delete(s.writes, r.RequestID)
	}
}

// persist applies p to n's storage as docs/ABI.md says.
func (n *node) persist(p engine.Persist) {
	if len(p.Entries) > 0 {
		first := p.Entries[0].Index
		keep := 0
		for keep < len(n.entries) && n.entries[keep].Index < first {
			keep++
		}
		n.entries = append(n.entries[:keep], p.Entries...)
	}
	n.hs = p.HardState
}

// splitmix64 is Steele, Lea and Flood's SplitMix64 generator.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }
