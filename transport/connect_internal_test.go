package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeDials hands out the attempts of connect: attempt n blocks until its
// context ends, as a connect whose SYN was lost does, unless answer[n]
// is set, in which case it gets one end of a pipe at once.
type fakeDials struct {
	mu      sync.Mutex
	started int
	answer  map[int]bool
	refuse  bool
	conns   []net.Conn // the far ends handed out
	ended   chan int   // attempts whose context ended (as many as it holds)
}

func (f *fakeDials) dial(ctx context.Context, addr string) (net.Conn, error) {
	f.mu.Lock()
	n := f.started
	f.started++
	answer, refuse := f.answer[n], f.refuse
	var near net.Conn
	if answer {
		var far net.Conn
		near, far = net.Pipe()
		f.conns = append(f.conns, far)
	}
	f.mu.Unlock()
	switch {
	case answer:
		return near, nil
	case refuse:
		return nil, syscall.ECONNREFUSED
	}
	<-ctx.Done()
	select {
	case f.ended <- n:
	default: // the test reads no more
	}
	return nil, ctx.Err()
}

// TestConnectStaggered checks that a heal while a connect is pending (its
// SYN lost) is picked up by a later attempt instead of waiting for the
// first to time out: the test fails if connect makes one attempt only.
func TestConnectStaggered(t *testing.T) {
	f := &fakeDials{answer: map[int]bool{2: true}, ended: make(chan int, 100)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, _, attempts, err := connect(ctx, f.dial, "peer", time.Millisecond)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close()
	if attempts < 3 {
		t.Errorf("connect made %d attempts, want at least 3 (the third connects)", attempts)
	}
	// The two attempts still pending are cancelled.
	for range 2 {
		select {
		case <-f.ended:
		case <-time.After(30 * time.Second):
			t.Fatal("a losing attempt was not cancelled")
		}
	}
}

// TestConnectKeepsFirst checks that the first attempt is kept while later
// ones come and go, so that a link whose round trip is longer than the
// stagger still connects.
func TestConnectKeepsFirst(t *testing.T) {
	f := &fakeDials{ended: make(chan int, 100)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var conn net.Conn
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, _, _, err = connect(ctx, f.dial, "peer", time.Millisecond)
	}()
	// Attempts beyond maxAttempts cancel the oldest but the first.
	cancelled := map[int]bool{}
	for len(cancelled) < 5 {
		select {
		case n := <-f.ended:
			if n == 0 {
				t.Fatal("the first attempt was cancelled")
			}
			cancelled[n] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d attempts cancelled", len(cancelled))
		}
	}
	cancel()
	<-done
	if err == nil {
		conn.Close()
		t.Fatal("connect succeeded with no attempt answered")
	}
}

// TestConnectRefused checks that an attempt refused at once ends the
// dial with its error, so that the backoff applies.
func TestConnectRefused(t *testing.T) {
	f := &fakeDials{refuse: true, ended: make(chan int, 100)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, attempts, err := connect(ctx, f.dial, "peer", time.Hour)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect: %v, want connection refused", err)
	}
	if attempts != 1 {
		t.Errorf("%d attempts, want 1", attempts)
	}
}
