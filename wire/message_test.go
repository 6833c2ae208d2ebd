package wire_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
	"github.com/wraft/wraft/wire/wiretest"
	"pgregory.net/rapid"
)

func TestMessageRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := wiretest.Message().Draw(t, "m")
		b := wire.AppendMessage(nil, m)
		have, err := wire.DecodeMessage(b)
		if err != nil {
			t.Fatalf("DecodeMessage(% x): %v", b, err)
		}
		if !reflect.DeepEqual(have, m) {
			t.Fatalf("have %+v, want %+v", have, m)
		}
	})
}

// codec pairs an encoder with its decoder and a generator of values, for
// the round-trip test of each Read*.
type codec[V any] struct {
	gen  *rapid.Generator[V]
	app  func([]byte, V) []byte
	read func(*wire.Reader) V
}

func checkRoundTrip[V any](t *testing.T, c codec[V]) {
	rapid.Check(t, func(t *rapid.T) {
		v := c.gen.Draw(t, "v")
		prefix := []byte{0xaa}
		b := c.app(prefix, v)
		r := wire.NewReader(b, "wire: test")
		r.Byte()
		have := c.read(r)
		if err := r.Done(); err != nil {
			t.Fatalf("decoding % x: %v", b, err)
		}
		if !reflect.DeepEqual(have, v) {
			t.Fatalf("have %+v, want %+v", have, v)
		}
	})
}

func TestEntryRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[raft.Entry]{wiretest.Entry(), wire.AppendEntry, wire.ReadEntry})
}

func TestEntriesRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[[]raft.Entry]{wiretest.Entries(20), wire.AppendEntries,
		func(r *wire.Reader) []raft.Entry { return wire.ReadEntries(r, 20) }})
}

func TestHardStateRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[raft.HardState]{wiretest.HardState(), wire.AppendHardState, wire.ReadHardState})
}

func TestEventRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[raft.Event]{wiretest.Event(), wire.AppendEvent, wire.ReadEvent})
}

func TestStatusRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[raft.Status]{wiretest.Status(), wire.AppendStatus, wire.ReadStatus})
}

func TestAppendMessageBytes(t *testing.T) {
	tests := []struct {
		name string
		m    raft.Message
		want []byte
	}{
		{"heartbeat", raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 3, Commit: 200},
			[]byte{1, 7, 1, 2, 3, 0, 0, 0xc8, 0x01, 0, 0, 0, 0}},
		{"app", raft.Message{Type: raft.MsgApp, From: 1, To: 3, Term: 2, LogTerm: 1, Index: 4, Commit: 4,
			Entries: []raft.Entry{{Term: 2, Index: 5, Data: []byte("hi")}, {Term: 2, Index: 6, Type: raft.EntryNoop}}},
			[]byte{1, 5, 1, 3, 2, 1, 4, 4, 0, 0, 0, 2, 2, 5, 0, 2, 'h', 'i', 2, 6, 1, 0}},
		{"reject", raft.Message{Type: raft.MsgAppResp, From: 2, To: 1, Term: 2, LogTerm: 1, Index: 9, Reject: true, RejectHint: 7,
			Context: []byte{0xca, 0xfe}},
			[]byte{1, 6, 2, 1, 2, 1, 9, 0, 1, 7, 2, 0xca, 0xfe, 0}},
	}
	for _, tt := range tests {
		if have := wire.AppendMessage(nil, tt.m); !bytes.Equal(have, tt.want) {
			t.Errorf("%s: have % x, want % x", tt.name, have, tt.want)
		}
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	valid := wire.AppendMessage(nil, raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 1,
		Entries: []raft.Entry{{Term: 1, Index: 1, Data: []byte("x")}}})
	with := func(i int, c byte) []byte {
		b := bytes.Clone(valid)
		b[i] = c
		return b
	}
	// header: version type from to term logTerm index commit reject hint
	head := []byte{1, 5, 1, 2, 1, 0, 0, 0, 0, 0}
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, wire.ErrTruncated, "wire: message truncated at byte 0"},
		{"version 0", with(0, 0), wire.ErrVersion, "wire: message has version 0 (want 1) at byte 0"},
		{"version 2", with(0, 2), wire.ErrVersion, "wire: message has version 2 (want 1) at byte 0"},
		{"type 0", with(1, 0), wire.ErrInvalid, "wire: message has unknown message type 0 at byte 1"},
		{"type 16", with(1, 16), wire.ErrInvalid, "wire: message has unknown message type 16 at byte 1"},
		{"snap without chunk", with(1, 14), wire.ErrTruncated, "wire: message truncated at byte 17"},
		{"reject 2", with(8, 2), wire.ErrInvalid, "wire: message has invalid bool 2 at byte 8"},
		{"entry type 3", with(14, 3), wire.ErrInvalid, "wire: message has unknown entry type 3 at byte 14"},
		{"truncated", valid[:len(valid)-1], wire.ErrTruncated, "wire: message entry data truncated at byte 15"},
		{"trailing", append(bytes.Clone(valid), 0), wire.ErrInvalid, "wire: message has 1 trailing byte at byte 17"},
		{"context too large", append(append(bytes.Clone(head), wire.AppendUvarint(nil, wire.MaxContextBytes+1)...),
			make([]byte, wire.MaxContextBytes+1)...),
			wire.ErrTooLarge, "wire: message context too large (1025 > 1024) at byte 10"},
		{"too many entries", append(append(bytes.Clone(head), 0), wire.AppendUvarint(nil, wire.MaxEntries+1)...),
			wire.ErrTooLarge, "wire: message entries too large (1048577 > 1048576) at byte 11"},
		{"entries past end", append(append(bytes.Clone(head), 0), 5, 1, 1, 0, 0),
			wire.ErrTruncated, "wire: message entries truncated at byte 11"},
		{"entry data too large", append(append(bytes.Clone(head), 0, 1, 1, 1, 0), wire.AppendUvarint(nil, wire.MaxEntryBytes+1)...),
			wire.ErrTooLarge, "wire: message entry data too large (8388609 > 8388608) at byte 15"},
		{"message too large", make([]byte, wire.MaxMessageBytes+1),
			wire.ErrTooLarge, "wire: message too large (16777217 > 16777216 bytes) at byte 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wire.DecodeMessage(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("have %v, want errors.Is(err, %v)", err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("message: have %q, want %q", err.Error(), tt.msg)
			}
			if !reflect.DeepEqual(m, raft.Message{}) {
				t.Errorf("message on error: have %+v, want zero", m)
			}
		})
	}
}

