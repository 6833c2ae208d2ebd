package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
)

// tracer hashes every node's effect batches, in the order the cores
// returned them, into the run's trace hash. Two runs of one seed through
// cores that behave the same give the same hash, whatever the cores are
// made of.
type tracer struct {
	h   hash.Hash
	buf []byte
}

func newTracer() *tracer { return &tracer{h: sha256.New()} }

// add hashes one batch node returned.
func (t *tracer) add(node uint64, effs []engine.Effect) {
	t.buf = binary.BigEndian.AppendUint64(t.buf[:0], node)
	t.buf = appendEffects(t.buf, effs)
	t.h.Write(t.buf)
}

// sum returns the hash of everything added so far.
func (t *tracer) sum() [32]byte {
	var s [32]byte
	t.h.Sum(s[:0])
	return s
}

// appendEffects is the one encoding of effect batches the trace hash
// depends on: the ABI's, so that a trace means the same bytes a wasm core
// hands its host.
func appendEffects(b []byte, effs []engine.Effect) []byte { return abi.AppendEffects(b, effs) }
