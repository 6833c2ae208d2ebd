package abi_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
	"github.com/wraft/wraft/wire/wiretest"
	"pgregory.net/rapid"
)

func commandGen() *rapid.Generator[kv.Command] {
	return rapid.Custom(func(t *rapid.T) kv.Command {
		return kv.Command{
			ClientID:      rapid.Uint64().Draw(t, "clientID"),
			Seq:           rapid.Uint64().Draw(t, "seq"),
			Op:            rapid.SampledFrom([]kv.Op{kv.OpSet, kv.OpGet, kv.OpDel, kv.OpCAS}).Draw(t, "op"),
			Key:           wiretest.String(32).Draw(t, "key"),
			Value:         wiretest.Bytes(64).Draw(t, "value"),
			Expect:        wiretest.Bytes(64).Draw(t, "expect"),
			ExpectMissing: rapid.Bool().Draw(t, "expectMissing"),
		}
	})
}

func inputGen() *rapid.Generator[engine.Input] {
	return rapid.Custom(func(t *rapid.T) engine.Input {
		switch rapid.IntRange(0, 6).Draw(t, "kind") {
		case 0:
			return engine.Tick{}
		case 1:
			return engine.Receive{Message: wiretest.Message().Draw(t, "message")}
		case 2:
			return engine.Propose{RequestID: rapid.Uint64().Draw(t, "id"), Command: commandGen().Draw(t, "command")}
		case 3:
			return engine.Read{RequestID: rapid.Uint64().Draw(t, "id"), Key: wiretest.String(32).Draw(t, "key"),
				Stale: rapid.Bool().Draw(t, "stale")}
		case 4:
			return engine.StorageAck{Index: rapid.Uint64().Draw(t, "index"), Term: rapid.Uint64().Draw(t, "term")}
		case 5:
			return engine.Transfer{To: rapid.Uint64().Draw(t, "to")}
		default:
			return engine.ChangeMembers{RequestID: rapid.Uint64().Draw(t, "id"), Change: confChangeGen().Draw(t, "change")}
		}
	})
}

// confChangeGen generates changes of every type, with or without members
// (a proposer's change has none).
func confChangeGen() *rapid.Generator[raft.ConfChange] {
	return rapid.Custom(func(t *rapid.T) raft.ConfChange {
		return raft.ConfChange{
			Type:    raft.ConfChangeType(rapid.IntRange(int(raft.ConfAddLearner), int(raft.ConfForce)).Draw(t, "type")),
			NodeID:  rapid.Uint64().Draw(t, "nodeID"),
			Addr:    wiretest.String(16).Draw(t, "addr"),
			Members: wiretest.Members(5).Draw(t, "members"),
		}
	})
}

func snapshotGen() *rapid.Generator[raft.Snapshot] {
	return rapid.Custom(func(t *rapid.T) raft.Snapshot {
		return raft.Snapshot{Meta: wiretest.SnapshotMeta().Draw(t, "meta"), Data: wiretest.Bytes(64).Draw(t, "data")}
	})
}

