package transport_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/transport"
)

// electionTimeout is the election timeout of the liveness tests' nodes.
const electionTimeout = 200 * time.Millisecond

func withElectionTimeout(_ uint64, c *transport.Config) { c.ElectionTimeout = electionTimeout }

// accepted counts the connections from peer that n accepted.
func (n *node) accepted(peer uint64) int {
	count := 0
	for line := range strings.Lines(n.logs.String()) {
		if all(line, []string{"accepted connection from peer", "peer=" + strconv.FormatUint(peer, 10) + " "}) {
			count++
		}
	}
	return count
}

// TestStallHealRedials stalls node 1's link with node 2, as a firewall
// dropping its packets would, and heals it. The stalled connection would
// stay silent until its next retransmission (3 s after the stall began);
// node 1 must instead notice the silence and redial, so that a message
// sent after the heal travels on a new connection.
func TestStallHealRedials(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, withElectionTimeout)
	a, b := nodes[0], nodes[1]
	a.tr.Send(msg(1, 2, 1))
	waitFor(t, "the first message", func() bool { return b.inbox.len() == 1 })
	if have := b.accepted(1); have != 1 {
		t.Fatalf("node 2 accepted %d connections from node 1, want 1", have)
	}

	a.tr.SetFaults(transport.Faults{Stalled: []uint64{2}})
	stalled := time.Now()
	a.tr.Send(msg(1, 2, 2))
	time.Sleep(1500 * time.Millisecond) // 1.4 s is the stalled connection's last retransmission before the heal
	a.tr.SetFaults(transport.Faults{})
	healed := time.Now()
	// An append, which waits for the link however long it takes (a
	// heartbeat would be dropped as stale if the link took longer than an
	// election timeout to return).
	a.tr.Send(raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 1, Index: 3})
	waitFor(t, "a message after the heal", func() bool { return slices.Contains(b.inbox.indexes(1), 3) })
	t.Logf("stalled %v; message after the heal arrived %v after it", healed.Sub(stalled).Round(time.Millisecond), time.Since(healed).Round(time.Millisecond))
	if have := b.accepted(1); have < 2 {
		t.Errorf("node 2 accepted %d connections from node 1, want a new one after the stall", have)
	}
	if !a.logs.contains("lost connection to peer", "peer=2", "no acknowledgement") {
		t.Errorf("node 1's logs lack the silent connection's end:\n%s", a.logs)
	}
}

// TestStaleVotesDroppedAfterStall queues pre-votes, an append and a
// heartbeat while the link is down, and sends a newer heartbeat after the
// heal: the old pre-votes and heartbeat must be dropped, not flushed, and
// the append kept.
func TestStaleVotesDroppedAfterStall(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, withElectionTimeout)
	a, b := nodes[0], nodes[1]
	connected(t, a, b)
	a.tr.SetFaults(transport.Faults{Stalled: []uint64{2}})
	waitFor(t, "node 1 to give up its stalled connection", func() bool { return !a.peerStats(t, 2).Connected })
	for i := uint64(1); i <= 8; i++ {
		a.tr.Send(raft.Message{Type: raft.MsgPreVote, From: 1, To: 2, Term: 5, Index: i})
	}
	a.tr.Send(raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 4, Index: 20, Entries: []raft.Entry{{Term: 4, Index: 21}}})
	a.tr.Send(raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 4, Index: 30})
	if s := a.peerStats(t, 2); s.Queued != 10 {
		t.Fatalf("stats %+v, want 10 queued while disconnected", s)
	}
	time.Sleep(2 * electionTimeout) // they grow old
	a.tr.SetFaults(transport.Faults{})
	// New heartbeats, as a leader sends them, until one arrives.
	next := uint64(100)
	waitFor(t, "a new heartbeat", func() bool {
		if slices.ContainsFunc(b.inbox.indexes(1), func(i uint64) bool { return i >= 100 }) {
			return true
		}
		a.tr.Send(raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 6, Index: next})
		next++
		return false
	})
	waitFor(t, "the append", func() bool { return slices.Contains(b.inbox.indexes(1), 20) })
	for _, got := range b.inbox.from(1) {
		if got.m.Type == raft.MsgPreVote || got.m.Index == 30 {
			t.Errorf("stale %v (index %d) delivered after the stall", got.m.Type, got.m.Index)
		}
	}
	if s := a.peerStats(t, 2); s.Stale < 9 {
		t.Errorf("stats %+v, want at least 9 stale", s)
	}
}

