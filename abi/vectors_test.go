package abi_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

var update = flag.Bool("update", false, "rewrite "+vectorsPath+" from the vectors in vectors_test.go")

// vectorsPath is the shared test vector file, which the TypeScript mirror
// of the encoding reads too.
const vectorsPath = "../testdata/vectors/abi.json"

// vector is one encoded value. Kind says which encoding: "inputs",
// "effects", "init", "message" or "command".
type vector struct {
	name  string
	kind  string
	value any // []engine.Input, []engine.Effect, initRecord, raft.Message or kv.Command
}

type initRecord struct {
	cfg engine.Config
	rs  engine.Restored
}

func (v vector) encode() []byte {
	switch x := v.value.(type) {
	case []engine.Input:
		return abi.AppendInputs(nil, x)
	case []engine.Effect:
		return abi.AppendEffects(nil, x)
	case initRecord:
		return abi.AppendInit(nil, x.cfg, x.rs)
	case raft.Message:
		return wire.AppendMessage(nil, x)
	case kv.Command:
		return kv.AppendCommand(nil, x)
	}
	panic("vector " + v.name + ": unknown value type")
}

// decode decodes b as v's kind.
func (v vector) decode(b []byte) (any, error) {
	switch v.kind {
	case "inputs":
		return abi.DecodeInputs(b)
	case "effects":
		return abi.DecodeEffects(b)
	case "init":
		cfg, rs, err := abi.DecodeInit(b)
		return initRecord{cfg, rs}, err
	case "message":
		return wire.DecodeMessage(b)
	case "command":
		return kv.DecodeCommand(b)
	}
	panic("vector " + v.name + ": unknown kind " + v.kind)
}

const maxU64 = math.MaxUint64

