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
//	8 Malformed:  bool request, uvarint requestID, string err
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
		case engine.Malformed:
			b = append(b, tagMalformed)
			b = wire.AppendBool(b, x.Request)
			b = wire.AppendUvarint(b, x.RequestID)
			b = wire.AppendString(b, x.Err)
		default:
			panic("abi: AppendInputs: unknown input type")
		}
	}
	return b
}

// DecodeInputs decodes a batch that AppendInputs encoded, which must fill b
// exactly. An error means the batch's framing is broken: an unknown
// version or tag, more than MaxBatchItems items, a field outside a frame
// that does not decode (a truncated uvarint, an invalid bool), a frame
// longer than what remains, or trailing bytes. An empty batch decodes as
// nil. The inputs share no memory with b.
//
// One bad input never costs its batch. The decoder checks no limit that
// the engine checks: a Read's key and a Propose's command of any size, and
// any op, decode as they are, and the engine answers them with the error
// of engine.Validate (the same answer a natively linked engine gives). A
// Receive, Propose or ChangeMembers whose frame is intact but whose
// contents do not decode (a message that wire.ReadMessage refuses, a
// command of an unknown version, a truncated configuration change)
// decodes as an engine.Malformed carrying the decoder's error, which
// the engine answers or reports. A change's members are read but not
// checked: a proposer leaves them empty. A Malformed's Err is at most
// wire.MaxTextBytes long.
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

// anySize is the length limit of the fields whose limits the engine
// checks: the bytes that remain bound them anyway.
const anySize = 1<<31 - 1

func readInput(r *wire.Reader) engine.Input {
	at := r.Offset()
	switch tag := r.Byte(); tag {
	case tagTick:
		return engine.Tick{}
	case tagReceive:
		f := r.Frame("message", anySize, "abi: message")
		m := wire.ReadMessage(&f)
		if err := f.Done(); err != nil {
			return engine.Malformed{Err: "dropped a message that does not decode: " + err.Error()}
		}
		return engine.Receive{Message: m}
	case tagPropose:
		id := r.Uvarint()
		f := r.Frame("command", anySize, "abi: command")
		c := kv.ReadCommandUnchecked(&f)
		if err := f.Done(); err != nil {
			return malformed(id, err)
		}
		return engine.Propose{RequestID: id, Command: c}
	case tagRead:
		var x engine.Read
		x.RequestID = r.Uvarint()
		x.Key = r.String("key", anySize)
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
		id := r.Uvarint()
		f := r.Frame("configuration change", anySize, "abi: configuration change")
		cc := readConfChange(&f)
		if err := f.Done(); err != nil {
			return malformed(id, err)
		}
		return engine.ChangeMembers{RequestID: id, Change: cc}
	case tagMalformed:
		var x engine.Malformed
		x.Request = r.Bool()
		x.RequestID = r.Uvarint()
		x.Err = r.String("error", wire.MaxTextBytes)
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

// malformed is the Malformed for request id whose frame held err.
func malformed(id uint64, err error) engine.Malformed {
	return engine.Malformed{Request: true, RequestID: id, Err: err.Error()}
}

// readConfChange reads what raft.EncodeConfChange writes, addresses of any
// length and changes of any type included (the engine checks them). It does not use
// raft.DecodeConfChange, which requires a configuration with a voter: the
// change a host proposes carries no members (the leader fills them in).
func readConfChange(r *wire.Reader) raft.ConfChange {
	var cc raft.ConfChange
	// Any type: the leader refuses a change it does not propose.
	cc.Type = raft.ConfChangeType(r.Byte())
	cc.NodeID = r.Uvarint()
	cc.Addr = r.String("member address", anySize)
	// A member takes 3 bytes or more: id, learner, address length.
	n := r.Count("members", anySize, 3)
	if n > 0 {
		cc.Members = make([]raft.Member, n)
		for i := range cc.Members {
			cc.Members[i] = raft.Member{ID: r.Uvarint(), Learner: r.Bool(), Addr: r.String("member address", anySize)}
		}
	}
	if r.Err() != nil {
		return raft.ConfChange{}
	}
	return cc
}