func effectGen() *rapid.Generator[engine.Effect] {
	return rapid.Custom(func(t *rapid.T) engine.Effect {
		switch rapid.IntRange(0, 5).Draw(t, "kind") {
		case 0:
			return engine.Persist{HardState: wiretest.HardState().Draw(t, "hs"), Entries: wiretest.Entries(4).Draw(t, "entries")}
		case 1:
			return engine.Send{Message: wiretest.Message().Draw(t, "message")}
		case 2:
			return engine.Reply{
				RequestID: rapid.Uint64().Draw(t, "id"),
				Code:      engine.ReplyCode(rapid.IntRange(0, int(engine.ReplySessionConflict)).Draw(t, "code")),
				Index:     rapid.Uint64().Draw(t, "index"),
				Term:      rapid.Uint64().Draw(t, "term"),
				Acks:      rapid.Int().Draw(t, "acks"),
				Voters:    rapid.Int().Draw(t, "voters"),
				Alive:     rapid.Int().Draw(t, "alive"),
				Leader:    rapid.Uint64().Draw(t, "leader"),
				Found:     rapid.Bool().Draw(t, "found"),
				Value:     wiretest.Bytes(64).Draw(t, "value"),
				OK:        rapid.Bool().Draw(t, "ok"),
				Error:     wiretest.String(32).Draw(t, "error"),
			}
		case 3:
			return engine.Emit{Event: wiretest.Event().Draw(t, "event")}
		case 4:
			return engine.SaveSnapshot{Snapshot: snapshotGen().Draw(t, "snapshot"), KeepLog: rapid.Bool().Draw(t, "keepLog")}
		default:
			return engine.StatusReport{Status: engine.Status{
				Status:  wiretest.Status().Draw(t, "status"),
				Applied: rapid.Uint64().Draw(t, "applied"),
				Keys:    rapid.Int().Draw(t, "keys"),
				Pending: rapid.Int().Draw(t, "pending"),
			}}
		}
	})
}

func sliceOrNil[V any](s []V) []V {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestInputsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := sliceOrNil(rapid.SliceOfN(inputGen(), 0, 8).Draw(t, "inputs"))
		b := abi.AppendInputs(nil, in)
		have, err := abi.DecodeInputs(b)
		if err != nil {
			t.Fatalf("DecodeInputs(% x): %v", b, err)
		}
		if !reflect.DeepEqual(have, in) {
			t.Fatalf("have %+v, want %+v", have, in)
		}
	})
}

func TestEffectsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		effs := sliceOrNil(rapid.SliceOfN(effectGen(), 0, 8).Draw(t, "effects"))
		b := abi.AppendEffects(nil, effs)
		have, err := abi.DecodeEffects(b)
		if err != nil {
			t.Fatalf("DecodeEffects(% x): %v", b, err)
		}
		if !reflect.DeepEqual(have, effs) {
			t.Fatalf("have %+v, want %+v", have, effs)
		}
	})
}

func TestInitRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := engine.Config{
			Raft: raft.Config{
				ID:                    rapid.Uint64().Draw(t, "id"),
				Members:               wiretest.Members(7).Draw(t, "members"),
				ElectionTicks:         rapid.Int().Draw(t, "electionTicks"),
				HeartbeatTicks:        rapid.Int().Draw(t, "heartbeatTicks"),
				Seed:                  rapid.Uint64().Draw(t, "seed"),
				DisablePreVote:        rapid.Bool().Draw(t, "disablePreVote"),
				DisableCheckQuorum:    rapid.Bool().Draw(t, "disableCheckQuorum"),
				MaxInflightMsgs:       rapid.Int().Draw(t, "maxInflightMsgs"),
				MaxInflightBytes:      rapid.Uint64().Draw(t, "maxInflightBytes"),
				MaxMsgBytes:           rapid.Uint64().Draw(t, "maxMsgBytes"),
				MaxSnapshotChunkBytes: rapid.Uint64().Draw(t, "maxSnapshotChunkBytes"),
				MaxSnapshotBytes:      rapid.Uint64().Draw(t, "maxSnapshotBytes"),
			},
			RequestTimeoutTicks: rapid.Int().Draw(t, "requestTimeoutTicks"),
			MaxPending:          rapid.Int().Draw(t, "maxPending"),
			SnapshotEntries:     rapid.Int().Draw(t, "snapshotEntries"),
			SnapshotRetain:      rapid.Int().Draw(t, "snapshotRetain"),
		}
		rs := engine.Restored{HardState: wiretest.HardState().Draw(t, "hs"), Entries: wiretest.Entries(10).Draw(t, "entries")}
		if rapid.Bool().Draw(t, "hasSnapshot") {
			snap := snapshotGen().Draw(t, "snapshot")
			rs.Snapshot = &snap
		}
		b := abi.AppendInit(nil, cfg, rs)
		haveCfg, haveRs, err := abi.DecodeInit(b)
		if err != nil {
			t.Fatalf("DecodeInit(% x): %v", b, err)
		}
		if !reflect.DeepEqual(haveCfg, cfg) || !reflect.DeepEqual(haveRs, rs) {
			t.Fatalf("have %+v, %+v, want %+v, %+v", haveCfg, haveRs, cfg, rs)
		}
	})
}