// vectors lists the shared test vectors: every input, effect, message type
// and op, and the edge cases (empty batches, extreme values, nil and empty
// byte slices, which encode alike).
func vectors() []vector {
	var vs []vector
	add := func(name, kind string, value any) { vs = append(vs, vector{name, kind, value}) }

	// Messages: one of each type, then edge cases.
	app := raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 7, Commit: 6,
		Entries: []raft.Entry{
			{Term: 3, Index: 8, Type: raft.EntryNoop},
			{Term: 3, Index: 9, Data: kv.AppendCommand(nil, kv.Command{ClientID: 1, Seq: 1, Op: kv.OpSet, Key: "x", Value: []byte("1")})},
		}}
	members := []raft.Member{{ID: 1, Addr: "10.0.0.1:7001"}, {ID: 2, Addr: "10.0.0.2:7001"}, {ID: 3, Addr: "10.0.0.3:7001"},
		{ID: 4, Learner: true, Addr: "10.0.0.4:7001"}}
	snap := raft.Message{Type: raft.MsgSnap, From: 1, To: 4, Term: 3, LogTerm: 3, Index: 120, Commit: 125,
		Snapshot: &raft.SnapshotChunk{Meta: raft.SnapshotMeta{Index: 120, Term: 3, Members: members},
			Size: 10, Offset: 4, Data: []byte("chunk!")}}
	for _, m := range []raft.Message{
		{Type: raft.MsgVote, From: 1, To: 2, Term: 4, LogTerm: 3, Index: 10},
		{Type: raft.MsgVoteResp, From: 2, To: 1, Term: 4},
		{Type: raft.MsgPreVote, From: 3, To: 1, Term: 5, LogTerm: 3, Index: 10},
		{Type: raft.MsgPreVoteResp, From: 1, To: 3, Term: 5, Reject: true},
		app,
		{Type: raft.MsgAppResp, From: 2, To: 1, Term: 3, Index: 9},
		{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 3, Commit: 9, Context: []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{Type: raft.MsgHeartbeatResp, From: 2, To: 1, Term: 3, Context: []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{Type: raft.MsgProp, From: 2, To: 1, Term: 3, Entries: []raft.Entry{
			{Data: kv.AppendCommand(nil, kv.Command{Op: kv.OpDel, Key: "y"})}}},
		{Type: raft.MsgReadIndex, From: 3, To: 1, Term: 3, Context: []byte("read-17")},
		{Type: raft.MsgReadIndexResp, From: 1, To: 3, Term: 3, Index: 9, Context: []byte("read-17")},
		{Type: raft.MsgTimeoutNow, From: 1, To: 2, Term: 3},
		{Type: raft.MsgTransferLeader, From: 3, To: 1, Term: 3, Index: 2},
		snap,
		{Type: raft.MsgSnapResp, From: 4, To: 1, Term: 3, Index: 120, RejectHint: 4},
	} {
		add("message "+m.Type.String(), "message", m)
	}
	add("message app rejected with hint", "message",
		raft.Message{Type: raft.MsgAppResp, From: 2, To: 1, Term: 3, LogTerm: 2, Index: 7, Reject: true, RejectHint: 5})
	add("message zero fields", "message", raft.Message{Type: raft.MsgHeartbeat})
	add("message max values", "message", raft.Message{Type: raft.MsgApp, From: maxU64, To: maxU64, Term: maxU64,
		LogTerm: maxU64, Index: maxU64, Commit: maxU64, Reject: true, RejectHint: maxU64,
		Entries: []raft.Entry{{Term: maxU64, Index: maxU64, Type: raft.EntryNoop}}})
	add("message uvarint boundaries", "message", raft.Message{Type: raft.MsgVote, From: 127, To: 128,
		Term: 16383, LogTerm: 16384, Index: 1<<32 - 1, Commit: 1 << 53})
	add("message context at limit", "message", raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2,
		Context: bytes.Repeat([]byte{0x5a}, wire.MaxContextBytes)})
	add("message entry data nil", "message", raft.Message{Type: raft.MsgApp, Entries: []raft.Entry{{Term: 1, Index: 1}}})
	add("message entry data empty (same bytes as nil)", "message",
		raft.Message{Type: raft.MsgApp, Entries: []raft.Entry{{Term: 1, Index: 1, Data: []byte{}}}})
	add("message entries empty (same bytes as nil)", "message",
		raft.Message{Type: raft.MsgApp, Entries: []raft.Entry{}, Context: []byte{}})
	add("message conf change entry", "message", raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 3, LogTerm: 3,
		Index: 9, Commit: 9, Entries: []raft.Entry{{Term: 3, Index: 10, Type: raft.EntryConfChange,
			Data: raft.EncodeConfChange(raft.ConfChange{Type: raft.ConfAddLearner, NodeID: 4, Addr: "10.0.0.4:7001", Members: members})}}})
	add("message snap first chunk, no members, no data", "message", raft.Message{Type: raft.MsgSnap, From: 1, To: 2, Term: 1,
		LogTerm: 1, Index: 1, Snapshot: &raft.SnapshotChunk{Meta: raft.SnapshotMeta{Index: 1, Term: 1}}})
	add("message snap max values", "message", raft.Message{Type: raft.MsgSnap, From: maxU64, To: maxU64, Term: maxU64,
		LogTerm: maxU64, Index: maxU64, Commit: maxU64, Snapshot: &raft.SnapshotChunk{
			Meta: raft.SnapshotMeta{Index: maxU64, Term: maxU64, Members: []raft.Member{{ID: maxU64, Learner: true,
				Addr: strings.Repeat("a", wire.MaxAddrBytes)}}},
			Size: maxU64, Offset: maxU64, Data: []byte{0xff}}})

	// Commands: every op, then edge cases.
	add("command set", "command", kv.Command{ClientID: 7, Seq: 1, Op: kv.OpSet, Key: "greeting", Value: []byte("hello")})
	add("command get", "command", kv.Command{ClientID: 7, Seq: 2, Op: kv.OpGet, Key: "greeting"})
	add("command del", "command", kv.Command{ClientID: 7, Seq: 3, Op: kv.OpDel, Key: "greeting"})
	add("command cas", "command", kv.Command{ClientID: 7, Seq: 4, Op: kv.OpCAS, Key: "n", Value: []byte("2"), Expect: []byte("1")})
	add("command cas expect missing", "command", kv.Command{ClientID: 7, Seq: 5, Op: kv.OpCAS, Key: "n", Value: []byte("1"), ExpectMissing: true})
	add("command without session", "command", kv.Command{Op: kv.OpSet, Key: "k", Value: []byte("v")})
	add("command set value nil", "command", kv.Command{Op: kv.OpSet, Key: "k"})
	add("command set value empty (same bytes as nil)", "command", kv.Command{Op: kv.OpSet, Key: "k", Value: []byte{}})
	add("command unicode key", "command", kv.Command{Op: kv.OpSet, Key: "clé-日本", Value: []byte{0, 0xff}})
	add("command max values", "command", kv.Command{ClientID: maxU64, Seq: maxU64, Op: kv.OpCAS,
		Key: strings.Repeat("k", kv.MaxKeyBytes), Value: []byte("v"), Expect: []byte("e")})

	// Inputs.
	add("inputs empty batch", "inputs", []engine.Input(nil))
	add("inputs empty non-nil batch (same bytes as nil)", "inputs", []engine.Input{})
	add("inputs tick", "inputs", []engine.Input{engine.Tick{}})
	add("inputs three ticks", "inputs", []engine.Input{engine.Tick{}, engine.Tick{}, engine.Tick{}})
	add("inputs receive", "inputs", []engine.Input{engine.Receive{Message: app}})
	for _, c := range []kv.Command{
		{ClientID: 9, Seq: 1, Op: kv.OpSet, Key: "a", Value: []byte("alpha")},
		{ClientID: 9, Seq: 2, Op: kv.OpGet, Key: "a"},
		{ClientID: 9, Seq: 3, Op: kv.OpDel, Key: "a"},
		{ClientID: 9, Seq: 4, Op: kv.OpCAS, Key: "a", Value: []byte("beta"), Expect: []byte("alpha")},
	} {
		add("inputs propose "+strings.ToLower(c.Op.String()), "inputs", []engine.Input{engine.Propose{RequestID: 100 + c.Seq, Command: c}})
	}
	add("inputs read", "inputs", []engine.Input{engine.Read{RequestID: 200, Key: "a"}})
	add("inputs read stale", "inputs", []engine.Input{engine.Read{RequestID: 201, Key: "a", Stale: true}})
	add("inputs storage ack", "inputs", []engine.Input{engine.StorageAck{Index: 9, Term: 3}})
	add("inputs transfer", "inputs", []engine.Input{engine.Transfer{To: 2}})
	add("inputs change members add learner", "inputs", []engine.Input{engine.ChangeMembers{RequestID: 300,
		Change: raft.ConfChange{Type: raft.ConfAddLearner, NodeID: 4, Addr: "10.0.0.4:7001"}}})
	add("inputs change members promote", "inputs", []engine.Input{engine.ChangeMembers{RequestID: 301,
		Change: raft.ConfChange{Type: raft.ConfPromote, NodeID: 4}}})
	add("inputs change members add voter", "inputs", []engine.Input{engine.ChangeMembers{RequestID: 302,
		Change: raft.ConfChange{Type: raft.ConfAddVoter, NodeID: 5, Addr: "n5"}}})
	add("inputs change members remove", "inputs", []engine.Input{engine.ChangeMembers{RequestID: 303,
		Change: raft.ConfChange{Type: raft.ConfRemove, NodeID: 2}}})
	add("inputs change members update address", "inputs", []engine.Input{engine.ChangeMembers{RequestID: 304,
		Change: raft.ConfChange{Type: raft.ConfUpdateAddr, NodeID: 3, Addr: "raft=10.0.0.3:7001 api=http://10.0.0.3:8001"}}})
	add("inputs change members force", "inputs", []engine.Input{engine.ChangeMembers{RequestID: maxU64,
		Change: raft.ConfChange{Type: raft.ConfForce, NodeID: maxU64, Members: members}}})
	add("inputs one of each", "inputs", []engine.Input{
		engine.Tick{},
		engine.Receive{Message: raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 3, Commit: 9}},
		engine.Propose{RequestID: 1, Command: kv.Command{Op: kv.OpSet, Key: "k", Value: []byte("v")}},
		engine.Read{RequestID: 2, Key: "k"},
		engine.StorageAck{Index: 10, Term: 3},
		engine.Transfer{To: 3},
		engine.ChangeMembers{RequestID: 3, Change: raft.ConfChange{Type: raft.ConfRemove, NodeID: 3}},
	})
	add("inputs max values", "inputs", []engine.Input{
		engine.Propose{RequestID: maxU64, Command: kv.Command{ClientID: maxU64, Seq: maxU64, Op: kv.OpSet, Key: "k"}},
		engine.Read{RequestID: maxU64, Key: strings.Repeat("r", kv.MaxKeyBytes), Stale: true},
		engine.StorageAck{Index: maxU64, Term: maxU64},
		engine.Transfer{To: maxU64},
	})

	// Effects.
	add("effects empty batch", "effects", []engine.Effect(nil))
	add("effects persist hard state only", "effects", []engine.Effect{engine.Persist{HardState: raft.HardState{Term: 3, Vote: 1, Commit: 6}}})
	add("effects persist entries", "effects", []engine.Effect{engine.Persist{HardState: raft.HardState{Term: 3, Vote: 1, Commit: 6}, Entries: app.Entries}})
	add("effects send", "effects", []engine.Effect{engine.Send{Message: app}})
	add("effects persist then sends", "effects", []engine.Effect{
		engine.Persist{HardState: raft.HardState{Term: 4, Vote: 1}},
		engine.Send{Message: raft.Message{Type: raft.MsgVote, From: 1, To: 2, Term: 4, LogTerm: 3, Index: 10}},
		engine.Send{Message: raft.Message{Type: raft.MsgVote, From: 1, To: 3, Term: 4, LogTerm: 3, Index: 10}},
	})
	for code := engine.ReplyOK; code <= engine.ReplySessionConflict; code++ {
		add("effects reply "+code.String(), "effects", []engine.Effect{engine.Reply{RequestID: 5, Code: code, Voters: 3, Alive: 2, Leader: 1}})
	}
	add("effects reply with value", "effects", []engine.Effect{engine.Reply{RequestID: 6, Code: engine.ReplyOK,
		Index: 9, Term: 3, Acks: 2, Voters: 3, Alive: 3, Leader: 1, Found: true, Value: []byte("alpha"), OK: true}})
	add("effects reply failed cas", "effects", []engine.Effect{engine.Reply{RequestID: 7, Code: engine.ReplyOK,
		Index: 10, Term: 3, Acks: 3, Voters: 3, Alive: 3, Leader: 1, Found: true, Value: []byte("gamma"), Error: "cas: value differs"}})
	add("effects reply extreme ints", "effects", []engine.Effect{engine.Reply{RequestID: maxU64, Code: engine.ReplyInvalid,
		Index: maxU64, Term: maxU64, Acks: -1, Voters: math.MaxInt, Alive: math.MinInt, Leader: maxU64}})
	add("effects emit", "effects", []engine.Effect{engine.Emit{Event: raft.Event{Kind: raft.EventElected, Term: 4, Peer: 0, Index: 10,
		Text: "elected leader for term 4"}}})
	for k := raft.EventConfChangeProposed; k <= raft.EventInputsRejected; k++ {
		add("effects emit "+k.String(), "effects", []engine.Effect{engine.Emit{Event: raft.Event{Kind: k, Term: 3, Peer: 4,
			Index: 120, Text: k.String()}}})
	}
	add("effects emit unknown kind", "effects", []engine.Effect{engine.Emit{Event: raft.Event{Kind: 200, Term: 1}}})
	add("effects status follower", "effects", []engine.Effect{engine.StatusReport{Status: engine.Status{
		Status: raft.Status{ID: 2, Role: raft.RoleFollower, Term: 3, Vote: 1, Leader: 1, Commit: 9, LastIndex: 9, LastTerm: 3,
			Stable: 9, Voters: []uint64{1, 2, 3}, Alive: 3, PreVote: true, CheckQuorum: true},
		Applied: 9, Keys: 1, Pending: 0}}})
	add("effects status leader", "effects", []engine.Effect{engine.StatusReport{Status: engine.Status{
		Status: raft.Status{ID: 1, Role: raft.RoleLeader, Term: 3, Vote: 1, Leader: 1, Commit: 9, LastIndex: 10, LastTerm: 3,
			Stable: 10, Voters: []uint64{1, 2, 3}, Alive: 2,
			Progress: []raft.PeerStatus{
				{ID: 1, Match: 10, Next: 11, State: raft.ProgressReplicate, Active: true},
				{ID: 2, Match: 9, Next: 11, State: raft.ProgressReplicate, Active: true, Inflight: 1},
				{ID: 3, Match: 0, Next: 4, State: raft.ProgressProbe},
			}, Transferee: 2, PreVote: true, CheckQuorum: true},
		Applied: 9, Keys: 2, Pending: 1}}})
	add("effects status leader with learner and snapshot", "effects", []engine.Effect{engine.StatusReport{Status: engine.Status{
		Status: raft.Status{ID: 1, Role: raft.RoleLeader, Term: 3, Vote: 1, Leader: 1, Commit: 125, LastIndex: 125, LastTerm: 3,
			Stable: 125, Snapshot: 120, FirstIndex: 111, Voters: []uint64{1, 2, 3}, Members: members, Alive: 3,
			Progress: []raft.PeerStatus{
				{ID: 1, Match: 125, Next: 126, State: raft.ProgressReplicate, Active: true},
				{ID: 2, Match: 125, Next: 126, State: raft.ProgressReplicate, Active: true},
				{ID: 3, Match: 125, Next: 126, State: raft.ProgressReplicate, Active: true},
				{ID: 4, Learner: true, Next: 121, State: raft.ProgressSnapshot, Active: true, Inflight: 1},
			}, PreVote: true, CheckQuorum: true},
		Applied: 125, Keys: 40, Pending: 0}}})
	add("effects save snapshot", "effects", []engine.Effect{engine.SaveSnapshot{Snapshot: raft.Snapshot{
		Meta: raft.SnapshotMeta{Index: 120, Term: 3, Members: members}, Data: []byte("kv state")}}})
	add("effects save snapshot keep log", "effects", []engine.Effect{engine.SaveSnapshot{Snapshot: raft.Snapshot{
		Meta: raft.SnapshotMeta{Index: 1, Term: 1, Members: []raft.Member{{ID: 1}}}}, KeepLog: true},
		engine.Persist{HardState: raft.HardState{Term: 1, Commit: 1}}})
	add("effects status pre-candidate", "effects", []engine.Effect{engine.StatusReport{Status: engine.Status{
		Status: raft.Status{ID: 3, Role: raft.RolePreCandidate, Term: 3, Voters: []uint64{1, 2, 3}, Alive: 1}}}})
	add("effects status candidate", "effects", []engine.Effect{engine.StatusReport{Status: engine.Status{
		Status: raft.Status{ID: 3, Role: raft.RoleCandidate, Term: 4, Vote: 3, Voters: []uint64{1, 2, 3}, Alive: 1}}}})

	// Init records.
	add("init minimal", "init", initRecord{cfg: engine.Config{Raft: raft.Config{ID: 1, Voters: []uint64{1}}}})
	add("init three nodes", "init", initRecord{cfg: engine.Config{Raft: raft.Config{ID: 2, Voters: []uint64{1, 2, 3},
		ElectionTicks: 10, HeartbeatTicks: 1, Seed: 0x9e3779b97f4a7c15}}})
	add("init every field", "init", initRecord{
		cfg: engine.Config{Raft: raft.Config{ID: 3, Voters: []uint64{1, 2, 3, 4, 5}, ElectionTicks: 20, HeartbeatTicks: 2,
			Seed: 42, DisablePreVote: true, DisableCheckQuorum: true, MaxInflightMsgs: 128, MaxInflightBytes: 4 << 20,
			MaxMsgBytes: 512 << 10}, RequestTimeoutTicks: 100, MaxPending: 1024},
		rs: engine.Restored{HardState: raft.HardState{Term: 3, Vote: 1, Commit: 2}, Entries: []raft.Entry{
			{Term: 1, Index: 1, Type: raft.EntryNoop},
			{Term: 1, Index: 2, Data: kv.AppendCommand(nil, kv.Command{ClientID: 1, Seq: 1, Op: kv.OpSet, Key: "k", Value: []byte("v")})},
			{Term: 3, Index: 3, Type: raft.EntryNoop},
		}}})
	add("init voters and learners (members sorted by id)", "init", initRecord{cfg: engine.Config{Raft: raft.Config{ID: 2,
		Voters: []uint64{3, 1, 2}, Learners: []uint64{5, 4}}}})
	add("init members with addresses", "init", initRecord{cfg: engine.Config{Raft: raft.Config{ID: 4, Members: members,
		MaxSnapshotChunkBytes: 64 << 10, MaxSnapshotBytes: 1 << 28}, SnapshotEntries: 1000, SnapshotRetain: 50}})
	add("init with snapshot", "init", initRecord{
		cfg: engine.Config{Raft: raft.Config{ID: 4, Members: members}},
		rs: engine.Restored{HardState: raft.HardState{Term: 3, Vote: 1, Commit: 121},
			Snapshot: &raft.Snapshot{Meta: raft.SnapshotMeta{Index: 120, Term: 3, Members: members}, Data: []byte("kv state")},
			Entries:  []raft.Entry{{Term: 3, Index: 121, Type: raft.EntryNoop}}}})
	add("init with empty snapshot", "init", initRecord{
		cfg: engine.Config{Raft: raft.Config{ID: 1, Voters: []uint64{1}}},
		rs: engine.Restored{HardState: raft.HardState{Term: 1, Commit: 1},
			Snapshot: &raft.Snapshot{Meta: raft.SnapshotMeta{Index: 1, Term: 1}}}})
	add("init extreme values", "init", initRecord{
		cfg: engine.Config{Raft: raft.Config{ID: maxU64, Voters: []uint64{maxU64}, ElectionTicks: math.MaxInt,
			HeartbeatTicks: -1, Seed: maxU64, MaxInflightMsgs: math.MinInt, MaxInflightBytes: maxU64, MaxMsgBytes: maxU64,
			MaxSnapshotChunkBytes: maxU64, MaxSnapshotBytes: maxU64},
			RequestTimeoutTicks: -5, MaxPending: math.MaxInt, SnapshotEntries: math.MinInt, SnapshotRetain: math.MaxInt},
		rs: engine.Restored{HardState: raft.HardState{Term: maxU64, Vote: maxU64, Commit: maxU64}}})
	return vs
}