func TestDecodeMessageDoesNotAlias(t *testing.T) {
	m := raft.Message{Type: raft.MsgApp, Context: []byte("ctx"),
		Entries: []raft.Entry{{Term: 1, Index: 1, Data: []byte("data")}}}
	b := wire.AppendMessage(nil, m)
	have, err := wire.DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xff
	}
	if string(have.Context) != "ctx" || string(have.Entries[0].Data) != "data" {
		t.Errorf("after overwriting the input: have context %q, data %q; want %q, %q",
			have.Context, have.Entries[0].Data, "ctx", "data")
	}
}

func TestStatusErrors(t *testing.T) {
	valid := wire.AppendStatus(nil, raft.Status{ID: 1, Role: raft.RoleLeader, Voters: []uint64{1},
		Progress: []raft.PeerStatus{{ID: 1, State: raft.ProgressReplicate}}})
	with := func(i int, c byte) []byte {
		b := bytes.Clone(valid)
		b[i] = c
		return b
	}
	// id role term vote leader commit lastIndex lastTerm stable snapshot firstIndex
	// nvoters voter nmembers alive nprog id learner match next state active
	tests := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"role 4", with(1, 4), "wire: test has unknown role 4 at byte 1"},
		{"state 3", with(20, 3), "wire: test has unknown progress state 3 at byte 20"},
		{"learner 2", with(17, 2), "wire: test has invalid bool 2 at byte 17"},
		{"active 3", with(21, 3), "wire: test has invalid bool 3 at byte 21"},
		{"voters", with(11, 0x7f), "wire: test voters truncated at byte 11"},
		{"members", with(13, 0x7f), "wire: test members truncated at byte 13"},
	}
	for _, tt := range tests {
		r := wire.NewReader(tt.in, "wire: test")
		s := wire.ReadStatus(r)
		err := r.Done()
		if !errors.Is(err, wire.ErrInvalid) && !errors.Is(err, wire.ErrTruncated) || err.Error() != tt.msg {
			t.Errorf("%s: have %v, want %q", tt.name, err, tt.msg)
		}
		if !reflect.DeepEqual(s, raft.Status{}) {
			t.Errorf("%s: status on error: have %+v, want zero", tt.name, s)
		}
	}
}

