package transport_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/transport"
	"github.com/wraft/wraft/wire"
)

// patience bounds every wait for something that should happen; tests
// never assert how quickly it happens.
const patience = 20 * time.Second

// checkGoroutines fails t if, once its other cleanups have run, more
// goroutines remain than when it was called. Call it first.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(patience)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines after Close: have %d, want <= %d\n%s", runtime.NumGoroutine(), before, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// waitFor waits until cond holds, failing t after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logBuffer collects a node's logs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// contains reports whether some line of the logs holds every one of parts.
func (l *logBuffer) contains(parts ...string) bool {
	for line := range strings.Lines(l.String()) {
		if all(line, parts) {
			return true
		}
	}
	return false
}

func all(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// arrival is a delivered message and when it came.
type arrival struct {
	m  raft.Message
	at time.Time
}

// inbox collects delivered messages.
type inbox struct {
	mu   sync.Mutex
	msgs []arrival
}

func (b *inbox) deliver(m raft.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, arrival{m, time.Now()})
}

// from returns the messages from id, in order of arrival.
func (b *inbox) from(id uint64) []arrival {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []arrival
	for _, a := range b.msgs {
		if a.m.From == id {
			out = append(out, a)
		}
	}
	return out
}

// indexes returns the Index of each message from id.
func (b *inbox) indexes(id uint64) []uint64 {
	var out []uint64
	for _, a := range b.from(id) {
		out = append(out, a.m.Index)
	}
	return out
}

func (b *inbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

// node is a Transport under test with its inbox and logs.
type node struct {
	id    uint64
	addr  string
	tr    *transport.Transport
	inbox *inbox
	logs  *logBuffer
}

// listen listens at a free port of 127.0.0.1.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// relisten listens at addr again, retrying while the port is busy.
func relisten(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	waitFor(t, "listening at "+addr, func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	return ln
}

// startNode starts a Transport for node id on ln, closed when t ends.
func startNode(t *testing.T, id uint64, ln net.Listener, peers map[uint64]string, tweak func(*transport.Config)) *node {
	t.Helper()
	n := &node{id: id, addr: ln.Addr().String(), inbox: &inbox{}, logs: &logBuffer{}}
	cfg := transport.Config{
		ID:       id,
		Listener: ln,
		Peers:    peers,
		Logger:   slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	tr, err := transport.New(cfg, n.inbox.deliver)
	if err != nil {
		t.Fatalf("node %d: %v", id, err)
	}
	n.tr = tr
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("node %d: Close: %v", id, err)
		}
		if t.Failed() {
			t.Logf("logs of node %d:\n%s", id, n.logs)
		}
	})
	return n
}

// newCluster starts nodes 1 to size, each knowing all the others (and
// itself, which Config ignores).
func newCluster(t *testing.T, size int, tweak func(id uint64, c *transport.Config)) []*node {
	t.Helper()
	lns := make([]net.Listener, size)
	peers := map[uint64]string{}
	for i := range lns {
		lns[i] = listen(t)
		peers[uint64(i+1)] = lns[i].Addr().String()
	}
	nodes := make([]*node, size)
	for i, ln := range lns {
		id := uint64(i + 1)
		nodes[i] = startNode(t, id, ln, peers, func(c *transport.Config) {
			if tweak != nil {
				tweak(id, c)
			}
		})
	}
	return nodes
}

// peerStats returns n's stats about peer id.
func (n *node) peerStats(t *testing.T, id uint64) transport.PeerStats {
	t.Helper()
	for _, p := range n.tr.Stats().Peers {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("node %d has no peer %d", n.id, id)
	return transport.PeerStats{}
}

// connected waits until a's connection to b is up both ways.
func connected(t *testing.T, a, b *node) {
	t.Helper()
	waitFor(t, "connection between nodes", func() bool {
		return a.peerStats(t, b.id).Connected && b.peerStats(t, a.id).Inbound
	})
}

// msg returns a small message from one node to another, numbered by index:
// an answer to an append, which (unlike a heartbeat) is never dropped as
// stale however long it waits for a connection.
func msg(from, to, index uint64) raft.Message {
	return raft.Message{Type: raft.MsgAppResp, From: from, To: to, Term: 1, Index: index}
}

// helloFrame builds a hello by hand, as the package documentation
// describes it.
func helloFrame(magic string, version byte, from, to uint64) []byte {
	p := []byte(magic)
	p = append(p, version)
	p = wire.AppendUvarint(p, from)
	p = wire.AppendUvarint(p, to)
	return frame(p)
}

// frame prefixes p with its length.
func frame(p []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

// messageFrame frames the encoding of m.
func messageFrame(m raft.Message) []byte { return frame(wire.AppendMessage(nil, m)) }

// readAll reads conn until it ends, failing t if that takes more than
// patience, and returns what it read.
func readAll(t *testing.T, conn net.Conn) []byte {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(patience))
	b, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v", patience)
	}
	return b
}

// rawHello dials addr, sends a hello from one id to another and returns
// the connection and the answer's bytes, if an answer came.
func rawHello(t *testing.T, conn net.Conn, from, to uint64) []byte {
	t.Helper()
	if _, err := conn.Write(helloFrame("wraft", 1, from, to)); err != nil {
		t.Fatal(err)
	}
	want := helloFrame("wraft", 1, to, from)
	conn.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, len(want))
	n, _ := io.ReadFull(conn, got)
	conn.SetReadDeadline(time.Time{})
	return got[:n]
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func seq(lo, hi uint64) []uint64 {
	var s []uint64
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}