// TestHeartbeatOvertakesAppends queues large appends and then a
// heartbeat before node 2 answers: the heartbeat must not wait behind
// them.
func TestHeartbeatOvertakesAppends(t *testing.T) {
	checkGoroutines(t)
	lnB := listen(t) // node 2 does not answer yet
	// A long election timeout: the heartbeat must not grow stale however
	// slowly node 2 starts.
	a := startNode(t, 1, listen(t), map[uint64]string{2: lnB.Addr().String()}, func(c *transport.Config) { c.ElectionTimeout = patience })
	data := make([]byte, 256<<10)
	for i := uint64(1); i <= 8; i++ {
		a.tr.Send(raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 4, Index: i, Entries: []raft.Entry{{Term: 4, Index: i + 1, Data: data}}})
	}
	a.tr.Send(raft.Message{Type: raft.MsgHeartbeat, From: 1, To: 2, Term: 4, Index: 100})
	if s := a.peerStats(t, 2); s.Queued != 9 || s.Connected {
		t.Fatalf("stats %+v, want 9 queued, not connected", s)
	}
	b := startNode(t, 2, lnB, map[uint64]string{1: a.addr}, nil)
	waitFor(t, "every message", func() bool { return b.inbox.len() == 9 })
	if first := b.inbox.from(1)[0].m; first.Type != raft.MsgHeartbeat {
		t.Errorf("first delivered: %v %d, want the heartbeat", first.Type, first.Index)
	}
	if have := b.inbox.indexes(1)[1:]; !slices.Equal(have, seq(1, 8)) {
		t.Errorf("appends arrived as %v, want %v", have, seq(1, 8))
	}
}

// TestHelloBeforeMembership sends a hello from a node that the receiver
// does not know yet, as happens when a node restarts and learns its
// members after its transport starts: the hello waits for SetPeers
// rather than being refused.
func TestHelloBeforeMembership(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), nil, func(c *transport.Config) { c.HandshakeTimeout = patience })
	conn := dial(t, a.addr)
	if _, err := conn.Write(helloFrame("wraft", transport.ProtocolVersion, 2, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hello to be read", func() bool {
		return a.tr.Stats().Refused > 0 || a.logs.contains("hello from a node not yet a member", "peer=2")
	})
	if err := a.tr.SetPeers(map[uint64]string{2: "127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	want := helloFrame("wraft", transport.ProtocolVersion, 1, 2)
	conn.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, len(want))
	n, _ := conn.Read(got)
	if !bytes.Equal(got[:n], want) {
		t.Errorf("answer % x, want % x; refused %d", got[:n], want, a.tr.Stats().Refused)
	}
}

// TestHelloQueuedBeforeNew dials a listener before its Transport exists:
// the hello waiting in the backlog must find the peers registered.
func TestHelloQueuedBeforeNew(t *testing.T) {
	checkGoroutines(t)
	ln := listen(t)
	conn := dial(t, ln.Addr().String())
	if _, err := conn.Write(helloFrame("wraft", transport.ProtocolVersion, 2, 1)); err != nil {
		t.Fatal(err)
	}
	a := startNode(t, 1, ln, map[uint64]string{2: "127.0.0.1:9"}, nil)
	want := helloFrame("wraft", transport.ProtocolVersion, 1, 2)
	conn.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, len(want))
	n, _ := conn.Read(got)
	if !bytes.Equal(got[:n], want) {
		t.Errorf("answer % x, want % x; refused %d", got[:n], want, a.tr.Stats().Refused)
	}
}

// TestIdleInboundClosed says a hello and then nothing: the receiver
// closes the connection after a few election timeouts.
func TestIdleInboundClosed(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, func(c *transport.Config) { c.ElectionTimeout = 50 * time.Millisecond })
	conn := dial(t, a.addr)
	if answer := rawHello(t, conn, 2, 1); len(answer) == 0 {
		t.Fatal("hello not answered")
	}
	readAll(t, conn)
	waitFor(t, "the log line", func() bool { return a.logs.contains("closing connection from peer", "peer=2", "timeout") })
}