func TestAppendPanicsOnUnknownType(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"nil input", func() { abi.AppendInputs(nil, []engine.Input{nil}) }},
		{"pointer input", func() { abi.AppendInputs(nil, []engine.Input{&engine.Tick{}}) }},
		{"nil effect", func() { abi.AppendEffects(nil, []engine.Effect{nil}) }},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: have no panic, want one", tt.name)
				}
			}()
			tt.f()
		}()
	}
}

// inputsBatch returns a batch header for n items followed by items.
func inputsBatch(n int, items ...[]byte) []byte {
	b := wire.AppendUvarint([]byte{abi.Version}, uint64(n))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func frame(p []byte) []byte { return wire.AppendBytes(nil, p) }

// A batch is an error only when its framing is broken.
func TestDecodeInputsErrors(t *testing.T) {
	msg := wire.AppendMessage(nil, raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 1})
	batch := inputsBatch
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, wire.ErrTruncated, "abi: inputs truncated at byte 0"},
		{"version", []byte{2, 0}, wire.ErrVersion, "abi: inputs has version 2 (want 1) at byte 0"},
		{"no count", []byte{1}, wire.ErrTruncated, "abi: inputs truncated at byte 1"},
		{"count past end", batch(3, []byte{1, 1}), wire.ErrTruncated, "abi: inputs batch truncated at byte 1"},
		{"count over limit", batch(abi.MaxBatchItems + 1), wire.ErrTooLarge, "abi: inputs batch too large (1048577 > 1048576) at byte 1"},
		{"tag 0", batch(1, []byte{0}), wire.ErrInvalid, "abi: inputs has unknown input tag 0 at byte 2"},
		{"tag 9", batch(2, []byte{1, 9}), wire.ErrInvalid, "abi: inputs has unknown input tag 9 at byte 3"},
		{"trailing", batch(1, []byte{1, 1}), wire.ErrInvalid, "abi: inputs has 1 trailing byte at byte 3"},
		{"message frame past end", batch(1, []byte{2}, frame(msg)[:len(msg)]), wire.ErrTruncated,
			"abi: inputs message truncated at byte 3"},
		{"message past frame", batch(1, []byte{2}, frame(msg[:len(msg)-1]), []byte{0}), wire.ErrInvalid,
			"abi: inputs has 1 trailing byte at byte 15"},
		{"command frame past end", batch(1, []byte{3, 9, 20, 1}), wire.ErrTruncated, "abi: inputs command truncated at byte 4"},
		{"read key past end", batch(1, []byte{4, 1, 5, 'k'}), wire.ErrTruncated, "abi: inputs key truncated at byte 4"},
		{"read stale 2", batch(1, []byte{4, 1, 1, 'k', 2}), wire.ErrInvalid, "abi: inputs has invalid bool 2 at byte 6"},
		{"malformed request 2", batch(1, []byte{8, 2, 0, 0}), wire.ErrInvalid, "abi: inputs has invalid bool 2 at byte 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := abi.DecodeInputs(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("have %v, want errors.Is(err, %v)", err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("message: have %q, want %q", err.Error(), tt.msg)
			}
			if in != nil {
				t.Errorf("inputs on error: have %+v, want nil", in)
			}
		})
	}
}

