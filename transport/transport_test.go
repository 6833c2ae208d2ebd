package transport_test

import (
	"bytes"
	"net"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/transport"
)

func TestExchange(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 3, nil)
	const n = 300
	// Sent at once, before connections are up: they wait in the queues.
	for i := uint64(1); i <= n; i++ {
		for _, a := range nodes {
			for _, b := range nodes {
				a.tr.Send(msg(a.id, b.id, i))
			}
		}
	}
	for _, b := range nodes {
		for _, a := range nodes {
			if a == b {
				continue
			}
			waitFor(t, "all messages", func() bool { return len(b.inbox.from(a.id)) >= n })
			if have, want := b.inbox.indexes(a.id), seq(1, n); !slices.Equal(have, want) {
				t.Errorf("node %d from %d: have %v, want %v", b.id, a.id, have, want)
			}
		}
		if have := b.inbox.from(b.id); len(have) != 0 {
			t.Errorf("node %d delivered %d messages to itself", b.id, len(have))
		}
	}
	for _, a := range nodes {
		// The sender counts a batch as sent once its write returns, which
		// may be after the receiver has it.
		waitFor(t, "the counters", func() bool {
			for _, p := range a.tr.Stats().Peers {
				if p.Sent != n {
					return false
				}
			}
			return true
		})
		for _, p := range a.tr.Stats().Peers {
			if !p.Connected || !p.Inbound || p.Sent != n || p.Received != n || p.Dropped != 0 || p.Queued != 0 {
				t.Errorf("node %d: stats %+v, want connected both ways, %d sent and received, nothing dropped or queued", a.id, p, n)
			}
		}
	}
}

func TestMessageFieldsSurvive(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, nil)
	m := raft.Message{
		Type: raft.MsgApp, From: 1, To: 2, Term: 7, LogTerm: 6, Index: 41, Commit: 40,
		Reject: true, RejectHint: 3, Context: []byte("ctx"),
		Entries: []raft.Entry{
			{Term: 7, Index: 42, Data: bytes.Repeat([]byte("x"), 200<<10)},
			{Term: 7, Index: 43, Type: raft.EntryNoop},
		},
	}
	nodes[0].tr.Send(m)
	m.Entries[0].Data[0] = 'y' // Send has encoded m: this changes nothing.
	m.Entries[0].Data[0] = 'x'
	waitFor(t, "the message", func() bool { return nodes[1].inbox.len() == 1 })
	if have := nodes[1].inbox.from(1)[0].m; !reflect.DeepEqual(have, m) {
		t.Errorf("have %+v, want %+v", have, m)
	}
}

func TestStatsAndAddr(t *testing.T) {
	checkGoroutines(t)
	ln := listen(t)
	want := ln.Addr().String()
	n := startNode(t, 1, ln, map[uint64]string{1: want, 3: "127.0.0.1:9", 2: "127.0.0.1:8"}, nil)
	if have := n.tr.Addr().String(); have != want {
		t.Errorf("Addr: have %s, want %s", have, want)
	}
	n.tr.Send(msg(1, 7, 1))
	n.tr.Send(msg(1, 7, 2))
	s := n.tr.Stats()
	if ids := []uint64{s.Peers[0].ID, s.Peers[1].ID}; len(s.Peers) != 2 || !slices.Equal(ids, []uint64{2, 3}) || s.Peers[0].Addr != "127.0.0.1:8" {
		t.Errorf("Stats peers: have %+v, want 2 then 3, without 1", s.Peers)
	}
	if s.Unroutable != 2 {
		t.Errorf("Unroutable: have %d, want 2", s.Unroutable)
	}
	if have := strings.Count(n.logs.String(), "unknown peer"); have != 1 {
		t.Errorf("unknown peer logged %d times, want once:\n%s", have, n.logs)
	}
}

