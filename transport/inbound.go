package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/wraft/wraft/wire"
)

const (
	readBufferBytes = 64 << 10
	// reuseBytes is the largest frame buffer a connection keeps for the
	// next frame; a larger one is left to the garbage collector.
	reuseBytes = 64 << 10
)

// acceptLoop accepts connections until the listener is closed.
func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	var wait time.Duration
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Such as running out of file descriptors: wait, as net/http does.
			wait = min(max(2*wait, 5*time.Millisecond), time.Second)
			t.log.Warn("transport: accept failed", "err", err, "retry_in", wait)
			if !sleep(t.ctx, wait) {
				return
			}
			continue
		}
		wait = 0
		if t.inboundConns.Add(1) > int64(t.cfg.MaxInboundConns) {
			t.inboundConns.Add(-1)
			conn.Close()
			t.refuseOverCap(conn.RemoteAddr().String())
			continue
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			conn.Close()
			t.inboundConns.Add(-1)
			return
		}
		t.wg.Add(1)
		t.mu.Unlock()
		go func() {
			defer t.wg.Done()
			defer t.inboundConns.Add(-1)
			t.serveConn(conn)
		}()
	}
}

// serveConn checks the hello on an accepted connection and then delivers
// the messages that arrive on it, until it fails or t closes.
func (t *Transport) serveConn(tcp net.Conn) {
	raw := newStallConn(tcp, &t.faults, 0)
	defer raw.Close()
	stop := context.AfterFunc(t.ctx, func() { raw.Close() })
	defer stop()
	remote := tcp.RemoteAddr().String()
	if err := t.timing.tune(tcp); err != nil {
		t.log.Debug("transport: cannot set socket options", "remote", remote, "err", err)
	}
	deadline := time.Now().Add(t.cfg.HandshakeTimeout)
	raw.SetDeadline(deadline)
	var conn net.Conn = raw
	if t.serverTLS != nil {
		tc := tls.Server(raw, t.serverTLS)
		if err := tc.HandshakeContext(t.ctx); err != nil {
			t.refuse(remote, fmt.Errorf("transport: TLS handshake: %w", err))
			return
		}
		conn = tc
	}
	ir := &idleReader{conn: conn}
	br := bufio.NewReaderSize(ir, readBufferBytes)
	h, err := readHello(br)
	if err != nil {
		t.refuse(remote, fmt.Errorf("transport: read hello: %w", err))
		return
	}
	raw.peer.Store(h.from) // the stall fault may hold the answer
	// A sender not yet a member may become one: its node may know the new
	// configuration before this one does. It waits for half the handshake
	// timeout, leaving the dialler time to see the refusal as one.
	c, err := t.admit(conn, h, time.Now().Add(time.Until(deadline)/2))
	if err != nil {
		t.refuse(remote, err)
		return
	}
	defer t.unregister(h.from, conn)
	if _, err := conn.Write(appendHello(nil, hello{version: h.version, from: t.cfg.ID, to: h.from})); err != nil {
		t.log.Info("transport: answer hello", "peer", h.from, "remote", remote, "err", err)
		return
	}
	raw.SetDeadline(time.Time{})
	ir.idle = t.timing.idle
	t.log.Info("transport: accepted connection from peer", "peer", h.from, "remote", remote, "version", h.version)
	in := &inbound{from: h.from, c: c, pings: h.version >= 2, bytes: &ir.bytes, pinged: make(chan struct{}, 1)}
	if in.pings {
		done := make(chan struct{})
		acked := make(chan struct{})
		go func() {
			defer close(acked)
			t.ackLoop(conn, in, done)
		}()
		defer func() {
			close(done)
			<-acked
		}()
	}
	err = t.readLoop(br, in)
	level := slog.LevelInfo
	switch {
	case t.ctx.Err() != nil || errors.Is(err, net.ErrClosed):
		return // closed by t
	case errors.Is(err, errProtocol):
		level = slog.LevelWarn
	case errors.Is(err, io.EOF):
		err = nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("transport: nothing received for %v (timeout)", t.timing.idle)
	}
	t.log.Log(t.ctx, level, "transport: closing connection from peer", "peer", h.from, "remote", remote, "err", err)
}

// admit checks the hello h received on conn and, if it names a member,
// registers conn as that member's connection, closing any previous one.
// A sender that is not a member is waited for until wait.
func (t *Transport) admit(conn net.Conn, h hello, wait time.Time) (*counters, error) {
	if h.to != t.cfg.ID {
		return nil, fmt.Errorf("transport: hello addressed to node %d", h.to)
	}
	if tc, ok := conn.(*tls.Conn); ok {
		if err := checkClientCert(tc.ConnectionState(), h.from); err != nil {
			return nil, fmt.Errorf("transport: hello from node %d: %w", h.from, err)
		}
	}
	t.mu.Lock()
	p := t.peers[h.from]
	for logged := false; p == nil && !t.closed && h.from != t.cfg.ID && time.Now().Before(wait); logged = true {
		changed := t.peersChanged
		t.mu.Unlock()
		if !logged {
			t.log.Info("transport: hello from a node not yet a member; waiting for it to become one", "peer", h.from, "remote", conn.RemoteAddr().String())
		}
		timer := time.NewTimer(time.Until(wait))
		select {
		case <-changed:
		case <-timer.C:
		case <-t.ctx.Done():
		}
		timer.Stop()
		t.mu.Lock()
		p = t.peers[h.from]
	}
	if p == nil || t.closed {
		t.mu.Unlock()
		return nil, fmt.Errorf("transport: hello from node %d, not a member", h.from)
	}
	old := t.inbound[h.from]
	t.inbound[h.from] = conn
	if h.api != "" && t.apis[h.from] != h.api {
		t.apis[h.from] = h.api
		t.log.Info("transport: peer announced its API URL", "peer", h.from, "api", h.api)
	}
	t.mu.Unlock()
	if old != nil {
		old.Close()
	}
	// The peer is evidently up (it may have just restarted): if our own
	// connection to it is down, dial now rather than at the end of the
	// backoff, so that it hears from us at once.
	if !p.connected.Load() {
		select {
		case p.redial <- struct{}{}:
		default:
		}
	}
	return p.c, nil
}