// jsonVector is one vector as abi.json holds it.
type jsonVector struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Hex   string `json:"hex"`
	Value any    `json:"value"`
}

// TestVectors checks the shared test vectors: each encodes to the bytes in
// abi.json, decodes back and re-encodes to the same bytes, and is described
// there as it decodes. With -update it rewrites the file instead, which a
// format change requires (and which the TypeScript mirror must follow).
func TestVectors(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("the vectors hold 64-bit ints")
	}
	var out []jsonVector
	for _, v := range vectors() {
		b := v.encode()
		decoded, err := v.decode(b)
		if err != nil {
			t.Fatalf("%s: decoding % x: %v", v.name, b, err)
		}
		again := vector{v.name, v.kind, decoded}.encode()
		if !bytes.Equal(again, b) {
			t.Fatalf("%s: re-encoded: have % x, want % x", v.name, again, b)
		}
		out = append(out, jsonVector{Name: v.name, Kind: v.kind, Hex: hex.EncodeToString(b), Value: describe(decoded)})
	}
	have, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	have = append(have, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, have, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("%v (run go test ./abi -run TestVectors -update to create it)", err)
	}
	if !bytes.Equal(have, want) {
		t.Errorf("%s: have different vectors than the file (a format change must be deliberate: "+
			"run go test ./abi -run TestVectors -update and update the TypeScript mirror)", vectorsPath)
	}
}

