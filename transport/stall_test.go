package transport

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

func TestNextRetransmit(t *testing.T) {
	since := time.Unix(1000, 0)
	ms := func(d int) time.Time { return since.Add(time.Duration(d) * time.Millisecond) }
	tests := []struct{ now, want int }{
		{0, 200}, {200, 200}, {201, 600}, {600, 600}, {601, 1400}, {1500, 3000}, {3001, 6200},
	}
	for _, tt := range tests {
		if have := nextRetransmit(since, ms(tt.now)); !have.Equal(ms(tt.want)) {
			t.Errorf("stalled for %d ms: next retransmission at %v, want %d ms", tt.now, have.Sub(since), tt.want)
		}
	}
	// The waits stop doubling at maxRetransmit.
	day := since.Add(24 * time.Hour)
	if have := nextRetransmit(since, day); have.Sub(day) > maxRetransmit {
		t.Errorf("a day later: next retransmission %v away, want at most %v", have.Sub(day), maxRetransmit)
	}
}

// TestStallConn holds a connection: reads and writes wait, honouring
// deadlines and Close, and go on after the stall's next retransmission.
func TestStallConn(t *testing.T) {
	var faults atomic.Pointer[faultState]
	faults.Store(newFaultState(Faults{}))
	a, b := net.Pipe()
	defer b.Close()
	s := newStallConn(a, &faults, 2)
	defer s.Close()

	faults.Store(newFaultState(Faults{Stalled: []uint64{2}}))
	s.SetDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := s.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Write while stalled: %v, want a timeout", err)
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read while stalled: %v, want a timeout", err)
	}
	s.SetDeadline(time.Time{})

	// Another peer's stall holds nothing; the end of the stall lets the
	// write through, at the next retransmission.
	faults.Store(newFaultState(Faults{Stalled: []uint64{3}}))
	go b.Read(make([]byte, 1))
	if _, err := s.Write([]byte("x")); err != nil {
		t.Fatalf("Write after the stall: %v", err)
	}

	// Close ends a held write.
	faults.Store(newFaultState(Faults{Stalled: []uint64{2}}))
	done := make(chan error)
	go func() {
		_, err := s.Write([]byte("y"))
		done <- err
	}()
	s.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write held when closed: %v, want net.ErrClosed", err)
	}
}
