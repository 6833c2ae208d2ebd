// Package wiretest provides rapid generators of the Raft protocol's values
// for property tests of their encodings. Every generated value is in the
// canonical form that decoding yields: empty slices are nil, enums hold
// known values, and sizes stay within the wire limits (and small, so tests
// run fast).
package wiretest

import (
	"github.com/wraft/wraft/raft"
	"pgregory.net/rapid"
)

// Bytes generates byte slices of up to max bytes, nil when empty.
func Bytes(max int) *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		p := rapid.SliceOfN(rapid.Byte(), 0, max).Draw(t, "bytes")
		if len(p) == 0 {
			return nil
		}
		return p
	})
}

// String generates strings of up to max bytes, arbitrary bytes included
// (not only valid UTF-8).
func String(max int) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		return string(rapid.SliceOfN(rapid.Byte(), 0, max).Draw(t, "string"))
	})
}

// MessageTypes lists every message type, in numeric order.
var MessageTypes = []raft.MessageType{
	raft.MsgVote, raft.MsgVoteResp, raft.MsgPreVote, raft.MsgPreVoteResp,
	raft.MsgApp, raft.MsgAppResp, raft.MsgHeartbeat, raft.MsgHeartbeatResp,
	raft.MsgProp, raft.MsgReadIndex, raft.MsgReadIndexResp, raft.MsgTimeoutNow,
	raft.MsgTransferLeader, raft.MsgSnap, raft.MsgSnapResp,
}

// Entry generates entries of every type with up to 64 bytes of Data.
func Entry() *rapid.Generator[raft.Entry] {
	return rapid.Custom(func(t *rapid.T) raft.Entry {
		return raft.Entry{
			Term:  rapid.Uint64().Draw(t, "term"),
			Index: rapid.Uint64().Draw(t, "index"),
			Type:  rapid.SampledFrom([]raft.EntryType{raft.EntryNormal, raft.EntryNoop, raft.EntryConfChange}).Draw(t, "type"),
			Data:  Bytes(64).Draw(t, "data"),
		}
	})
}

// Entries generates lists of up to max entries, nil when empty.
func Entries(max int) *rapid.Generator[[]raft.Entry] {
	return rapid.Custom(func(t *rapid.T) []raft.Entry {
		es := rapid.SliceOfN(Entry(), 0, max).Draw(t, "entries")
		if len(es) == 0 {
			return nil
		}
		return es
	})
}

// Members generates lists of up to max members, nil when empty. Ids and
// order are arbitrary: the encoding does not check them.
func Members(max int) *rapid.Generator[[]raft.Member] {
	return rapid.Custom(func(t *rapid.T) []raft.Member {
		n := rapid.IntRange(0, max).Draw(t, "members")
		var ms []raft.Member
		for range n {
			ms = append(ms, raft.Member{
				ID:      rapid.Uint64().Draw(t, "member.id"),
				Learner: rapid.Bool().Draw(t, "member.learner"),
				Addr:    String(16).Draw(t, "member.addr"),
			})
		}
		return ms
	})
}

// SnapshotMeta generates snapshot metadata with up to 5 members.
func SnapshotMeta() *rapid.Generator[raft.SnapshotMeta] {
	return rapid.Custom(func(t *rapid.T) raft.SnapshotMeta {
		return raft.SnapshotMeta{
			Index:   rapid.Uint64().Draw(t, "meta.index"),
			Term:    rapid.Uint64().Draw(t, "meta.term"),
			Members: Members(5).Draw(t, "meta.members"),
		}
	})
}

// SnapshotChunk generates snapshot chunks with up to 64 bytes of Data;
// Size and Offset are arbitrary.
func SnapshotChunk() *rapid.Generator[*raft.SnapshotChunk] {
	return rapid.Custom(func(t *rapid.T) *raft.SnapshotChunk {
		return &raft.SnapshotChunk{
			Meta:   SnapshotMeta().Draw(t, "meta"),
			Size:   rapid.Uint64().Draw(t, "size"),
			Offset: rapid.Uint64().Draw(t, "offset"),
			Data:   Bytes(64).Draw(t, "data"),
		}
	})
}

