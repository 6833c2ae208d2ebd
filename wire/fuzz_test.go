package wire_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// seedMessages are valid messages for the fuzzers' seed corpora.
var seedMessages = []raft.Message{
	{Type: raft.MsgVote, From: 1, To: 2, Term: 5, LogTerm: 4, Index: 10},
	{Type: raft.MsgPreVoteResp, From: 2, To: 1, Term: 6, Reject: true},
	{Type: raft.MsgApp, From: 1, To: 3, Term: 2, LogTerm: 1, Index: 4, Commit: 4,
		Entries: []raft.Entry{{Term: 2, Index: 5, Data: []byte("set x 1")}, {Term: 2, Index: 6, Type: raft.EntryNoop}}},
	{Type: raft.MsgAppResp, From: 3, To: 1, Term: 2, LogTerm: 1, Index: 9, Reject: true, RejectHint: 7},
	{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 1 << 40, Commit: 1<<64 - 1, Context: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	{Type: raft.MsgTransferLeader, From: 2, To: 1, Index: 3},
	{Type: raft.MsgApp, From: 1, To: 2, Term: 3, LogTerm: 3, Index: 7, Commit: 7,
		Entries: []raft.Entry{{Term: 3, Index: 8, Type: raft.EntryConfChange,
			Data: raft.EncodeConfChange(raft.ConfChange{Type: raft.ConfAddLearner, NodeID: 4, Addr: "n4:7000",
				Members: []raft.Member{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4, Learner: true, Addr: "n4:7000"}}})}}},
	{Type: raft.MsgSnap, From: 1, To: 4, Term: 3, LogTerm: 3, Index: 7, Commit: 8,
		Snapshot: &raft.SnapshotChunk{Meta: raft.SnapshotMeta{Index: 7, Term: 3,
			Members: []raft.Member{{ID: 1, Addr: "n1:7000"}, {ID: 4, Learner: true, Addr: "n4:7000"}}},
			Size: 10, Offset: 4, Data: []byte("snap")}},
	{Type: raft.MsgSnapResp, From: 4, To: 1, Term: 3, Index: 7, RejectHint: 8},
}

// FuzzDecodeMessage checks that DecodeMessage never panics and that a
// message it accepts re-encodes to the very same bytes.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range seedMessages {
		f.Add(wire.AppendMessage(nil, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.DecodeMessage(b)
		if err != nil {
			return
		}
		again := wire.AppendMessage(nil, m)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded: have % x, want % x", again, b)
		}
		m2, err := wire.DecodeMessage(again)
		if err != nil || !reflect.DeepEqual(m2, m) {
			t.Fatalf("decoded again: have %+v, %v, want %+v, nil", m2, err, m)
		}
	})
}

// fuzzRead is the body of the fuzzers of the Read* functions: no panic,
// and what decodes re-encodes to the same bytes and the same value.
func fuzzRead[V any](t *testing.T, b []byte, read func(*wire.Reader) V, app func([]byte, V) []byte) {
	r := wire.NewReader(b, "wire: fuzz")
	v := read(r)
	if r.Done() != nil {
		return
	}
	again := app(nil, v)
	if !bytes.Equal(again, b) {
		t.Fatalf("re-encoded: have % x, want % x", again, b)
	}
	r = wire.NewReader(again, "wire: fuzz")
	v2 := read(r)
	if err := r.Done(); err != nil || !reflect.DeepEqual(v2, v) {
		t.Fatalf("decoded again: have %+v, %v, want %+v, nil", v2, err, v)
	}
}

func FuzzReadEntries(f *testing.F) {
	for _, m := range seedMessages {
		f.Add(wire.AppendEntries(nil, m.Entries))
	}
	f.Add(wire.AppendEntries(nil, []raft.Entry{{Term: 1<<64 - 1, Index: 1 << 63, Data: make([]byte, 200)}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, func(r *wire.Reader) []raft.Entry { return wire.ReadEntries(r, wire.MaxEntries) }, wire.AppendEntries)
	})
}

func FuzzReadHardState(f *testing.F) {
	f.Add(wire.AppendHardState(nil, raft.HardState{}))
	f.Add(wire.AppendHardState(nil, raft.HardState{Term: 3, Vote: 2, Commit: 1000}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, wire.ReadHardState, wire.AppendHardState)
	})
}

func FuzzReadEvent(f *testing.F) {
	f.Add(wire.AppendEvent(nil, raft.Event{Kind: raft.EventElected, Term: 4, Text: "elected leader for term 4"}))
	f.Add(wire.AppendEvent(nil, raft.Event{Kind: raft.EventCommitted, Term: 4, Peer: 2, Index: 99}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, wire.ReadEvent, wire.AppendEvent)
	})
}

func FuzzReadSnapshotMeta(f *testing.F) {
	f.Add(wire.AppendSnapshotMeta(nil, raft.SnapshotMeta{}))
	f.Add(wire.AppendSnapshotMeta(nil, raft.SnapshotMeta{Index: 100, Term: 4,
		Members: []raft.Member{{ID: 1, Addr: "n1:7000"}, {ID: 2, Learner: true}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, wire.ReadSnapshotMeta, wire.AppendSnapshotMeta)
	})
}

func FuzzReadStatus(f *testing.F) {
	f.Add(wire.AppendStatus(nil, raft.Status{ID: 1, Role: raft.RoleLeader, Term: 3, Snapshot: 100, FirstIndex: 91,
		Voters: []uint64{1, 2}, Members: []raft.Member{{ID: 1, Addr: "a"}, {ID: 2, Addr: "b"}, {ID: 3, Learner: true, Addr: "c"}},
		Alive: 2, Progress: []raft.PeerStatus{
			{ID: 1, Match: 120, Next: 121, State: raft.ProgressReplicate, Active: true},
			{ID: 2, Match: 120, Next: 121, State: raft.ProgressReplicate, Active: true},
			{ID: 3, Learner: true, Next: 1, State: raft.ProgressSnapshot, Active: true, Inflight: 1},
		}}))
	f.Add(wire.AppendStatus(nil, raft.Status{ID: 2, Term: 3, Vote: 1, Leader: 1, Commit: 10, LastIndex: 10,
		LastTerm: 3, Stable: 10, Voters: []uint64{1, 2, 3}, Alive: 3, PreVote: true, CheckQuorum: true}))
	f.Add(wire.AppendStatus(nil, raft.Status{ID: 1, Role: raft.RoleLeader, Term: 3, Voters: []uint64{1, 2, 3}, Alive: 2,
		Progress: []raft.PeerStatus{
			{ID: 1, Match: 10, Next: 11, State: raft.ProgressReplicate, Active: true},
			{ID: 2, Match: 9, Next: 10, State: raft.ProgressReplicate, Active: true, Inflight: 1},
			{ID: 3, Next: 4},
		}, Transferee: 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, wire.ReadStatus, wire.AppendStatus)
	})
}
