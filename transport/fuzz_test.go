package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// FuzzInbound feeds arbitrary bytes to what reads an accepted connection:
// the hello, then frames of messages from node 1 to node 2. It must never
// panic, must deliver only messages from 1 to 2, and must end with io.EOF
// only at a frame boundary.
func FuzzInbound(f *testing.F) {
	good := appendHello(nil, hello{version: ProtocolVersion, from: 1, to: 2})
	good = appendPing(good)
	good = appendMessageFrame(good, raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 3})
	good = appendMessageFrame(good, raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 3, Index: 4,
		Entries: []raft.Entry{{Term: 3, Index: 5, Data: []byte("set x 1")}}})
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(appendHello(nil, hello{version: 1, from: 1<<64 - 1, to: 0}))
	f.Add(append(appendHello(nil, hello{version: ProtocolVersion, from: 1, to: 2}), 0xff, 0xff, 0xff, 0xff))
	f.Add(append(appendHello(nil, hello{version: ProtocolVersion, from: 1, to: 2}), 0, 0, 0, 0))
	f.Add(appendMessageFrame(appendHello(nil, hello{version: ProtocolVersion, from: 1, to: 2}), raft.Message{Type: raft.MsgVote, From: 3, To: 2}))
	f.Add([]byte("wraft"))
	f.Add([]byte{})

	cfg, err := Config{ID: 2, Listen: "unused", MaxFrameBytes: 1 << 16}.withDefaults()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		delivered := 0
		tr := newTransport(cfg, func(m raft.Message) {
			if m.From != 1 || m.To != 2 {
				t.Fatalf("delivered a message from %d to %d", m.From, m.To)
			}
			delivered++
		})
		defer tr.cancel()
		br := bufio.NewReader(bytes.NewReader(b))
		h, err := readHello(br)
		if err != nil {
			return
		}
		if h.from != 1 || h.to != 2 {
			return // admit would refuse it
		}
		c := &counters{}
		err = tr.readLoop(br, &inbound{from: h.from, c: c, pings: h.version >= 2, bytes: new(atomic.Uint64), pinged: make(chan struct{}, 1)})
		if err == nil {
			t.Fatal("readLoop ended without an error")
		}
		if c.received.Load() != uint64(delivered) {
			t.Fatalf("received %d, delivered %d", c.received.Load(), delivered)
		}
		if errors.Is(err, io.EOF) && br.Buffered() != 0 {
			t.Fatalf("clean end with %d bytes unread", br.Buffered())
		}
	})
}

// FuzzAck checks that acknowledgements round-trip and that parseAck never
// panics.
func FuzzAck(f *testing.F) {
	f.Add(uint64(0), []byte{0, 0})
	f.Add(uint64(1<<64-1), []byte{0})
	f.Add(uint64(7), []byte{1, 2})
	f.Fuzz(func(t *testing.T, n uint64, payload []byte) {
		b := appendAck(nil, n)
		if l := binary.BigEndian.Uint32(b); int(l) != len(b)-frameHeaderBytes || l > maxAckBytes {
			t.Fatalf("ack frame length %d for %d bytes", l, len(b))
		}
		if have, err := parseAck(b[frameHeaderBytes:]); err != nil || have != n {
			t.Fatalf("have %d, %v, want %d", have, err, n)
		}
		if n, err := parseAck(payload); err == nil {
			if again := appendAck(nil, n)[frameHeaderBytes:]; !bytes.Equal(again, payload) {
				t.Fatalf("accepted % x, which re-encodes as % x", payload, again)
			}
		}
	})
}