func TestVectorsCoverEveryType(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range vectors() {
		switch x := v.value.(type) {
		case raft.Message:
			seen["message "+x.Type.String()] = true
		case kv.Command:
			seen["op "+x.Op.String()] = true
		case []engine.Input:
			for _, in := range x {
				seen["input "+describeInput(in)["kind"].(string)] = true
			}
		case []engine.Effect:
			for _, e := range x {
				d := describeEffect(e)
				seen["effect "+d["kind"].(string)] = true
				if r, ok := e.(engine.Reply); ok {
					seen["reply "+r.Code.String()] = true
				}
			}
		}
	}
	var want []string
	for typ := raft.MsgVote; typ <= raft.MsgSnapResp; typ++ {
		want = append(want, "message "+typ.String())
	}
	for op := kv.OpSet; op <= kv.OpCAS; op++ {
		want = append(want, "op "+op.String())
	}
	for code := engine.ReplyOK; code <= engine.ReplySessionConflict; code++ {
		want = append(want, "reply "+code.String())
	}
	for _, k := range []string{"tick", "receive", "propose", "read", "storageAck", "transfer", "changeMembers"} {
		want = append(want, "input "+k)
	}
	for _, k := range []string{"persist", "send", "reply", "emit", "statusReport", "saveSnapshot"} {
		want = append(want, "effect "+k)
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("vectors: have no %s, want at least one", w)
		}
	}
}