func TestNewErrors(t *testing.T) {
	checkGoroutines(t)
	busy := listen(t)
	defer busy.Close()
	deliver := func(raft.Message) {}
	tests := []struct {
		name string
		cfg  transport.Config
		want string
	}{
		{"zero id", transport.Config{Listen: "127.0.0.1:0"}, "node id 0"},
		{"no address", transport.Config{ID: 1}, "no listen address"},
		{"port in use", transport.Config{ID: 1, Listen: busy.Addr().String()}, "address already in use"},
		{"peer 0", transport.Config{ID: 1, Listen: "127.0.0.1:0", Peers: map[uint64]string{0: "x:1"}}, "peer id 0"},
		{"empty peer address", transport.Config{ID: 1, Listen: "127.0.0.1:0", Peers: map[uint64]string{2: ""}}, "peer 2 has no address"},
		{"frame too large", transport.Config{ID: 1, Listen: "127.0.0.1:0", MaxFrameBytes: 32 << 20}, "max frame bytes"},
		{"queue below frame", transport.Config{ID: 1, Listen: "127.0.0.1:0", QueueBytes: 1 << 20}, "queue bytes"},
		{"negative queue", transport.Config{ID: 1, Listen: "127.0.0.1:0", QueueLen: -1}, "queue length"},
		{"short election timeout", transport.Config{ID: 1, Listen: "127.0.0.1:0", ElectionTimeout: time.Millisecond}, "election timeout 1ms too short"},
		{"negative handshake timeout", transport.Config{ID: 1, Listen: "127.0.0.1:0", HandshakeTimeout: -1}, "negative handshake timeout"},
		{"negative inbound limit", transport.Config{ID: 1, Listen: "127.0.0.1:0", MaxInboundConns: -1}, "negative inbound connection limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := transport.New(tt.cfg, deliver)
			if err == nil {
				tr.Close()
				t.Fatalf("have nil error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "transport: ") {
				t.Errorf("have %q, want a transport error containing %q", err, tt.want)
			}
		})
	}
}

func TestNewClosesListenerOnError(t *testing.T) {
	ln := listen(t)
	if _, err := transport.New(transport.Config{ID: 1, Listener: ln}, nil); err == nil {
		t.Fatal("New accepted a nil deliver function")
	}
	if _, err := ln.Accept(); err == nil {
		t.Error("listener still open after New failed")
	}
}

func TestReconnectAfterRestart(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	a.tr.Send(msg(1, 2, 1))
	waitFor(t, "first message", func() bool { return b.inbox.len() == 1 })
	connected(t, a, b)
	connected(t, b, a)

	if err := b.tr.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node 1 to notice", func() bool { return !a.peerStats(t, 2).Connected })
	// While node 2 is down, messages wait in node 1's queue.
	for i := uint64(2); i <= 11; i++ {
		a.tr.Send(msg(1, 2, i))
	}
	if q := a.peerStats(t, 2).Queued; q != 10 {
		t.Errorf("queued while down: have %d, want 10", q)
	}

	b = startNode(t, 2, relisten(t, b.addr), map[uint64]string{1: a.addr}, nil)
	waitFor(t, "queued messages after restart", func() bool { return b.inbox.len() == 10 })
	if have := b.inbox.indexes(1); !slices.Equal(have, seq(2, 11)) {
		t.Errorf("after restart: have %v, want %v", have, seq(2, 11))
	}
	b.tr.Send(msg(2, 1, 1))
	waitFor(t, "an answer from the restarted node", func() bool { return a.inbox.len() == 1 })
	connected(t, a, b)
	connected(t, b, a)
	if !a.logs.contains("lost connection to peer", "peer=2") || !a.logs.contains("connected to peer", "peer=2") {
		t.Errorf("node 1's logs lack the lost and restored connection:\n%s", a.logs)
	}
}

// stuckPeer is a fake node 2 that answers hellos and then never reads.
func stuckPeer(t *testing.T) net.Listener {
	ln := listen(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			hello := make([]byte, len(helloFrame("wraft", transport.ProtocolVersion, 1, 2)))
			c.Read(hello)
			c.Write(helloFrame("wraft", transport.ProtocolVersion, 2, 1))
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln
}

func TestQueueBound(t *testing.T) {
	const (
		total     = 1000
		dataBytes = 64 << 10
	)
	tests := []struct {
		name                string
		queueLen, queueByte int
		maxQueued           int
	}{
		{"by count", 16, 0, 16},
		{"by bytes", 1000, 8 * (dataBytes + 100), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			stuck := stuckPeer(t)
			a := startNode(t, 1, listen(t), map[uint64]string{2: stuck.Addr().String()}, func(c *transport.Config) {
				c.QueueLen, c.QueueBytes = tt.queueLen, tt.queueByte
				if tt.queueByte != 0 {
					c.MaxFrameBytes = dataBytes + 100
				}
			})
			waitFor(t, "the connection", func() bool { return a.peerStats(t, 2).Connected })
			data := make([]byte, dataBytes)
			for i := uint64(1); i <= total; i++ {
				m := msg(1, 2, i)
				m.Type, m.Entries = raft.MsgApp, []raft.Entry{{Term: 1, Index: i, Data: data}}
				a.tr.Send(m)
			}
			s := a.peerStats(t, 2)
			if s.Queued > tt.maxQueued || s.QueuedBytes > tt.maxQueued*(dataBytes+100) {
				t.Errorf("queued %d messages, %d bytes; want at most %d messages", s.Queued, s.QueuedBytes, tt.maxQueued)
			}
			// The kernel's socket buffers absorb a few megabytes at most.
			if s.Dropped < total/2 || s.Dropped+s.Sent+uint64(s.Queued) > total {
				t.Errorf("stats %+v: want most of %d messages dropped, and no more accounted for than sent", s, total)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > 32<<20 { // unbounded, the queue would hold 64 MiB
				t.Errorf("heap: have %d MiB, want < 32 MiB", ms.HeapAlloc>>20)
			}
			// Close interrupts the blocked write.
			closed := make(chan error)
			go func() { closed <- a.tr.Close() }()
			select {
			case err := <-closed:
				if err != nil {
					t.Error(err)
				}
			case <-time.After(patience):
				t.Fatal("Close blocked behind a peer that does not read")
			}
		})
	}
}

func TestSendTooLarge(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, func(id uint64, c *transport.Config) { c.MaxFrameBytes = 1024 })
	a, b := nodes[0], nodes[1]
	big := msg(1, 2, 1)
	big.Context = make([]byte, 1000)
	big.Entries = []raft.Entry{{Data: make([]byte, 1000)}}
	a.tr.Send(big)
	a.tr.Send(msg(1, 2, 2))
	waitFor(t, "the small message", func() bool { return b.inbox.len() == 1 })
	if have := b.inbox.indexes(1); !slices.Equal(have, []uint64{2}) {
		t.Errorf("delivered %v, want [2]", have)
	}
	if s := a.peerStats(t, 2); s.Dropped != 1 || s.Sent != 1 {
		t.Errorf("stats %+v, want 1 dropped and 1 sent", s)
	}
	if !a.logs.contains("message too large to send", "bytes=2") {
		t.Errorf("logs lack the dropped message:\n%s", a.logs)
	}
}