// openFDs counts this process's open file descriptors, or returns -1
// where /proc is missing.
func openFDs() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds)
}

// TestIdleConnectionsBeforeHello opens many connections to the peer port
// that say nothing: they are closed after the handshake timeout, their
// descriptors are released, and members still talk.
func TestIdleConnectionsBeforeHello(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, func(id uint64, c *transport.Config) { c.HandshakeTimeout = 300 * time.Millisecond })
	a, b := nodes[0], nodes[1]
	connected(t, b, a)
	before := openFDs()
	var idlers []net.Conn
	for range 50 {
		idlers = append(idlers, dial(t, a.addr))
	}
	for _, c := range idlers {
		readAll(t, c) // closed by node 1
		c.Close()
	}
	if before >= 0 {
		// A few to spare: the nodes' own connections may be redialling
		// (a loaded machine can starve them of acknowledgements).
		waitFor(t, "descriptors to be released", func() bool { return openFDs() <= before+4 })
	}
	waitFor(t, "the refusals", func() bool { return a.tr.Stats().Refused == 50 })
	a.tr.Send(msg(1, 2, 1))
	b.tr.Send(msg(2, 1, 1))
	waitFor(t, "messages both ways", func() bool { return a.inbox.len() == 1 && b.inbox.len() == 1 })
}

// TestInboundConnsCapped opens more connections to the peer port than
// MaxInboundConns allows: the excess are closed at once, and once the
// others close, members connect again.
func TestInboundConnsCapped(t *testing.T) {
	checkGoroutines(t)
	const maxConns, idle = 8, 20
	nodes := newCluster(t, 2, func(id uint64, c *transport.Config) {
		c.MaxInboundConns = maxConns
		c.HandshakeTimeout = 2 * patience
	})
	a, b := nodes[0], nodes[1]
	connected(t, b, a)
	var idlers []net.Conn
	for range idle {
		idlers = append(idlers, dial(t, a.addr))
	}
	// Node 2's connection holds one place.
	excess := idle - (maxConns - 1)
	// (At least: node 2 may lose its connection, on a loaded machine, and
	// find no room either.)
	waitFor(t, "the excess connections to be refused", func() bool { return a.tr.Stats().Refused >= uint64(excess) })
	if !a.logs.contains("level=WARN", "too many incoming connections") {
		t.Errorf("logs lack the refusal for the cap:\n%s", a.logs)
	}
	for _, c := range idlers {
		c.Close()
	}
	waitFor(t, "the others to be refused", func() bool { return a.tr.Stats().Refused >= idle })
	a.tr.Send(msg(1, 2, 1))
	b.tr.Send(msg(2, 1, 1))
	waitFor(t, "messages both ways", func() bool { return a.inbox.len() == 1 && b.inbox.len() == 1 })
}

