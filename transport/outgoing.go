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
	"sync"
	"time"
)

// Fixed timing of outgoing connections; the rest follows from the
// election timeout (see timing).
const (
	minBackoff       = 20 * time.Millisecond
	writeTimeout     = 10 * time.Second
	writeChunkBytes  = 256 << 10
	writeBufferBytes = 64 << 10
	// logEvery is how many failed dials in a row pass between two log
	// lines about the same peer.
	logEvery = 60
)

// runPeer keeps a connection to p up and writes p's queue to it, until ctx
// is done.
func (t *Transport) runPeer(ctx context.Context, p *peer) {
	log := t.log.With("peer", p.id, "addr", p.addr)
	b := backoff{max: t.timing.maxBackoff}
	failures := 0
	for {
		conn, rtt, err := t.dial(ctx, p)
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
		log.Info("transport: connected to peer", "failures", failures, "hello_rtt", rtt.Round(time.Microsecond))
		failures = 0
		b.reset()
		p.connected.Store(true)
		err = t.writeLoop(ctx, p, conn, rtt)
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

// dial connects to p and exchanges hellos with it. It returns the time
// the hello took to be answered, a first measure of the round trip.
func (t *Transport) dial(ctx context.Context, p *peer) (net.Conn, time.Duration, error) {
	nd := &net.Dialer{
		KeepAliveConfig: t.timing.keepAliveConfig(),
		Control:         t.timing.control,
	}
	tcp := func(ctx context.Context, addr string) (net.Conn, error) {
		return nd.DialContext(ctx, "tcp", addr)
	}
	cctx, ccancel := context.WithTimeout(ctx, t.timing.dial)
	raw, took, _, err := connect(cctx, tcp, p.addr, t.timing.stagger)
	ccancel()
	if err != nil {
		return nil, 0, fmt.Errorf("transport: dial %s: %w", p.addr, err)
	}
	// The TLS handshake and the hellos take a round trip or two more,
	// which the connect measured: a slow link gets longer than timing.dial.
	ctx, cancel := context.WithTimeout(ctx, max(t.timing.dial, 4*took))
	defer cancel()
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
	var rtt time.Duration
	if err == nil {
		start := time.Now()
		err = t.exchangeHellos(conn, p)
		rtt = time.Since(start)
	}
	if !stop() && err == nil {
		err = fmt.Errorf("transport: hello to %s: %w", p.addr, ctx.Err())
	}
	if err != nil {
		sc.Close() // first, so that TLS sends no alert a dead peer could hold up
		conn.Close()
		return nil, 0, err
	}
	return conn, rtt, nil
}

// maxAttempts bounds the TCP connects of one dial pending at once.
const maxAttempts = 3

// dialFunc opens a TCP connection to addr, giving up when ctx ends.
type dialFunc func(ctx context.Context, addr string) (net.Conn, error)

// connect opens a connection to addr with dial, until ctx ends. A connect
// whose SYN a cut network lost is resent by the kernel only a second
// later, then three: after the network heals, it would wait that long.
// So while attempts are pending, a fresh one starts every stagger, and
// the first to connect wins; the others are cancelled, and closed should
// they connect too. At most maxAttempts are pending: a new one cancels
// the oldest but the first, which is kept until ctx ends, for a link
// whose round trip is longer than the others live. connect returns the
// winner's connect time (about one round trip, unless its SYN was
// resent) and how many attempts it started. It fails once no attempt is
// pending, with the error of the last that failed on its own.
func connect(ctx context.Context, dial dialFunc, addr string, stagger time.Duration) (net.Conn, time.Duration, int, error) {
	type result struct {
		conn net.Conn
		err  error
		n    int
		took time.Duration
	}
	ctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	results := make(chan result)
	var cancels []context.CancelFunc
	var live []bool // whether attempt n is pending and not cancelled
	pending := 0
	start := func() {
		actx, cancel := context.WithCancel(ctx)
		n := len(cancels)
		cancels, live = append(cancels, cancel), append(live, true)
		pending++
		go func() {
			begin := time.Now()
			conn, err := dial(actx, addr)
			results <- result{conn, err, n, time.Since(begin)}
		}()
	}
	start()
	ticker := time.NewTicker(stagger)
	defer ticker.Stop()
	var lastErr error
	for {
		select {
		case r := <-results:
			pending--
			own := live[r.n]
			live[r.n] = false
			cancels[r.n]()
			if r.err == nil {
				cancelAll()
				// Close the connections of the attempts still pending.
				go func(pending int) {
					for ; pending > 0; pending-- {
						if r := <-results; r.conn != nil {
							r.conn.Close()
						}
					}
				}(pending)
				return r.conn, r.took, len(cancels), nil
			}
			if own || lastErr == nil {
				lastErr = r.err
			}
			if pending == 0 {
				return nil, 0, len(cancels), lastErr
			}
		case <-ticker.C:
			if ctx.Err() != nil {
				continue
			}
			running := 0
			for _, l := range live {
				if l {
					running++
				}
			}
			if running >= maxAttempts {
				for i := 1; i < len(live); i++ {
					if live[i] {
						live[i] = false
						cancels[i]()
						break
					}
				}
			}
			start()
		}
	}
}

// netConn returns the connection under conn's TLS, if any. Closing it ends
// conn at once, where closing a TLS connection may first send an alert,
// which a dead peer can hold up for seconds.
func netConn(conn net.Conn) net.Conn {
	if tc, ok := conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return conn
}

// exchangeHellos sends t's hello, which announces t's API URL, on conn
// and checks p's answer.
func (t *Transport) exchangeHellos(conn net.Conn, p *peer) error {
	if _, err := conn.Write(appendHello(nil, hello{version: ProtocolVersion, from: t.cfg.ID, to: p.id, api: t.cfg.APIURL})); err != nil {
		return fmt.Errorf("transport: send hello to %s: %w", p.addr, err)
	}
	h, err := readHello(bufio.NewReaderSize(conn, maxHelloBytes+frameHeaderBytes))
	if err != nil {
		return fmt.Errorf("%w: no answer to hello from %s: %w", errRefused, p.addr, err)
	}
	if h.from != p.id || h.to != t.cfg.ID || h.version != ProtocolVersion {
		return fmt.Errorf("%w: %s answered as node %d to node %d, version %d", errRefused, p.addr, h.from, h.to, h.version)
	}
	return nil
}

// liveness tracks what an outgoing connection sent and what the receiver
// acknowledged, to tell a silent connection from a quiet one.
type liveness struct {
	// base is the shortest silence that ends the connection: timing.silence.
	base time.Duration
	// slack is added to twice the round trip: the receiver's
	// acknowledgement period.
	slack time.Duration

	mu sync.Mutex
	// sent counts the frames handed to the connection, pings included;
	// acked the frames the receiver said it read. Invariant: acked <= sent
	// (an acknowledgement of more is a protocol error).
	sent, acked uint64
	// waiting is when the receiver last showed life while sent > acked:
	// the first send after all was acknowledged, or the last
	// acknowledgement since.
	waiting time.Time
	// oldest is when the oldest unacknowledged frame was sent.
	oldest time.Time
	// srtt is the smoothed time from sending frames to their
	// acknowledgement: the hello's round trip at first, then moved an
	// eighth of the way to each measure (the time from sending the
	// oldest of the frames waiting to the acknowledgement that covers
	// them all), as TCP smooths its round trip.
	srtt time.Duration
}

// limit returns how long frames may wait for the receiver to show life:
// base, or more on a link whose round trip is long (twice the round trip
// and the acknowledgement period), so that a slow link is not taken for
// a dead one.
func (l *liveness) limit() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.base, 2*l.srtt+l.slack)
}