func TestEventTextLimit(t *testing.T) {
	b := wire.AppendEvent(nil, raft.Event{Kind: raft.EventElected, Text: strings.Repeat("x", wire.MaxTextBytes+1)})
	r := wire.NewReader(b, "wire: event")
	wire.ReadEvent(r)
	if err := r.Done(); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("have %v, want %v", err, wire.ErrTooLarge)
	}
}

func TestSnapMessageBytes(t *testing.T) {
	m := raft.Message{Type: raft.MsgSnap, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 9, Commit: 10,
		Snapshot: &raft.SnapshotChunk{Meta: raft.SnapshotMeta{Index: 9, Term: 2,
			Members: []raft.Member{{ID: 1, Addr: "a"}, {ID: 2, Learner: true}}}, Size: 5, Offset: 3, Data: []byte("hi")}}
	want := []byte{1, 14, 1, 2, 3, 2, 9, 10, 0, 0, 0, 0, // header, context, entries
		9, 2, 2, 1, 0, 1, 'a', 2, 1, 0, // meta: index, term, members
		5, 3, 2, 'h', 'i'} // size, offset, data
	b := wire.AppendMessage(nil, m)
	if !bytes.Equal(b, want) {
		t.Fatalf("have % x, want % x", b, want)
	}
	have, err := wire.DecodeMessage(b)
	if err != nil || !reflect.DeepEqual(have, m) {
		t.Fatalf("decoded: have %+v, %v; want %+v", have, err, m)
	}
	// Other types never encode a chunk.
	m.Type = raft.MsgApp
	if have, want := wire.AppendMessage(nil, m), wire.AppendMessage(nil, raft.Message{Type: raft.MsgApp, From: 1, To: 2,
		Term: 3, LogTerm: 2, Index: 9, Commit: 10}); !bytes.Equal(have, want) {
		t.Errorf("MsgApp with a chunk: have % x, want % x", have, want)
	}
}

func TestSnapMessageLimits(t *testing.T) {
	head := []byte{1, 14, 1, 2, 3, 2, 9, 10, 0, 0, 0, 0}
	tests := []struct {
		name string
		tail []byte
		want error
		msg  string
	}{
		{"data too large", append([]byte{9, 2, 0, 0, 0}, wire.AppendUvarint(nil, wire.MaxSnapshotChunkBytes+1)...),
			wire.ErrTooLarge, "wire: message snapshot data too large (4194305 > 4194304) at byte 17"},
		{"too many members", append([]byte{9, 2}, wire.AppendUvarint(nil, wire.MaxVoters+1)...),
			wire.ErrTooLarge, "wire: message members too large (4097 > 4096) at byte 14"},
		{"members past end", []byte{9, 2, 3, 1, 0, 0},
			wire.ErrTruncated, "wire: message members truncated at byte 14"},
		{"learner 2", []byte{9, 2, 1, 1, 2, 0, 0, 0, 0},
			wire.ErrInvalid, "wire: message has invalid bool 2 at byte 16"},
		{"addr too large", append([]byte{9, 2, 1, 1, 0}, wire.AppendUvarint(nil, wire.MaxAddrBytes+1)...),
			wire.ErrTooLarge, "wire: message member address too large (1025 > 1024) at byte 17"},
	}
	for _, tt := range tests {
		m, err := wire.DecodeMessage(append(bytes.Clone(head), tt.tail...))
		if !errors.Is(err, tt.want) || err.Error() != tt.msg {
			t.Errorf("%s: have %v, want %q", tt.name, err, tt.msg)
		}
		if !reflect.DeepEqual(m, raft.Message{}) {
			t.Errorf("%s: message on error: have %+v, want zero", tt.name, m)
		}
	}
	// The largest chunk fits in a message.
	if wire.MaxSnapshotChunkBytes+wire.MaxVoters*(10+1+2+wire.MaxAddrBytes)+100 > wire.MaxMessageBytes {
		t.Errorf("a full MsgSnap may exceed MaxMessageBytes")
	}
}

func TestSnapshotMetaRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[raft.SnapshotMeta]{wiretest.SnapshotMeta(), wire.AppendSnapshotMeta, wire.ReadSnapshotMeta})
}

func TestMembersRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[[]raft.Member]{wiretest.Members(10), wire.AppendMembers, wire.ReadMembers})
}

func TestSnapshotChunkRoundTrip(t *testing.T) {
	checkRoundTrip(t, codec[*raft.SnapshotChunk]{wiretest.SnapshotChunk(),
		func(b []byte, c *raft.SnapshotChunk) []byte { return wire.AppendSnapshotChunk(b, *c) }, wire.ReadSnapshotChunk})
}