// TestSlowDeliveryIsNotSilence blocks node 2's delivery of a message for
// three election timeouts: node 2 is slow, not gone, and node 1 keeps its
// connection. (The election timeout is a second, so that a loaded machine
// does not delay acknowledgements that long.)
func TestSlowDeliveryIsNotSilence(t *testing.T) {
	checkGoroutines(t)
	const electionTimeout = time.Second
	lns := []net.Listener{listen(t), listen(t)}
	peers := map[uint64]string{1: lns[0].Addr().String(), 2: lns[1].Addr().String()}
	a := startNode(t, 1, lns[0], peers, func(c *transport.Config) { c.ElectionTimeout = electionTimeout })
	release := make(chan struct{})
	var got inbox
	cfg := transport.Config{ID: 2, Listener: lns[1], Peers: peers, ElectionTimeout: electionTimeout}
	b, err := transport.New(cfg, func(m raft.Message) {
		if m.Index == 1 {
			<-release
		}
		got.deliver(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.tr.Send(msg(1, 2, 1))
	waitFor(t, "the first message to be read", func() bool { return a.peerStats(t, 2).Sent == 1 })
	for i := uint64(2); i <= 7; i++ {
		a.tr.Send(raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 1, Index: i})
		time.Sleep(electionTimeout / 2)
	}
	close(release)
	waitFor(t, "every message", func() bool { return got.len() == 7 })
	if s := a.peerStats(t, 2); s.Silent != 0 || s.Dropped != 0 {
		t.Errorf("stats %+v, want the connection kept and nothing dropped", s)
	}
}

// TestVersion1Hello says hello in the protocol before acknowledgements:
// it is answered in kind, messages are delivered and nothing else is
// written back.
func TestVersion1Hello(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, func(c *transport.Config) { c.ElectionTimeout = electionTimeout })
	conn := dial(t, a.addr)
	if _, err := conn.Write(helloFrame("wraft", 1, 2, 1)); err != nil {
		t.Fatal(err)
	}
	want := helloFrame("wraft", 1, 1, 2)
	conn.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, len(want))
	if n, _ := io.ReadFull(conn, got); !bytes.Equal(got[:n], want) {
		t.Fatalf("answer % x, want % x", got[:n], want)
	}
	conn.Write(messageFrame(msg(2, 1, 1)))
	waitFor(t, "the message", func() bool { return a.inbox.len() == 1 })
	// Several acknowledgement periods pass: nothing comes back.
	conn.SetReadDeadline(time.Now().Add(2 * electionTimeout))
	if n, err := conn.Read(got); n != 0 || !os.IsTimeout(err) {
		t.Errorf("read %d bytes (%v) from a version-1 connection, want none", n, err)
	}
}

// TestAcknowledgements speaks version 2 by hand: pings and messages are
// acknowledged by count, pings are not delivered.
func TestAcknowledgements(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, func(c *transport.Config) { c.ElectionTimeout = electionTimeout })
	conn := dial(t, a.addr)
	conn.Write(helloFrame("wraft", transport.ProtocolVersion, 2, 1))
	want := helloFrame("wraft", transport.ProtocolVersion, 1, 2)
	conn.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, len(want))
	if n, _ := io.ReadFull(conn, got); !bytes.Equal(got[:n], want) {
		t.Fatalf("answer % x, want % x", got[:n], want)
	}
	conn.Write(frame([]byte{0}))
	conn.Write(messageFrame(msg(2, 1, 1)))
	conn.Write(frame([]byte{0}))
	conn.SetReadDeadline(time.Now().Add(patience))
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(conn, p); err != nil {
			t.Fatal(err)
		}
		if len(p) != 2 || p[0] != 0 || p[1] > 3 {
			t.Fatalf("acknowledgement % x, want 00 and a count up to 3", p)
		}
		if p[1] == 3 {
			break
		}
	}
	if have := a.inbox.len(); have != 1 {
		t.Errorf("delivered %d messages, want 1", have)
	}
}

// TestStallTLS stalls a TLS link and heals it: a message sent after the
// heal arrives. Closing the silent connection must not wait for TLS's
// close_notify alert, which the stall holds for up to 5 s (logged, not
// asserted).
func TestStallTLS(t *testing.T) {
	checkGoroutines(t)
	p := newPKI(t, "wraft test CA", 1, 2)
	nodes := newCluster(t, 2, func(id uint64, c *transport.Config) {
		c.TLS = p.config(t, id)
		c.ElectionTimeout = electionTimeout
	})
	a, b := nodes[0], nodes[1]
	connected(t, a, b)
	a.tr.SetFaults(transport.Faults{Stalled: []uint64{2}})
	stalled := time.Now()
	a.tr.Send(msg(1, 2, 1)) // lost with the stalled connection
	waitFor(t, "node 1 to give up its stalled connection", func() bool { return !a.peerStats(t, 2).Connected })
	t.Logf("node 1 gave up its stalled connection after %v", time.Since(stalled).Round(time.Millisecond))
	a.tr.SetFaults(transport.Faults{})
	a.tr.Send(msg(1, 2, 2))
	waitFor(t, "the message after the heal", func() bool { return slices.Contains(b.inbox.indexes(1), 2) })
	if !a.logs.contains("lost connection to peer", "no acknowledgement") {
		t.Errorf("node 1's logs lack the silent connection's end:\n%s", a.logs)
	}
}