// sending records that n more frames are about to be written.
func (l *liveness) sending(n uint64, now time.Time) {
	l.mu.Lock()
	if l.sent == l.acked {
		l.waiting, l.oldest = now, now
	}
	l.sent += n
	l.mu.Unlock()
}

// ack records an acknowledgement of frames frames.
func (l *liveness) ack(frames uint64, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if frames > l.sent || frames < l.acked {
		return protocolErrorf("acknowledged %d frames, having sent %d (%d acknowledged before)", frames, l.sent, l.acked)
	}
	if frames == l.sent && l.acked < l.sent {
		l.srtt += (now.Sub(l.oldest) - l.srtt) / 8
	}
	l.acked = frames
	l.waiting = now
	return nil
}

// excuse restarts the wait of frames waiting at now: this process was
// not running for a while, so the receiver's silence proves nothing.
func (l *liveness) excuse(now time.Time) {
	l.mu.Lock()
	if l.sent != l.acked {
		l.waiting = now
	}
	l.mu.Unlock()
}

// silence returns how long frames have waited for the receiver to show
// life, or 0 if none waits.
func (l *liveness) silence(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == l.acked {
		return 0
	}
	return now.Sub(l.waiting)
}

// errSilent ends a connection that acknowledged nothing for too long.
var errSilent = errors.New("transport: no acknowledgement from peer")

