package transport

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The retransmission timer that Faults.Stalled imitates: the first
// retransmission comes firstRetransmit after the stall begins, and each
// wait doubles, up to maxRetransmit.
const (
	firstRetransmit = 200 * time.Millisecond
	maxRetransmit   = 2 * time.Minute
)

// stallConn is a connection with one peer that the stall fault
// (Faults.Stalled) can hold. Every connection of a Transport is one: a
// stall must catch connections opened before it. Until the peer is known
// (an accepted connection before its hello), nothing is held.
type stallConn struct {
	net.Conn
	faults *atomic.Pointer[faultState]
	peer   atomic.Uint64

	closeOnce sync.Once
	closed    chan struct{}

	mu sync.Mutex
	// since is when the current stall began; zero if the connection is
	// not stalled.
	since time.Time
	// resume is when a stall that has ended lets the connection go, its
	// next retransmission; zero while the stall lasts.
	resume time.Time
	// Deadlines as set, which a held Read or Write honours.
	readDeadline, writeDeadline time.Time
}

func newStallConn(c net.Conn, faults *atomic.Pointer[faultState], peer uint64) *stallConn {
	s := &stallConn{Conn: c, faults: faults, closed: make(chan struct{})}
	s.peer.Store(peer)
	return s
}

// held reports whether the connection is held now and, if it is, what
// ends the hold: the fault changing or a time (zero for none).
func (s *stallConn) held() (bool, <-chan struct{}, time.Time) {
	f := s.faults.Load()
	peer := s.peer.Load()
	stalled := peer != 0 && f.stalled[peer]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch {
	case stalled:
		if s.since.IsZero() {
			s.since = now
		}
		s.resume = time.Time{}
		return true, f.changed, time.Time{}
	case s.since.IsZero():
		return false, nil, time.Time{}
	case s.resume.IsZero():
		s.resume = nextRetransmit(s.since, now)
	}
	if !now.Before(s.resume) {
		s.since, s.resume = time.Time{}, time.Time{}
		return false, nil, time.Time{}
	}
	return true, f.changed, s.resume
}

// nextRetransmit returns the first retransmission at or after now of a
// connection stalled since since.
func nextRetransmit(since, now time.Time) time.Time {
	at, wait := since.Add(firstRetransmit), firstRetransmit
	for at.Before(now) {
		wait = min(2*wait, maxRetransmit)
		at = at.Add(wait)
	}
	return at
}

// wait blocks while the connection is held, until deadline (if not zero)
// or until it is closed.
func (s *stallConn) wait(deadline func() time.Time) (err error) {
	for {
		held, changed, until := s.held()
		if !held {
			return nil
		}
		var timeout <-chan time.Time
		if d := deadline(); !d.IsZero() && (until.IsZero() || d.Before(until)) {
			until = d
			if !time.Now().Before(d) {
				return os.ErrDeadlineExceeded
			}
		}
		var timer *time.Timer
		if !until.IsZero() {
			timer = time.NewTimer(time.Until(until))
			timeout = timer.C
		}
		select {
		case <-s.closed:
			err = net.ErrClosed
		case <-changed:
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return err
		}
	}
}

func noDeadline() time.Time { return time.Time{} }

func (s *stallConn) deadline(read bool) func() time.Time {
	return func() time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		if read {
			return s.readDeadline
		}
		return s.writeDeadline
	}
}

// Read reads nothing while the connection is held: what arrives stays
// unread, and what a read returns during a stall waits for its end.
func (s *stallConn) Read(b []byte) (int, error) {
	if err := s.wait(s.deadline(true)); err != nil {
		return 0, err
	}
	n, err := s.Conn.Read(b)
	if n > 0 || (err != nil && !errors.Is(err, os.ErrDeadlineExceeded)) {
		// Bytes, or the peer's closing, that a read already under way
		// returns during a stall wait for its end (or for Close), whatever
		// the deadline: returning bytes with a timeout would lose them.
		if werr := s.wait(noDeadline); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

// Write blocks while the connection is held, as on a full send buffer.
func (s *stallConn) Write(b []byte) (int, error) {
	if err := s.wait(s.deadline(false)); err != nil {
		return 0, err
	}
	return s.Conn.Write(b)
}

// Close closes the connection and ends any held Read or Write.
func (s *stallConn) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return s.Conn.Close()
}

// SetDeadline sets both deadlines, as net.Conn's does.
func (s *stallConn) SetDeadline(t time.Time) error {
	s.mu.Lock()
	s.readDeadline, s.writeDeadline = t, t
	s.mu.Unlock()
	return s.Conn.SetDeadline(t)
}

// SetReadDeadline sets the read deadline, as net.Conn's does.
func (s *stallConn) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.readDeadline = t
	s.mu.Unlock()
	return s.Conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline, as net.Conn's does.
func (s *stallConn) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.writeDeadline = t
	s.mu.Unlock()
	return s.Conn.SetWriteDeadline(t)
}
