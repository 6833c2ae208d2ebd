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
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			conn.Close()
			return
		}
		t.wg.Add(1)
		t.mu.Unlock()
		go func() {
			defer t.wg.Done()
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
	raw.SetDeadline(time.Now().Add(handshakeTimeout))
	var conn net.Conn = raw
	if t.serverTLS != nil {
		tc := tls.Server(raw, t.serverTLS)
		if err := tc.HandshakeContext(t.ctx); err != nil {
			t.refuse(remote, fmt.Errorf("transport: TLS handshake: %w", err))
			return
		}
		conn = tc
	}
	br := bufio.NewReaderSize(conn, readBufferBytes)
	h, err := readHello(br)
	if err != nil {
		t.refuse(remote, fmt.Errorf("transport: read hello: %w", err))
		return
	}
	raw.peer.Store(h.from) // the stall fault may hold the answer
	c, err := t.admit(conn, h)
	if err != nil {
		t.refuse(remote, err)
		return
	}
	defer t.unregister(h.from, conn)
	if _, err := conn.Write(appendHello(nil, hello{from: t.cfg.ID, to: h.from})); err != nil {
		t.log.Info("transport: answer hello", "peer", h.from, "remote", remote, "err", err)
		return
	}
	raw.SetDeadline(time.Time{})
	t.log.Info("transport: accepted connection from peer", "peer", h.from, "remote", remote)
	err = t.readLoop(br, h.from, c)
	level := slog.LevelInfo
	switch {
	case t.ctx.Err() != nil || errors.Is(err, net.ErrClosed):
		return // closed by t
	case errors.Is(err, errProtocol):
		level = slog.LevelWarn
	case errors.Is(err, io.EOF):
		err = nil
	}
	t.log.Log(t.ctx, level, "transport: closing connection from peer", "peer", h.from, "remote", remote, "err", err)
}

// admit checks the hello h received on conn and, if it names a member,
// registers conn as that member's connection, closing any previous one.
func (t *Transport) admit(conn net.Conn, h hello) (*counters, error) {
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
	if p == nil || t.closed {
		t.mu.Unlock()
		return nil, fmt.Errorf("transport: hello from node %d, not a member", h.from)
	}
	old := t.inbound[h.from]
	t.inbound[h.from] = conn
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

// readLoop reads frames from br, which member from dialled, and delivers
// their messages, until an error, which it returns (io.EOF for a clean
// end). A frame that is not a message from member from to t is a protocol
// error.
func (t *Transport) readLoop(br *bufio.Reader, from uint64, c *counters) error {
	var buf []byte
	for {
		frame, err := readFrame(br, buf, t.cfg.MaxFrameBytes)
		if err != nil {
			return err
		}
		if cap(frame) <= reuseBytes {
			buf = frame
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
		t.deliver(m)
	}
}