// Message generates messages of every type, every field drawn at random;
// a MsgSnap, and only a MsgSnap, carries a snapshot chunk.
func Message() *rapid.Generator[raft.Message] {
	return rapid.Custom(func(t *rapid.T) raft.Message {
		m := raft.Message{
			Type:       rapid.SampledFrom(MessageTypes).Draw(t, "type"),
			From:       rapid.Uint64().Draw(t, "from"),
			To:         rapid.Uint64().Draw(t, "to"),
			Term:       rapid.Uint64().Draw(t, "term"),
			LogTerm:    rapid.Uint64().Draw(t, "logTerm"),
			Index:      rapid.Uint64().Draw(t, "index"),
			Commit:     rapid.Uint64().Draw(t, "commit"),
			Reject:     rapid.Bool().Draw(t, "reject"),
			RejectHint: rapid.Uint64().Draw(t, "rejectHint"),
			Entries:    Entries(4).Draw(t, "entries"),
			Context:    Bytes(32).Draw(t, "context"),
		}
		if m.Type == raft.MsgSnap {
			m.Snapshot = SnapshotChunk().Draw(t, "snapshot")
		}
		return m
	})
}

// HardState generates hard states.
func HardState() *rapid.Generator[raft.HardState] {
	return rapid.Custom(func(t *rapid.T) raft.HardState {
		return raft.HardState{
			Term:   rapid.Uint64().Draw(t, "term"),
			Vote:   rapid.Uint64().Draw(t, "vote"),
			Commit: rapid.Uint64().Draw(t, "commit"),
		}
	})
}

// Event generates events of any kind, known or not.
func Event() *rapid.Generator[raft.Event] {
	return rapid.Custom(func(t *rapid.T) raft.Event {
		return raft.Event{
			Kind:  raft.EventKind(rapid.Byte().Draw(t, "kind")),
			Term:  rapid.Uint64().Draw(t, "term"),
			Peer:  rapid.Uint64().Draw(t, "peer"),
			Index: rapid.Uint64().Draw(t, "index"),
			Text:  String(64).Draw(t, "text"),
		}
	})
}

// Status generates statuses with up to 7 voters and progress records.
func Status() *rapid.Generator[raft.Status] {
	return rapid.Custom(func(t *rapid.T) raft.Status {
		s := raft.Status{
			ID:          rapid.Uint64().Draw(t, "id"),
			Role:        raft.Role(rapid.IntRange(0, int(raft.RoleLeader)).Draw(t, "role")),
			Term:        rapid.Uint64().Draw(t, "term"),
			Vote:        rapid.Uint64().Draw(t, "vote"),
			Leader:      rapid.Uint64().Draw(t, "leader"),
			Commit:      rapid.Uint64().Draw(t, "commit"),
			LastIndex:   rapid.Uint64().Draw(t, "lastIndex"),
			LastTerm:    rapid.Uint64().Draw(t, "lastTerm"),
			Stable:      rapid.Uint64().Draw(t, "stable"),
			Snapshot:    rapid.Uint64().Draw(t, "snapshot"),
			FirstIndex:  rapid.Uint64().Draw(t, "firstIndex"),
			Members:     Members(7).Draw(t, "members"),
			Voters:      rapid.SliceOfN(rapid.Uint64(), 0, 7).Draw(t, "voters"),
			Alive:       rapid.Int().Draw(t, "alive"),
			Transferee:  rapid.Uint64().Draw(t, "transferee"),
			PreVote:     rapid.Bool().Draw(t, "preVote"),
			CheckQuorum: rapid.Bool().Draw(t, "checkQuorum"),
		}
		if len(s.Voters) == 0 {
			s.Voters = nil
		}
		n := rapid.IntRange(0, 7).Draw(t, "progress")
		for range n {
			s.Progress = append(s.Progress, raft.PeerStatus{
				ID:       rapid.Uint64().Draw(t, "peer.id"),
				Learner:  rapid.Bool().Draw(t, "peer.learner"),
				Match:    rapid.Uint64().Draw(t, "peer.match"),
				Next:     rapid.Uint64().Draw(t, "peer.next"),
				State:    raft.ProgressState(rapid.IntRange(0, int(raft.ProgressSnapshot)).Draw(t, "peer.state")),
				Active:   rapid.Bool().Draw(t, "peer.active"),
				Inflight: rapid.Int().Draw(t, "peer.inflight"),
			})
		}
		return s
	})
}