// The describe functions give the JSON form of a decoded value. Field
// names are the Go names in lowerCamelCase. Every integer written as a
// uvarint or zigzag int is a decimal string (JavaScript numbers lose
// precision above 2^53); u8 fields (types, tags, codes, roles) are
// numbers; bytes are lowercase hex; strings are strings.

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func i64(v int) string { return strconv.Itoa(v) }

func hexOf(p []byte) string { return hex.EncodeToString(p) }

func describe(v any) any {
	switch x := v.(type) {
	case []engine.Input:
		items := []any{}
		for _, in := range x {
			items = append(items, describeInput(in))
		}
		return items
	case []engine.Effect:
		items := []any{}
		for _, e := range x {
			items = append(items, describeEffect(e))
		}
		return items
	case initRecord:
		return describeInit(x)
	case raft.Message:
		return describeMessage(x)
	case kv.Command:
		return describeCommand(x)
	}
	panic("describe: unknown type")
}

type obj = map[string]any

func describeInput(in engine.Input) obj {
	switch x := in.(type) {
	case engine.Tick:
		return obj{"tag": 1, "kind": "tick"}
	case engine.Receive:
		return obj{"tag": 2, "kind": "receive", "message": describeMessage(x.Message)}
	case engine.Propose:
		return obj{"tag": 3, "kind": "propose", "requestID": u64(x.RequestID), "command": describeCommand(x.Command)}
	case engine.Read:
		return obj{"tag": 4, "kind": "read", "requestID": u64(x.RequestID), "key": x.Key, "stale": x.Stale}
	case engine.StorageAck:
		return obj{"tag": 5, "kind": "storageAck", "index": u64(x.Index), "term": u64(x.Term)}
	case engine.Transfer:
		return obj{"tag": 6, "kind": "transfer", "to": u64(x.To)}
	case engine.ChangeMembers:
		c := x.Change
		return obj{"tag": 7, "kind": "changeMembers", "requestID": u64(x.RequestID), "change": obj{"type": int(c.Type),
			"nodeID": u64(c.NodeID), "addr": c.Addr, "members": describeMembers(c.Members)}}
	}
	panic("describeInput: unknown type")
}

