package abi

import (
	"slices"
	"strconv"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// AppendInputs appends the encoding of a batch of inputs: u8 version,
// uvarint count, then for each input its tag and fields:
//
//	1 Tick:       (nothing)
//	2 Receive:    frame(message)
//	3 Propose:    uvarint requestID, frame(command)
//	4 Read:       uvarint requestID, string key, bool stale
//	5 StorageAck: uvarint index, uvarint term
//	6 Transfer:   uvarint to
//	7 ChangeMembers: uvarint requestID, frame(confChange)
//
// where frame(x) is a uvarint length followed by x, message is what
// wire.AppendMessage writes, command what kv.AppendCommand writes and
// confChange what raft.EncodeConfChange writes. It
// panics on an input of any other type (a nil Input or a pointer).
func AppendInputs(b []byte, in []engine.Input) []byte {
	b = append(b, Version)
	b = wire.AppendUvarint(b, uint64(len(in)))
	for _, x := range in {
		switch x := x.(type) {
		case engine.Tick:
			b = append(b, tagTick)
		case engine.Receive:
			b = append(b, tagReceive)
			b = wire.AppendFrame(b, func(b []byte) []byte { return wire.AppendMessage(b, x.Message) })
		case engine.Propose:
			b = append(b, tagPropose)
			b = wire.AppendUvarint(b, x.RequestID)
			b = wire.AppendFrame(b, func(b []byte) []byte { return kv.AppendCommand(b, x.Command) })
		case engine.Read:
			b = append(b, tagRead)
			b = wire.AppendUvarint(b, x.RequestID)
			b = wire.AppendString(b, x.Key)
			b = wire.AppendBool(b, x.Stale)
		case engine.StorageAck:
			b = append(b, tagStorageAck)
			b = wire.AppendUvarint(b, x.Index)
			b = wire.AppendUvarint(b, x.Term)
		case engine.Transfer:
			b = append(b, tagTransfer)
			b = wire.AppendUvarint(b, x.To)
		case engine.ChangeMembers:
			b = append(b, tagChange)
			b = wire.AppendUvarint(b, x.RequestID)
			b = wire.AppendBytes(b, raft.EncodeConfChange(x.Change))
		default:
			panic("abi: AppendInputs: unknown input type")
		}
	}
	return b
}

// DecodeInputs decodes a batch that AppendInputs encoded, which must fill b
// exactly. It refuses an unknown version or tag, more than MaxBatchItems
// items, a message or command that its own decoder refuses (or whose frame
// it does not fill exactly), a message frame over wire.MaxMessageBytes, a
// Read key over kv.MaxKeyBytes, and a configuration change of an unknown
// type, with an address over wire.MaxAddrBytes or with members that
// wire.ReadMembers refuses. A change's members are not otherwise checked:
// a proposer leaves them empty. An empty batch decodes as nil. The inputs
// share no memory with b.
func DecodeInputs(b []byte) ([]engine.Input, error) {
	in, err := DecodeInputsTo(nil, b)
	if len(in) == 0 {
		return nil, err
	}
	return in, err
}

// DecodeInputsTo is DecodeInputs appending to dst[:0], so that a caller
// that decodes batch after batch reuses one slice: raft.wasm does, once
// per wraft_handle. On error it returns an empty slice and the error.
// Only the slice is reused: each input, and every byte slice and string in
// it, is new and shares no memory with dst's old contents or with b, so
// the engine may keep them. The caller should clear the slice once done
// with the inputs, to drop its references to them.
func DecodeInputsTo(dst []engine.Input, b []byte) ([]engine.Input, error) {
	r := wire.NewReader(b, "abi: inputs")
	r.Version(Version)
	n := r.Count("batch", MaxBatchItems, 1)
	in := slices.Grow(dst[:0], n)
	for range n {
		x := readInput(r)
		if r.Err() != nil {
			break
		}
		in = append(in, x)
	}
	if err := r.Done(); err != nil {
		clear(in)
		return in[:0], err
	}
	return in, nil
}

func readInput(r *wire.Reader) engine.Input {
	at := r.Offset()
	switch tag := r.Byte(); tag {
	case tagTick:
		return engine.Tick{}
	case tagReceive:
		return engine.Receive{Message: readMessageFrame(r)}
	case tagPropose:
		var p engine.Propose
		p.RequestID = r.Uvarint()
		outer := r.BeginFrame("command", wire.MaxMessageBytes)
		p.Command = kv.ReadCommand(r)
		r.EndFrame(outer)
		return p
	case tagRead:
		var x engine.Read
		x.RequestID = r.Uvarint()
		x.Key = r.String("key", kv.MaxKeyBytes)
		x.Stale = r.Bool()
		return x
	case tagStorageAck:
		var x engine.StorageAck
		x.Index = r.Uvarint()
		x.Term = r.Uvarint()
		return x
	case tagTransfer:
		return engine.Transfer{To: r.Uvarint()}
	case tagChange:
		var x engine.ChangeMembers
		x.RequestID = r.Uvarint()
		outer := r.BeginFrame("configuration change", wire.MaxMessageBytes)
		x.Change = readConfChange(r)
		r.EndFrame(outer)
		return x
	default:
		r.Invalid(at, "has unknown input tag "+strconv.Itoa(int(tag)))
		return nil
	}
}

// readMessageFrame reads a frame holding exactly one framed message.
func readMessageFrame(r *wire.Reader) (m raft.Message) {
	outer := r.BeginFrame("message", wire.MaxMessageBytes)
	m = wire.ReadMessage(r)
	r.EndFrame(outer)
	return m
}

// readConfChange reads what raft.EncodeConfChange writes. It does not use
// raft.DecodeConfChange, which requires a configuration with a voter: the
// change a host proposes carries no members (the leader fills them in).
func readConfChange(r *wire.Reader) raft.ConfChange {
	var cc raft.ConfChange
	at := r.Offset()
	cc.Type = raft.ConfChangeType(r.Byte())
	if r.Err() == nil && cc.Type.String() == "unknown" {
		r.Invalid(at, "has unknown configuration change type "+strconv.Itoa(int(cc.Type)))
	}
	cc.NodeID = r.Uvarint()
	cc.Addr = r.String("member address", wire.MaxAddrBytes)
	cc.Members = wire.ReadMembers(r)
	return cc
}