// FuzzHello checks that hellos, with or without an API URL, round-trip,
// and that parseHello never panics and accepts only what appendHello
// writes.
func FuzzHello(f *testing.F) {
	f.Add(uint64(1), uint64(2), "", []byte("wraft\x01\x01\x02"))
	f.Add(uint64(1<<64-1), uint64(0), "", []byte("wraft\x02"))
	f.Add(uint64(3), uint64(1), "http://10.0.0.3:8003", []byte("wraft\x02\x03\x01\x14http://10.0.0.3:8003"))
	f.Add(uint64(3), uint64(1), "https://n3.example", []byte("wraft\x02\x03\x01\x00"))                   // empty API URL: refused
	f.Add(uint64(3), uint64(1), "x", []byte("wraft\x01\x03\x01\x01x"))                                   // version 1 carries none
	f.Add(uint64(3), uint64(1), "x", []byte("wraft\x02\x03\x01\x80\x08"))                                // 1024 bytes announced, none there
	f.Add(uint64(3), uint64(1), "x", append([]byte("wraft\x02\x03\x01\x81\x08"), make([]byte, 1025)...)) // too long
	f.Fuzz(func(t *testing.T, from, to uint64, api string, payload []byte) {
		if len(api) > wire.MaxAddrBytes {
			api = api[:wire.MaxAddrBytes]
		}
		want := hello{version: ProtocolVersion, from: from, to: to, api: api}
		b := appendHello(nil, want)
		if n := binary.BigEndian.Uint32(b); int(n) != len(b)-frameHeaderBytes || n > maxHelloBytes {
			t.Fatalf("hello frame length %d for %d bytes", n, len(b))
		}
		h, err := readHello(bufio.NewReader(bytes.NewReader(b)))
		if err != nil || h != want {
			t.Fatalf("have %+v, %v, want %+v, nil", h, err, want)
		}
		if h, err := parseHello(payload); err == nil {
			if len(h.api) > wire.MaxAddrBytes || h.version < 2 && h.api != "" {
				t.Fatalf("accepted % x as %+v", payload, h)
			}
			if again := appendHello(nil, h)[frameHeaderBytes:]; !bytes.Equal(again, payload) {
				t.Fatalf("accepted % x, which re-encodes as % x", payload, again)
			}
		}
	})
}

// TestParseHelloAPI: the API URL is an optional trailing field of a
// version-2 hello; an empty, truncated or too long one, or one in a
// version-1 hello, is refused.
func TestParseHelloAPI(t *testing.T) {
	long := string(make([]byte, wire.MaxAddrBytes))
	for _, tc := range []struct {
		payload string
		api     string // "" with ok: accepted without one
		ok      bool
	}{
		{"wraft\x02\x03\x01", "", true},
		{"wraft\x01\x03\x01", "", true},
		{"wraft\x02\x03\x01\x14http://10.0.0.3:8003", "http://10.0.0.3:8003", true},
		{"wraft\x02\x03\x01\x80\x08" + long, long, true},
		{"wraft\x02\x03\x01\x81\x08" + long + "x", "", false},
		{"wraft\x02\x03\x01\x00", "", false},
		{"wraft\x02\x03\x01\x05http", "", false},
		{"wraft\x02\x03\x01\x04httpx", "", false},
		{"wraft\x01\x03\x01\x01x", "", false},
	} {
		h, err := parseHello([]byte(tc.payload))
		if (err == nil) != tc.ok || err == nil && h.api != tc.api {
			t.Errorf("% x: have %q, %v; want %q, ok %v", tc.payload, h.api, err, tc.api, tc.ok)
		}
		if err != nil && !errors.Is(err, errProtocol) {
			t.Errorf("% x: error %v is not a protocol error", tc.payload, err)
		}
	}
	if b := appendHello(nil, hello{version: ProtocolVersion, from: 1<<64 - 1, to: 1<<64 - 1, api: long}); len(b)-frameHeaderBytes > maxHelloBytes {
		t.Errorf("longest hello: %d bytes, over maxHelloBytes %d", len(b)-frameHeaderBytes, maxHelloBytes)
	}
}

func TestReadFrameGrowsAsDataArrives(t *testing.T) {
	// A header promising 10 MiB, then 100 bytes: what is allocated stays
	// near what arrived, not what was promised.
	b := binary.BigEndian.AppendUint32(nil, 10<<20)
	b = append(b, make([]byte, 100)...)
	br := bufio.NewReader(bytes.NewReader(b))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readFrame(br, nil, 16<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("have %v, want io.ErrUnexpectedEOF", err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 2*readChunkBytes {
		t.Errorf("allocated %d bytes for 100 bytes of a 10 MiB frame", grown)
	}
}

func TestMessageFrameMatchesWire(t *testing.T) {
	m := raft.Message{Type: raft.MsgApp, From: 1, To: 2, Entries: []raft.Entry{{Data: make([]byte, 300)}}, Context: []byte("c")}
	b := appendMessageFrame(nil, m)
	want := wire.AppendMessage(nil, m)
	if n := binary.BigEndian.Uint32(b); int(n) != len(want) || !bytes.Equal(b[4:], want) {
		t.Errorf("frame % x, want length %d and % x", b[:8], len(want), want[:4])
	}
	if h := sizeHint(m); h < len(b) {
		t.Errorf("sizeHint %d below frame size %d", h, len(b))
	}
}