func describeEffect(e engine.Effect) obj {
	switch x := e.(type) {
	case engine.Persist:
		return obj{"tag": 1, "kind": "persist", "hardState": describeHardState(x.HardState), "entries": describeEntries(x.Entries)}
	case engine.Send:
		return obj{"tag": 2, "kind": "send", "message": describeMessage(x.Message)}
	case engine.Reply:
		return obj{"tag": 3, "kind": "reply", "requestID": u64(x.RequestID), "code": int(x.Code), "index": u64(x.Index),
			"term": u64(x.Term), "acks": i64(x.Acks), "voters": i64(x.Voters), "alive": i64(x.Alive),
			"leader": u64(x.Leader), "found": x.Found, "value": hexOf(x.Value), "ok": x.OK, "error": x.Error}
	case engine.Emit:
		ev := x.Event
		return obj{"tag": 4, "kind": "emit", "event": obj{"kind": int(ev.Kind), "term": u64(ev.Term), "peer": u64(ev.Peer),
			"index": u64(ev.Index), "text": ev.Text}}
	case engine.StatusReport:
		return obj{"tag": 5, "kind": "statusReport", "status": describeStatus(x.Status)}
	case engine.SaveSnapshot:
		return obj{"tag": 6, "kind": "saveSnapshot", "snapshot": describeSnapshot(&x.Snapshot), "keepLog": x.KeepLog}
	}
	panic("describeEffect: unknown type")
}