func TestOversizedFrameClosesConnection(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, func(id uint64, c *transport.Config) {
		if id == 2 {
			c.MaxFrameBytes = 1024
		}
	})
	a, b := nodes[0], nodes[1]
	big := msg(1, 2, 1)
	big.Entries = []raft.Entry{{Data: make([]byte, 2000)}}
	a.tr.Send(big)
	waitFor(t, "the frame to be refused", func() bool { return b.logs.contains("closing connection from peer", "frame too large") })
	// Node 1 reconnects; a message written before it noticed may be lost.
	for i := uint64(2); b.inbox.len() == 0; i++ {
		a.tr.Send(msg(1, 2, i))
		waitFor(t, "node 1 to send", func() bool { return a.peerStats(t, 2).Queued == 0 })
		time.Sleep(20 * time.Millisecond)
		if i > 1000 {
			t.Fatal("no message arrives after the oversized one")
		}
	}
	if have := b.inbox.from(1)[0].m; have.Index < 2 {
		t.Errorf("delivered %+v, want a small message", have)
	}
}

// TestBadInputClosesConnection sends a valid hello and then something
// wrong, which must close the connection with a log line.
func TestBadInputClosesConnection(t *testing.T) {
	tests := []struct {
		name string
		send []byte
		log  string
	}{
		{"oversized length", []byte{0, 0, 4, 1}, "frame too large (1025 > 1024 bytes)"},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff}, "frame too large"},
		{"empty frame", []byte{0, 0, 0, 0}, "empty frame"},
		{"not a message", frame([]byte{1, 99, 0}), "bad message"},
		{"other version", frame([]byte{2, 7}), "bad message"},
		{"wrong sender", messageFrame(msg(3, 1, 1)), "message from node 3 on node 2's connection"},
		{"wrong receiver", messageFrame(msg(2, 3, 1)), "message to node 3"},
		{"good then bad", append(messageFrame(msg(2, 1, 1)), 0, 0, 0, 0), "empty frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9", 3: "127.0.0.1:9"}, func(c *transport.Config) { c.MaxFrameBytes = 1024 })
			conn := dial(t, a.addr)
			if answer := rawHello(t, conn, 2, 1); !bytes.Equal(answer, helloFrame("wraft", 1, 1, 2)) {
				t.Fatalf("hello answered with % x", answer)
			}
			if _, err := conn.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			readAll(t, conn)
			waitFor(t, "the log line", func() bool {
				return a.logs.contains("level=WARN", "closing connection from peer", "peer=2", conn.LocalAddr().String(), tt.log)
			})
			if s := a.tr.Stats(); s.Refused != 0 {
				t.Errorf("Refused: have %d, want 0 (the hello was good)", s.Refused)
			}
			if a.inbox.len() > 1 {
				t.Errorf("delivered %d messages", a.inbox.len())
			}
		})
	}
}

