package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Timing of outgoing connections.
const (
	minBackoff       = 50 * time.Millisecond
	maxBackoff       = time.Second
	dialTimeout      = 5 * time.Second // dial, TLS and hello exchange together
	handshakeTimeout = 5 * time.Second // for the accepting side
	writeTimeout     = 10 * time.Second
	writeChunkBytes  = 256 << 10
	writeBufferBytes = 64 << 10
	// logEvery is how many failed dials in a row pass between two log
	// lines about the same peer.
	logEvery = 60
)

// peer is the sending side of the link to one member: a send queue, a
// delay line feeding it, and the goroutines that dial the member and
// write the queue to it.
type peer struct {
	id   uint64
	addr string
	c    *counters

	// out is the send queue of encoded frames.
	out chan []byte
	// queuedBytes counts the bytes of the frames in out and in delayed.
	// Invariant: queuedBytes <= maxBytes, but for the moment between an
	// increment and its undo.
	queuedBytes atomic.Int64
	maxBytes    int64
	maxDelayed  int
	connected   atomic.Bool

	dmu sync.Mutex
	// delayed is the delay line, ordered by due time, then by seq.
	delayed []delayedFrame // guarded by dmu
	seq     uint64         // guarded by dmu
	wake    chan struct{}  // signals the delay goroutine; capacity 1
	// redial cuts a dial backoff short: the peer just connected to us.
	redial chan struct{} // capacity 1

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type delayedFrame struct {
	due   time.Time
	seq   uint64
	frame []byte
}

// startPeer starts the goroutines of the link to member id. The caller
// holds t.mu, and t is not closed.
func (t *Transport) startPeer(id uint64, addr string, c *counters) {
	ctx, cancel := context.WithCancel(t.ctx)
	p := &peer{
		id:         id,
		addr:       addr,
		c:          c,
		out:        make(chan []byte, t.cfg.QueueLen),
		maxBytes:   int64(t.cfg.QueueBytes),
		maxDelayed: t.cfg.QueueLen,
		wake:       make(chan struct{}, 1),
		redial:     make(chan struct{}, 1),
		cancel:     cancel,
	}
	t.peers[id] = p
	t.wg.Add(2)
	p.wg.Add(2)
	go func() {
		defer t.wg.Done()
		defer p.wg.Done()
		t.runPeer(ctx, p)
	}()
	go func() {
		defer t.wg.Done()
		defer p.wg.Done()
		p.runDelay(ctx)
	}()
}

// stop stops p's goroutines and waits for them.
func (p *peer) stop() {
	p.cancel()
	p.wg.Wait()
}

func (p *peer) stats(inbound bool) PeerStats {
	p.dmu.Lock()
	delayed := len(p.delayed)
	p.dmu.Unlock()
	return PeerStats{
		ID:          p.id,
		Addr:        p.addr,
		Connected:   p.connected.Load(),
		Inbound:     inbound,
		Sent:        p.c.sent.Load(),
		Dropped:     p.c.dropped.Load(),
		Faulted:     p.c.faulted.Load(),
		Received:    p.c.received.Load(),
		Queued:      len(p.out) + delayed,
		QueuedBytes: int(p.queuedBytes.Load()),
	}
}

// reserve accounts for n more queued bytes, or counts a drop and returns
// false if they do not fit.
func (p *peer) reserve(n int) bool {
	if p.queuedBytes.Add(int64(n)) > p.maxBytes {
		p.release(n)
		p.c.dropped.Add(1)
		return false
	}
	return true
}

func (p *peer) release(n int) { p.queuedBytes.Add(-int64(n)) }

// enqueue appends frame to the send queue, or drops it if the queue is
// full.
func (p *peer) enqueue(frame []byte) {
	if !p.reserve(len(frame)) {
		return
	}
	select {
	case p.out <- frame:
	default:
		p.release(len(frame))
		p.c.dropped.Add(1)
	}
}

// delay puts frame in the delay line for d, or drops it if the line is
// full.
func (p *peer) delay(frame []byte, d time.Duration) {
	if !p.reserve(len(frame)) {
		return
	}
	due := time.Now().Add(d)
	p.dmu.Lock()
	if len(p.delayed) >= p.maxDelayed {
		p.dmu.Unlock()
		p.release(len(frame))
		p.c.dropped.Add(1)
		return
	}
	p.seq++
	// Frames with equal due times keep their order: insert after them.
	i, _ := slices.BinarySearchFunc(p.delayed, due, func(f delayedFrame, due time.Time) int {
		if f.due.After(due) {
			return 1
		}
		return -1
	})
	p.delayed = slices.Insert(p.delayed, i, delayedFrame{due: due, seq: p.seq, frame: frame})
	p.dmu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// runDelay moves frames from the delay line to the send queue when they
// are due, until ctx is done.
func (p *peer) runDelay(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var ready [][]byte
	for {
		p.dmu.Lock()
		now := time.Now()
		n := 0
		for n < len(p.delayed) && !p.delayed[n].due.After(now) {
			ready = append(ready, p.delayed[n].frame)
			n++
		}
		clear(p.delayed[:n])
		p.delayed = p.delayed[n:]
		var timerC <-chan time.Time
		if len(p.delayed) > 0 {
			timer.Reset(p.delayed[0].due.Sub(now))
			timerC = timer.C
		}
		p.dmu.Unlock()
		for i, f := range ready {
			p.release(len(f))
			p.enqueue(f)
			ready[i] = nil
		}
		ready = ready[:0]
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			timer.Stop()
		case <-timerC:
		}
	}
}

// runPeer keeps a connection to p up and writes p's queue to it, until ctx
// is done.
func (t *Transport) runPeer(ctx context.Context, p *peer) {
	log := t.log.With("peer", p.id, "addr", p.addr)
	var b backoff
	failures := 0
	for {
		conn, err := t.dial(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if failures%logEvery == 0 {
				level := slog.LevelInfo
				if refusal(err) {
					level = slog.LevelWarn
				}
				log.Log(ctx, level, "transport: cannot connect to peer", "failures", failures+1, "err", err)
			}
			failures++
			if !p.pause(ctx, b.next()) {
				return
			}
			continue
		}
		log.Info("transport: connected to peer", "failures", failures)
		failures = 0
		b.reset()
		p.connected.Store(true)
		err = t.writeLoop(ctx, p, conn)
		p.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		log.Info("transport: lost connection to peer", "err", err)
		if !p.pause(ctx, b.next()) {
			return
		}
	}
}

// errRefused is wrapped by dial errors that mean the peer refused us.
var errRefused = errors.New("transport: refused by peer")

// refusal reports whether a dial error means that the peer refused us or
// that we refused it, rather than that it could not be reached: a
// misconfiguration worth a warning.
func refusal(err error) bool {
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	return errors.Is(err, errRefused) || errors.As(err, &verify) || errors.As(err, &alert)
}

// dial connects to p and exchanges hellos with it.
func (t *Transport) dial(ctx context.Context, p *peer) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	nd := &net.Dialer{}
	raw, err := nd.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", p.addr, err)
	}
	sc := newStallConn(raw, &t.faults, p.id)
	var conn net.Conn = sc
	// Closing the connection when ctx ends interrupts the exchange.
	stop := context.AfterFunc(ctx, func() { sc.Close() })
	if t.clientTLS != nil {
		cfg := t.clientTLS.Clone()
		cfg.ServerName = NodeName(p.id)
		tc := tls.Client(conn, cfg)
		if err = tc.HandshakeContext(ctx); err != nil {
			err = fmt.Errorf("transport: dial %s: %w", p.addr, err)
		}
		conn = tc
	}
	if err == nil {
		err = t.exchangeHellos(conn, p)
	}
	if !stop() && err == nil {
		err = fmt.Errorf("transport: hello to %s: %w", p.addr, ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// exchangeHellos sends t's hello on conn and checks p's answer.
func (t *Transport) exchangeHellos(conn net.Conn, p *peer) error {
	if _, err := conn.Write(appendHello(nil, hello{from: t.cfg.ID, to: p.id})); err != nil {
		return fmt.Errorf("transport: send hello to %s: %w", p.addr, err)
	}
	h, err := readHello(bufio.NewReaderSize(conn, maxHelloBytes+frameHeaderBytes))
	if err != nil {
		return fmt.Errorf("%w: no answer to hello from %s: %w", errRefused, p.addr, err)
	}
	if h.from != p.id || h.to != t.cfg.ID {
		return fmt.Errorf("%w: %s answered as node %d to node %d", errRefused, p.addr, h.from, h.to)
	}
	return nil
}

// writeLoop writes p's queue to conn until conn fails or ctx is done.
// It closes conn.
func (t *Transport) writeLoop(ctx context.Context, p *peer, conn net.Conn) error {
	// The peer sends nothing after its hello: a read returns only when the
	// connection ends, which tells an idle writer to reconnect.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		var b [1]byte
		conn.Read(b[:])
	}()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		stop()
		conn.Close()
		<-gone
	}()
	bw := bufio.NewWriterSize(deadlineWriter{conn}, writeBufferBytes)
	for {
		var frame []byte
		select {
		case frame = <-p.out:
		case <-gone:
			return errors.New("transport: connection closed by peer")
		case <-ctx.Done():
			return ctx.Err()
		}
		// Write the frame and whatever else is queued, then flush once.
		var batch uint64
		for frame != nil {
			p.release(len(frame))
			batch++
			if _, err := bw.Write(frame); err != nil {
				p.c.dropped.Add(batch)
				return fmt.Errorf("transport: write: %w", err)
			}
			select {
			case frame = <-p.out:
			default:
				frame = nil
			}
		}
		if err := bw.Flush(); err != nil {
			p.c.dropped.Add(batch)
			return fmt.Errorf("transport: write: %w", err)
		}
		p.c.sent.Add(batch)
	}
}

// deadlineWriter writes to a connection in chunks, each of which must be
// accepted within writeTimeout: a peer that stops reading breaks the
// connection, however large the frame.
type deadlineWriter struct{ conn net.Conn }

func (w deadlineWriter) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		chunk := min(len(b)-n, writeChunkBytes)
		if err := w.conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
			return n, err
		}
		k, err := w.conn.Write(b[n : n+chunk])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// backoff computes the waits between dials: doubling from minBackoff up to
// maxBackoff, each with "equal jitter" (a random half of it).
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, minBackoff), maxBackoff)
	return b.d/2 + rand.N(b.d/2+1)
}

func (b *backoff) reset() { b.d = 0 }

// sleep waits for d or until ctx is done, and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// pause waits d before the next dial, or less if the peer connects to us
// meanwhile. It returns false if ctx ended.
func (p *peer) pause(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
	case <-p.redial:
	}
	return true
}