func describeStatus(s engine.Status) obj {
	voters := []string{}
	for _, v := range s.Voters {
		voters = append(voters, u64(v))
	}
	progress := []any{}
	for _, p := range s.Progress {
		progress = append(progress, obj{"id": u64(p.ID), "learner": p.Learner, "match": u64(p.Match), "next": u64(p.Next),
			"state": int(p.State), "active": p.Active, "inflight": i64(p.Inflight)})
	}
	return obj{"id": u64(s.ID), "role": int(s.Role), "term": u64(s.Term), "vote": u64(s.Vote), "leader": u64(s.Leader),
		"commit": u64(s.Commit), "lastIndex": u64(s.LastIndex), "lastTerm": u64(s.LastTerm), "stable": u64(s.Stable),
		"snapshot": u64(s.Snapshot), "firstIndex": u64(s.FirstIndex),
		"voters": voters, "members": describeMembers(s.Members), "alive": i64(s.Alive), "progress": progress, "transferee": u64(s.Transferee),
		"preVote": s.PreVote, "checkQuorum": s.CheckQuorum,
		"applied": u64(s.Applied), "keys": i64(s.Keys), "pending": i64(s.Pending)}
}

func describeMessage(m raft.Message) obj {
	o := obj{"type": int(m.Type), "from": u64(m.From), "to": u64(m.To), "term": u64(m.Term),
		"logTerm": u64(m.LogTerm), "index": u64(m.Index), "commit": u64(m.Commit), "reject": m.Reject,
		"rejectHint": u64(m.RejectHint), "context": hexOf(m.Context), "entries": describeEntries(m.Entries)}
	if c := m.Snapshot; c != nil {
		o["snapshot"] = obj{"meta": describeMeta(c.Meta), "size": u64(c.Size), "offset": u64(c.Offset), "data": hexOf(c.Data)}
	}
	return o
}