// unregister forgets conn as member id's connection, unless another has
// replaced it.
func (t *Transport) unregister(id uint64, conn net.Conn) {
	t.mu.Lock()
	if t.inbound[id] == conn {
		delete(t.inbound, id)
	}
	t.mu.Unlock()
}

// refuse logs and counts a refused connection (in that order, so that a
// refusal counted has been logged), unless t is closing.
func (t *Transport) refuse(remote string, err error) {
	if t.ctx.Err() != nil {
		return // interrupted by Close
	}
	t.log.Warn("transport: refused connection", "remote", remote, "err", err)
	t.refused.Add(1)
}

// inbound is the state of an accepted connection after its hello.
type inbound struct {
	from  uint64    // the member that dialled
	c     *counters // from's counters
	pings bool      // the connection may carry pings and gets acknowledgements
	// frames counts the frames read, pings included.
	frames atomic.Uint64
	// bytes counts the bytes read: a long frame shows progress before it
	// ends.
	bytes *atomic.Uint64
	// busy is set while a message is being delivered.
	busy atomic.Bool
	// pinged asks for an acknowledgement at once: a ping came, and an
	// idle dialler waits for its answer. Capacity 1.
	pinged chan struct{}
}

// readLoop reads frames from br, which member in.from dialled, and
// delivers their messages, until an error, which it returns (io.EOF for a
// clean end). A frame that is neither a message from in.from to t nor,
// if in.pings, a ping is a protocol error.
func (t *Transport) readLoop(br *bufio.Reader, in *inbound) error {
	from, c := in.from, in.c
	var buf []byte
	for {
		frame, err := readFrame(br, buf, t.cfg.MaxFrameBytes)
		if err != nil {
			return err
		}
		if cap(frame) <= reuseBytes {
			buf = frame
		}
		in.frames.Add(1)
		if in.pings && isPing(frame) {
			select {
			case in.pinged <- struct{}{}:
			default:
			}
			continue
		}
		m, err := wire.DecodeMessage(frame)
		if err != nil {
			return &protocolError{msg: "bad message", err: err}
		}
		if m.From != from {
			return protocolErrorf("message from node %d on node %d's connection", m.From, from)
		}
		if m.To != t.cfg.ID {
			return protocolErrorf("message to node %d", m.To)
		}
		if t.faults.Load().blocked[from] {
			c.faulted.Add(1)
			continue
		}
		c.received.Add(1)
		in.busy.Store(true)
		t.deliver(m)
		in.busy.Store(false)
	}
}

// ackLoop acknowledges the frames read from conn at once after a ping,
// and every timing.ackEvery if more frames or bytes have arrived since
// the last acknowledgement or a delivery blocks the reader (so that a long
// frame, or a slow delivery, does not look like a dead connection to the
// dialler), until done closes or a write fails (which closes conn).
func (t *Transport) ackLoop(conn net.Conn, in *inbound, done <-chan struct{}) {
	ticker := time.NewTicker(max(t.timing.ackEvery, time.Millisecond))
	defer ticker.Stop()
	var acked, read uint64
	var buf []byte
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
		case <-in.pinged:
		}
		n, b := in.frames.Load(), in.bytes.Load()
		if n == acked && b == read && !in.busy.Load() {
			continue
		}
		read = b
		buf = appendAck(buf[:0], n)
		conn.SetWriteDeadline(time.Now().Add(t.timing.silence))
		if _, err := conn.Write(buf); err != nil {
			netConn(conn).Close()
			return
		}
		acked = n
	}
}

// idleReader reads from conn with a deadline idle ahead of every read,
// once idle is set: a connection on which nothing arrives for that long
// fails with os.ErrDeadlineExceeded.
// It counts the bytes read.
type idleReader struct {
	conn  net.Conn
	idle  time.Duration // zero: the deadline is left as it is
	bytes atomic.Uint64
}

func (r *idleReader) Read(b []byte) (int, error) {
	if r.idle > 0 {
		if err := r.conn.SetReadDeadline(time.Now().Add(r.idle)); err != nil {
			return 0, err
		}
	}
	n, err := r.conn.Read(b)
	r.bytes.Add(uint64(n))
	return n, err
}

// refuseOverCap counts a connection closed for exceeding MaxInboundConns
// and logs the first and every hundredth.
func (t *Transport) refuseOverCap(remote string) {
	t.refused.Add(1)
	if n := t.overCap.Add(1); n%100 == 1 {
		t.log.Warn("transport: too many incoming connections; closed one at once", "remote", remote, "max", t.cfg.MaxInboundConns, "closed_so_far", n)
	}
}