// One bad input costs only itself: limits the engine checks are not the
// decoder's (the engine answers them as a native engine does), and an
// intact frame with broken contents decodes as an engine.Malformed. The
// inputs around it decode as usual.
func TestDecodeInputsBadItem(t *testing.T) {
	msg := wire.AppendMessage(nil, raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 1})
	badMsg := bytes.Clone(msg)
	badMsg[1] = 99
	cmd := kv.AppendCommand(nil, kv.Command{ClientID: 1, Seq: 1, Op: kv.OpSet, Key: "k"})
	longKey := strings.Repeat("k", kv.MaxKeyBytes+1)
	longAddr := strings.Repeat("a", wire.MaxAddrBytes+1)
	tests := []struct {
		name string
		item []byte
		want engine.Input
	}{
		{"change type 0", append([]byte{7, 1}, frame([]byte{0, 2, 0, 0})...),
			engine.ChangeMembers{RequestID: 1, Change: raft.ConfChange{Type: 0, NodeID: 2}}},
		{"change type 7", append([]byte{7, 1}, frame([]byte{7, 2, 0, 0})...),
			engine.ChangeMembers{RequestID: 1, Change: raft.ConfChange{Type: 7, NodeID: 2}}},
		{"change addr too long", append([]byte{7, 1}, frame(append(append([]byte{1, 2}, frame([]byte(longAddr))...), 0))...),
			engine.ChangeMembers{RequestID: 1, Change: raft.ConfChange{Type: raft.ConfAddLearner, NodeID: 2, Addr: longAddr}}},
		{"change short of frame", append([]byte{7, 1}, frame([]byte{1, 2, 0, 0, 0})...),
			engine.Malformed{Request: true, RequestID: 1, Err: "abi: configuration change has 1 trailing byte at byte 4"}},
		{"change learner 2", append([]byte{7, 1}, frame([]byte{2, 2, 0, 1, 2, 2, 0})...),
			engine.Malformed{Request: true, RequestID: 1, Err: "abi: configuration change has invalid bool 2 at byte 5"}},
		{"bad message", append([]byte{2}, frame(badMsg)...),
			engine.Malformed{Err: "dropped a message that does not decode: abi: message has unknown message type 99 at byte 1"}},
		{"message short of frame", append([]byte{2}, frame(append(bytes.Clone(msg), 0))...),
			engine.Malformed{Err: "dropped a message that does not decode: abi: message has 1 trailing byte at byte 12"}},
		{"message truncated in frame", append([]byte{2}, frame(msg[:len(msg)-1])...),
			engine.Malformed{Err: "dropped a message that does not decode: abi: message truncated at byte 11"}},
		{"command unknown op", append([]byte{3, 9}, frame(append([]byte{1, 0}, cmd[2:]...))...),
			engine.Propose{RequestID: 9, Command: kv.Command{ClientID: 1, Seq: 1, Key: "k"}}},
		{"command version", append([]byte{3, 9}, frame(append([]byte{7}, cmd[1:]...))...),
			engine.Malformed{Request: true, RequestID: 9, Err: "abi: command has version 7 (want 1) at byte 0"}},
		{"command truncated in frame", append([]byte{3, 9}, frame(cmd[:len(cmd)-1])...),
			engine.Malformed{Request: true, RequestID: 9, Err: "abi: command truncated at byte 8"}},
		{"command key too long", append([]byte{3, 9}, frame(kv.AppendCommand(nil, kv.Command{ClientID: 1, Seq: 1, Op: kv.OpGet, Key: longKey}))...),
			engine.Propose{RequestID: 9, Command: kv.Command{ClientID: 1, Seq: 1, Op: kv.OpGet, Key: longKey}}},
		{"read key too long", append(append([]byte{4, 1}, frame([]byte(longKey))...), 0),
			engine.Read{RequestID: 1, Key: longKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := abi.DecodeInputs(inputsBatch(3, []byte{1}, tt.item, []byte{5, 7, 1}))
			if err != nil {
				t.Fatalf("have %v, want no error", err)
			}
			want := []engine.Input{engine.Tick{}, tt.want, engine.StorageAck{Index: 7, Term: 1}}
			if !reflect.DeepEqual(in, want) {
				t.Errorf("have %+v\nwant %+v", in, want)
			}
		})
	}
}