func describeMembers(ms []raft.Member) []any {
	out := []any{}
	for _, m := range ms {
		out = append(out, obj{"id": u64(m.ID), "learner": m.Learner, "addr": m.Addr})
	}
	return out
}

func describeMeta(m raft.SnapshotMeta) obj {
	return obj{"index": u64(m.Index), "term": u64(m.Term), "members": describeMembers(m.Members)}
}

// describeSnapshot describes s, or nil as JSON null.
func describeSnapshot(s *raft.Snapshot) any {
	if s == nil {
		return nil
	}
	return obj{"meta": describeMeta(s.Meta), "data": hexOf(s.Data)}
}

func describeEntries(es []raft.Entry) []any {
	out := []any{}
	for _, e := range es {
		out = append(out, obj{"term": u64(e.Term), "index": u64(e.Index), "type": int(e.Type), "data": hexOf(e.Data)})
	}
	return out
}

func describeHardState(h raft.HardState) obj {
	return obj{"term": u64(h.Term), "vote": u64(h.Vote), "commit": u64(h.Commit)}
}

func describeCommand(c kv.Command) obj {
	return obj{"clientID": u64(c.ClientID), "seq": u64(c.Seq), "op": int(c.Op), "key": c.Key,
		"value": hexOf(c.Value), "expect": hexOf(c.Expect), "expectMissing": c.ExpectMissing}
}

func describeInit(r initRecord) obj {
	rc := r.cfg.Raft
	return obj{
		"config": obj{
			"raft": obj{"id": u64(rc.ID), "members": describeMembers(rc.Members), "electionTicks": i64(rc.ElectionTicks),
				"heartbeatTicks": i64(rc.HeartbeatTicks), "seed": u64(rc.Seed), "disablePreVote": rc.DisablePreVote,
				"disableCheckQuorum": rc.DisableCheckQuorum, "maxInflightMsgs": i64(rc.MaxInflightMsgs),
				"maxInflightBytes": u64(rc.MaxInflightBytes), "maxMsgBytes": u64(rc.MaxMsgBytes),
				"maxSnapshotChunkBytes": u64(rc.MaxSnapshotChunkBytes), "maxSnapshotBytes": u64(rc.MaxSnapshotBytes)},
			"requestTimeoutTicks": i64(r.cfg.RequestTimeoutTicks),
			"maxPending":          i64(r.cfg.MaxPending),
			"snapshotEntries":     i64(r.cfg.SnapshotEntries),
			"snapshotRetain":      i64(r.cfg.SnapshotRetain),
		},
		"restored": obj{"hardState": describeHardState(r.rs.HardState), "snapshot": describeSnapshot(r.rs.Snapshot),
			"entries": describeEntries(r.rs.Entries)},
	}
}
