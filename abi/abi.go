// Package abi is the binary encoding of what crosses the boundary between
// raft.wasm and its hosts: batches of engine inputs, batches of engine
// effects, and the init record that starts an engine. docs/ABI.md
// describes every byte; the TypeScript host mirrors it, and the test
// vectors in testdata/vectors/abi.json keep the two in step.
//
// A batch is a version byte, a uvarint count, and that many items, each a
// one-byte tag followed by its fields. Fields use the primitives of package
// wire (uvarints, zigzag ints, bools, length-prefixed bytes). Raft messages
// and kv commands are embedded as length-prefixed frames holding exactly
// what wire.AppendMessage and kv.AppendCommand write, so a host can pass a
// message's bytes to the network without decoding them.
//
// Decoders never panic and return errors wrapping the sentinels of package
// wire (wire.ErrTruncated, wire.ErrTooLarge, wire.ErrVersion,
// wire.ErrInvalid). Encoders panic on an Input or Effect of a type they do
// not know, such as nil or a pointer: that is a programming error.
package abi

// Version is the format version written as the first byte of every batch
// and init record.
const Version = 1

// Limits enforced by the decoders, besides those of packages wire and kv.
const (
	// MaxBatchItems is the largest number of items in one batch of inputs
	// or effects.
	MaxBatchItems = 1 << 20
	// MaxInitEntries is the largest number of restored entries in an init
	// record.
	MaxInitEntries = 1 << 24
	// MaxSnapshotBytes is the largest snapshot Data in an init record or a
	// SaveSnapshot effect. The bytes that remain bound it too, so a short
	// input never makes a decoder allocate more than it holds.
	MaxSnapshotBytes = 1 << 30
)

// Input tags: the first byte of each item of an inputs batch.
const (
	tagTick       = 1
	tagReceive    = 2
	tagPropose    = 3
	tagRead       = 4
	tagStorageAck = 5
	tagTransfer   = 6
	tagChange     = 7
	tagMalformed  = 8
)

// Effect tags: the first byte of each item of an effects batch.
const (
	tagPersist      = 1
	tagSend         = 2
	tagReply        = 3
	tagEmit         = 4
	tagStatusReport = 5
	tagSaveSnapshot = 6
)