func TestDecodeEffectsErrors(t *testing.T) {
	batch := func(n int, items ...byte) []byte {
		return append(wire.AppendUvarint([]byte{abi.Version}, uint64(n)), items...)
	}
	reply := func(code byte) []byte {
		// requestID code index term acks voters alive leader found value ok error
		return batch(1, 3, 1, code, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	status := func(state byte) []byte {
		// id role, term..firstIndex, voters members alive, one progress
		// record (id learner match next state active inflight), transferee
		// preVote checkQuorum, applied keys pending
		return batch(1, 5, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
			1, 0, 0, 0, state, 1, 0, 0, 0, 0, 0, 0, 0)
	}
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"version", []byte{0, 0}, wire.ErrVersion, "abi: effects has version 0 (want 1) at byte 0"},
		{"tag 7", batch(1, 7), wire.ErrInvalid, "abi: effects has unknown effect tag 7 at byte 2"},
		{"save snapshot", batch(1, 6, 9, 2, 1, 1, 0, 0, 2, 'h', 'i', 1), nil, ""},
		{"save snapshot keepLog 2", batch(1, 6, 9, 2, 0, 0, 2), wire.ErrInvalid, "abi: effects has invalid bool 2 at byte 7"},
		{"save snapshot truncated", batch(1, 6, 9, 2, 0, 5, 'h'), wire.ErrTruncated,
			"abi: effects snapshot data truncated at byte 6"},
		{"persist truncated", batch(1, 1, 1, 1), wire.ErrTruncated, "abi: effects truncated at byte 5"},
		{"persist entry type", batch(1, 1, 0, 0, 0, 1, 1, 1, 3, 0), wire.ErrInvalid, "abi: effects has unknown entry type 3 at byte 9"},
		{"persist conf change", batch(1, 1, 0, 0, 0, 1, 1, 1, 2, 0), nil, ""},
		{"reply code 8", reply(8), nil, ""},
		{"reply code 9", reply(9), wire.ErrInvalid, "abi: effects has unknown reply code 9 at byte 4"},
		{"status progress state 2", status(2), nil, ""},
		{"status progress state 3", status(3), wire.ErrInvalid, "abi: effects has unknown progress state 3 at byte 22"},
		{"status role 4", batch(1, 5, 1, 4), wire.ErrInvalid, "abi: effects has unknown role 4 at byte 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			effs, err := abi.DecodeEffects(tt.in)
			if tt.want == nil {
				if err != nil || len(effs) != 1 {
					t.Fatalf("have %v, %v, want one effect, nil", effs, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("have %v, want errors.Is(err, %v)", err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("message: have %q, want %q", err.Error(), tt.msg)
			}
			if effs != nil {
				t.Errorf("effects on error: have %+v, want nil", effs)
			}
		})
	}
}

func TestDecodeInitErrors(t *testing.T) {
	valid := abi.AppendInit(nil, engine.Config{Raft: raft.Config{ID: 1, Voters: []uint64{1, 2, 3}}}, engine.Restored{})
	with := func(i int, c byte) []byte {
		b := bytes.Clone(valid)
		b[i] = c
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, wire.ErrTruncated, "abi: init truncated at byte 0"},
		{"version", append([]byte{9}, valid[1:]...), wire.ErrVersion, "abi: init has version 9 (want 1) at byte 0"},
		{"truncated", valid[:len(valid)-1], wire.ErrTruncated, "abi: init truncated at byte 30"},
		{"trailing", append(bytes.Clone(valid), 0), wire.ErrInvalid, "abi: init has 1 trailing byte at byte 31"},
		{"members", append([]byte{1, 1}, wire.AppendUvarint(nil, wire.MaxVoters+1)...), wire.ErrTooLarge,
			"abi: init members too large (4097 > 4096) at byte 2"},
		{"has snapshot 2", with(29, 2), wire.ErrInvalid, "abi: init has invalid bool 2 at byte 29"},
		{"snapshot truncated", append(with(29, 1)[:30], 9, 2, 0, 5, 'h'), wire.ErrTruncated,
			"abi: init snapshot data truncated at byte 33"},
	}
	for _, tt := range tests {
		_, _, err := abi.DecodeInit(tt.in)
		if !errors.Is(err, tt.want) || err.Error() != tt.msg {
			t.Errorf("%s: have %v, want %q", tt.name, err, tt.msg)
		}
	}
}

func TestDecodeDoesNotAlias(t *testing.T) {
	in := []engine.Input{
		engine.Receive{Message: raft.Message{Type: raft.MsgApp, Context: []byte("c"), Entries: []raft.Entry{{Data: []byte("d")}}}},
		engine.Propose{Command: kv.Command{Op: kv.OpCAS, Key: "k", Value: []byte("v"), Expect: []byte("e")}},
	}
	b := abi.AppendInputs(nil, in)
	have, err := abi.DecodeInputs(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if !reflect.DeepEqual(have, in) {
		t.Errorf("after overwriting the input: have %+v, want %+v", have, in)
	}
}

// TestInitMembers checks that AppendInit encodes Voters and Learners as
// members sorted by id, and that DecodeInit yields a configuration the
// engine accepts.
func TestInitMembers(t *testing.T) {
	want := []raft.Member{{ID: 1}, {ID: 2, Learner: true}, {ID: 3}, {ID: 5, Learner: true}}
	cfg := engine.Config{Raft: raft.Config{ID: 1, Voters: []uint64{3, 1}, Learners: []uint64{5, 2}}}
	b := abi.AppendInit(nil, cfg, engine.Restored{})
	have, _, err := abi.DecodeInit(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(have.Raft.Members, want) || have.Raft.Voters != nil || have.Raft.Learners != nil {
		t.Errorf("have members %+v, voters %v, learners %v; want %+v, nil, nil",
			have.Raft.Members, have.Raft.Voters, have.Raft.Learners, want)
	}
	withMembers := engine.Config{Raft: raft.Config{ID: 1, Members: want}}
	if again := abi.AppendInit(nil, withMembers, engine.Restored{}); !bytes.Equal(again, b) {
		t.Errorf("from Members: have % x, want % x", again, b)
	}
	snap := &raft.Snapshot{Meta: raft.SnapshotMeta{Index: 10, Term: 2, Members: want}, Data: kv.New().Snapshot()}
	b = abi.AppendInit(nil, withMembers, engine.Restored{HardState: raft.HardState{Term: 2, Commit: 10}, Snapshot: snap})
	cfg2, rs, err := abi.DecodeInit(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.New(cfg2, rs); err != nil {
		t.Errorf("engine.New of the decoded init: %v", err)
	}
}

func TestDecodeInputsTo(t *testing.T) {
	first := []engine.Input{engine.Tick{}, engine.StorageAck{Index: 4, Term: 2}, engine.Transfer{To: 3}}
	second := []engine.Input{engine.Read{RequestID: 9, Key: "k"}}
	in, err := abi.DecodeInputsTo(nil, abi.AppendInputs(nil, first))
	if err != nil || !reflect.DeepEqual(in, first) {
		t.Fatalf("first batch: have %+v, %v, want %+v", in, err, first)
	}
	reused := &in[0]
	in, err = abi.DecodeInputsTo(in, abi.AppendInputs(nil, second))
	if err != nil || !reflect.DeepEqual(in, second) {
		t.Fatalf("second batch: have %+v, %v, want %+v", in, err, second)
	}
	if &in[0] != reused {
		t.Errorf("second batch decoded into a new slice, want the first one reused")
	}
	in, err = abi.DecodeInputsTo(in, []byte{abi.Version, 2, 1, 77})
	if err == nil || len(in) != 0 {
		t.Errorf("bad batch: have %+v, %v, want an empty slice and an error", in, err)
	}
}