// TestRefusedHello sends hellos that must be refused: the connection
// closes without an answer, and the refusal is logged and counted.
func TestRefusedHello(t *testing.T) {
	tests := []struct {
		name  string
		hello []byte
		log   string
	}{
		{"unknown sender", helloFrame("wraft", 1, 9, 1), "hello from node 9, not a member"},
		{"self as sender", helloFrame("wraft", 1, 1, 1), "hello from node 1, not a member"},
		{"other receiver", helloFrame("wraft", 1, 2, 5), "hello addressed to node 5"},
		{"bad magic", helloFrame("wrong", 1, 2, 1), "lacks the magic"},
		{"other version", helloFrame("wraft", 3, 2, 1), "protocol version 3"},
		{"trailing bytes", frame(append(helloFrame("wraft", 1, 2, 1)[4:], 0)), "bad hello"},
		{"truncated", frame([]byte("wraft\x01\x02")), "bad hello"},
		{"long hello", frame(make([]byte, 1089)), "frame too large (1089 > 1088 bytes)"}, // 64 + wire.MaxAddrBytes
		{"no hello", nil, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, nil)
			conn := dial(t, a.addr)
			conn.Write(tt.hello)
			conn.(*net.TCPConn).CloseWrite()
			if answer := readAll(t, conn); len(answer) != 0 {
				t.Errorf("hello answered with % x", answer)
			}
			waitFor(t, "the refusal", func() bool { return a.tr.Stats().Refused == 1 })
			if !a.logs.contains("level=WARN", "refused connection", "remote="+conn.LocalAddr().String(), tt.log) {
				t.Errorf("logs lack a warning with the remote address and %q:\n%s", tt.log, a.logs)
			}
		})
	}
}

func TestUnknownNodeRefused(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, nil)
	rogue := startNode(t, 9, listen(t), map[uint64]string{1: a.addr}, nil)
	for i := uint64(1); i <= 10; i++ {
		rogue.tr.Send(msg(9, 1, i))
	}
	waitFor(t, "repeated refusals", func() bool { return a.tr.Stats().Refused >= 2 })
	if a.inbox.len() != 0 {
		t.Errorf("delivered %d messages from a stranger", a.inbox.len())
	}
	if s := rogue.peerStats(t, 1); s.Connected || s.Sent != 0 {
		t.Errorf("rogue's stats %+v, want not connected and nothing sent", s)
	}
	if !rogue.logs.contains("level=WARN", "cannot connect to peer", "refused by peer") {
		t.Errorf("rogue's logs lack the refusal:\n%s", rogue.logs)
	}
}

func TestNewConnectionReplacesOld(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, nil)
	first := dial(t, a.addr)
	rawHello(t, first, 2, 1)
	second := dial(t, a.addr)
	rawHello(t, second, 2, 1)
	readAll(t, first) // closed by node 1
	second.Write(messageFrame(msg(2, 1, 1)))
	waitFor(t, "the message on the new connection", func() bool { return a.inbox.len() == 1 })
	if !a.peerStats(t, 2).Inbound {
		t.Error("Inbound: have false, want true")
	}
}

func TestSetPeers(t *testing.T) {
	checkGoroutines(t)
	lnA, lnB := listen(t), listen(t)
	a := startNode(t, 1, lnA, nil, nil)
	b := startNode(t, 2, lnB, map[uint64]string{1: lnA.Addr().String()}, nil)
	waitFor(t, "node 2 to be refused", func() bool { return a.tr.Stats().Refused >= 1 })

	if err := a.tr.SetPeers(map[uint64]string{1: a.addr, 2: b.addr}); err != nil {
		t.Fatal(err)
	}
	a.tr.Send(msg(1, 2, 1))
	b.tr.Send(msg(2, 1, 1))
	waitFor(t, "messages both ways", func() bool { return a.inbox.len() == 1 && b.inbox.len() == 1 })
	connected(t, b, a)

	if err := a.tr.SetPeers(map[uint64]string{}); err != nil {
		t.Fatal(err)
	}
	if s := a.tr.Stats(); len(s.Peers) != 0 {
		t.Errorf("peers after removal: %+v", s.Peers)
	}
	waitFor(t, "node 2's connection to close", func() bool { return !b.peerStats(t, 1).Connected })
	a.tr.Send(msg(1, 2, 2))
	if s := a.tr.Stats(); s.Unroutable != 1 {
		t.Errorf("Unroutable: have %d, want 1", s.Unroutable)
	}
	if err := a.tr.SetPeers(map[uint64]string{0: "x"}); err == nil {
		t.Error("SetPeers accepted peer 0")
	}
	a.tr.Close()
	if err := a.tr.SetPeers(nil); err != transport.ErrClosed {
		t.Errorf("SetPeers after Close: have %v, want ErrClosed", err)
	}
	a.tr.Send(msg(1, 2, 3)) // does nothing
	if err := a.tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