// writeLoop writes p's queue to conn until conn fails or ctx is done.
// It closes conn. Alongside it, one goroutine reads the receiver's
// acknowledgements and another closes conn if they stop while frames wait
// for them.
func (t *Transport) writeLoop(ctx context.Context, p *peer, conn net.Conn, rtt time.Duration) error {
	live := liveness{base: t.timing.silence, slack: t.timing.ackEvery, srtt: rtt}
	raw := netConn(conn)
	var mu sync.Mutex
	var cause error // why the helpers closed conn
	fail := func(err error) {
		mu.Lock()
		if cause == nil {
			cause = err
		}
		mu.Unlock()
		raw.Close()
	}
	gone := make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Add(2)
	go func() {
		defer helpers.Done()
		defer close(gone)
		fail(t.readAcks(conn, &live))
	}()
	go func() {
		defer helpers.Done()
		t.watch(conn, &live, gone, p, fail)
	}()
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer func() {
		stop()
		raw.Close()
		conn.Close()
		helpers.Wait()
	}()
	err := t.writeQueue(ctx, p, conn, &live, gone)
	mu.Lock()
	defer mu.Unlock()
	if cause != nil && ctx.Err() == nil {
		return cause
	}
	return err
}

// readAcks reads acknowledgements from conn until it fails.
func (t *Transport) readAcks(conn net.Conn, live *liveness) error {
	br := bufio.NewReaderSize(conn, 64)
	buf := make([]byte, maxAckBytes)
	for {
		p, err := readFrame(br, buf, maxAckBytes)
		if err != nil {
			if errors.Is(err, errProtocol) {
				return err
			}
			return fmt.Errorf("transport: connection closed by peer: %w", err)
		}
		n, err := parseAck(p)
		if err == nil {
			err = live.ack(n, time.Now())
		}
		if err != nil {
			return err
		}
	}
}

// watch closes conn, through fail, once frames have waited longer than
// the silence timeout for the receiver to show life, until gone closes.
// A tick that comes late by more than half the timeout means that this
// process was starved (of CPU, by a pause): what arrived meanwhile may
// not have been read yet, so the wait starts again rather than ending
// a connection that may be fine.
func (t *Transport) watch(conn net.Conn, live *liveness, gone <-chan struct{}, p *peer, fail func(error)) {
	every := max(t.timing.silence/4, time.Millisecond)
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	last := time.Now()
	for {
		select {
		case <-gone:
			return
		case <-ticker.C:
			now := time.Now()
			late := now.Sub(last) - every
			last = now
			if late > t.timing.silence/2 {
				live.excuse(now)
				continue
			}
			if d := live.silence(now); d > live.limit() {
				p.c.silent.Add(1)
				fail(fmt.Errorf("%w for %v", errSilent, d.Round(time.Millisecond)))
				return
			}
		}
	}
}

// writeQueue writes p's queue to conn, and a ping whenever the connection
// has been idle for timing.pingEvery, until a write fails, gone closes or
// ctx is done. It drops stale messages rather than write them.
func (t *Transport) writeQueue(ctx context.Context, p *peer, conn net.Conn, live *liveness, gone <-chan struct{}) error {
	bw := bufio.NewWriterSize(deadlineWriter{conn}, writeBufferBytes)
	ping := time.NewTimer(t.timing.pingEvery)
	defer ping.Stop()
	for {
		q, ok := p.next()
		if !ok {
			select {
			case q = <-p.ctrl:
			case q = <-p.bulk:
			case <-ping.C:
				live.sending(1, time.Now())
				bw.Write(appendPing(nil))
				if err := bw.Flush(); err != nil {
					return fmt.Errorf("transport: write: %w", err)
				}
				ping.Reset(t.timing.pingEvery)
				continue
			case <-gone:
				return errors.New("transport: connection closed by peer")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Write the message and whatever else is queued, then flush once.
		var batch uint64
		for ok = true; ok; q, ok = p.next() {
			p.release(len(q.frame))
			now := time.Now()
			if p.isStale(q, now) {
				p.c.stale.Add(1)
				continue
			}
			batch++
			live.sending(1, now)
			if _, err := bw.Write(q.frame); err != nil {
				p.c.dropped.Add(batch)
				return fmt.Errorf("transport: write: %w", err)
			}
		}
		if err := bw.Flush(); err != nil {
			p.c.dropped.Add(batch)
			return fmt.Errorf("transport: write: %w", err)
		}
		p.c.sent.Add(batch)
		ping.Reset(t.timing.pingEvery)
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
// max, each with "equal jitter" (a random half of it).
type backoff struct{ d, max time.Duration }

func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, minBackoff), b.max)
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
