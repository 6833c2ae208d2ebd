package abi

import (
	"strconv"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/wire"
)

// AppendEffects appends the encoding of a batch of effects: u8 version,
// uvarint count, then for each effect its tag and fields:
//
//	1 Persist:      hardState, entries
//	2 Send:         frame(message)
//	3 Reply:        uvarint requestID, u8 code, uvarint index, uvarint term,
//	                int acks, int voters, int alive, uvarint leader,
//	                bool found, bytes value, bool ok, string error
//	4 Emit:         event
//	5 StatusReport: status, uvarint applied, int keys, int pending
//	6 SaveSnapshot: snapshot meta, bytes data, bool keepLog
//
// where hardState, entries, event, status and snapshot meta are as
// wire.AppendHardState, wire.AppendEntries, wire.AppendEvent,
// wire.AppendStatus and wire.AppendSnapshotMeta write them,
// and frame(message) is a uvarint length followed by what
// wire.AppendMessage writes. It panics on an effect of any other type.
func AppendEffects(b []byte, effs []engine.Effect) []byte {
	b = append(b, Version)
	b = wire.AppendUvarint(b, uint64(len(effs)))
	for _, e := range effs {
		switch e := e.(type) {
		case engine.Persist:
			b = append(b, tagPersist)
			b = wire.AppendHardState(b, e.HardState)
			b = wire.AppendEntries(b, e.Entries)
		case engine.Send:
			b = append(b, tagSend)
			b = wire.AppendFrame(b, func(b []byte) []byte { return wire.AppendMessage(b, e.Message) })
		case engine.Reply:
			b = append(b, tagReply)
			b = appendReply(b, e)
		case engine.Emit:
			b = append(b, tagEmit)
			b = wire.AppendEvent(b, e.Event)
		case engine.StatusReport:
			b = append(b, tagStatusReport)
			b = wire.AppendStatus(b, e.Status.Status)
			b = wire.AppendUvarint(b, e.Status.Applied)
			b = wire.AppendInt(b, e.Status.Keys)
			b = wire.AppendInt(b, e.Status.Pending)
		case engine.SaveSnapshot:
			b = append(b, tagSaveSnapshot)
			b = wire.AppendSnapshotMeta(b, e.Snapshot.Meta)
			b = wire.AppendBytes(b, e.Snapshot.Data)
			b = wire.AppendBool(b, e.KeepLog)
		default:
			panic("abi: AppendEffects: unknown effect type")
		}
	}
	return b
}

func appendReply(b []byte, x engine.Reply) []byte {
	b = wire.AppendUvarint(b, x.RequestID)
	b = append(b, byte(x.Code))
	b = wire.AppendUvarint(b, x.Index)
	b = wire.AppendUvarint(b, x.Term)
	b = wire.AppendInt(b, x.Acks)
	b = wire.AppendInt(b, x.Voters)
	b = wire.AppendInt(b, x.Alive)
	b = wire.AppendUvarint(b, x.Leader)
	b = wire.AppendBool(b, x.Found)
	b = wire.AppendBytes(b, x.Value)
	b = wire.AppendBool(b, x.OK)
	return wire.AppendString(b, x.Error)
}

// DecodeEffects decodes a batch that AppendEffects encoded, which must fill
// b exactly. It refuses an unknown version, tag, entry type, message type,
// reply code, role or progress state; more than MaxBatchItems items; more
// than wire.MaxEntries entries in a Persist; a message its decoder refuses;
// a reply value over kv.MaxValueBytes; texts over wire.MaxTextBytes; and
// snapshot data over MaxSnapshotBytes.
// An empty batch decodes as nil. The effects share no memory with b.
func DecodeEffects(b []byte) ([]engine.Effect, error) {
	r := wire.NewReader(b, "abi: effects")
	r.Version(Version)
	n := r.Count("batch", MaxBatchItems, 1)
	var effs []engine.Effect
	if n > 0 {
		effs = make([]engine.Effect, 0, n)
	}
	for range n {
		e := readEffect(r)
		if r.Err() != nil {
			break
		}
		effs = append(effs, e)
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return effs, nil
}

func readEffect(r *wire.Reader) engine.Effect {
	at := r.Offset()
	switch tag := r.Byte(); tag {
	case tagPersist:
		var p engine.Persist
		p.HardState = wire.ReadHardState(r)
		p.Entries = wire.ReadEntries(r, wire.MaxEntries)
		return p
	case tagSend:
		return engine.Send{Message: readMessageFrame(r)}
	case tagReply:
		return readReply(r)
	case tagEmit:
		return engine.Emit{Event: wire.ReadEvent(r)}
	case tagStatusReport:
		var s engine.Status
		s.Status = wire.ReadStatus(r)
		s.Applied = r.Uvarint()
		s.Keys = r.Int()
		s.Pending = r.Int()
		return engine.StatusReport{Status: s}
	case tagSaveSnapshot:
		var x engine.SaveSnapshot
		x.Snapshot.Meta = wire.ReadSnapshotMeta(r)
		x.Snapshot.Data = r.Bytes("snapshot data", MaxSnapshotBytes)
		x.KeepLog = r.Bool()
		return x
	default:
		r.Invalid(at, "has unknown effect tag "+strconv.Itoa(int(tag)))
		return nil
	}
}

func readReply(r *wire.Reader) engine.Reply {
	var x engine.Reply
	x.RequestID = r.Uvarint()
	at := r.Offset()
	x.Code = engine.ReplyCode(r.Byte())
	if r.Err() == nil && x.Code > engine.ReplySessionConflict {
		r.Invalid(at, "has unknown reply code "+strconv.Itoa(int(x.Code)))
	}
	x.Index = r.Uvarint()
	x.Term = r.Uvarint()
	x.Acks = r.Int()
	x.Voters = r.Int()
	x.Alive = r.Int()
	x.Leader = r.Uvarint()
	x.Found = r.Bool()
	x.Value = r.Bytes("reply value", kv.MaxValueBytes)
	x.OK = r.Bool()
	x.Error = r.String("reply error", wire.MaxTextBytes)
	return x
}
