package transport

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Faults are the faults a Transport injects, for chaos testing. The zero
// value injects none.
type Faults struct {
	// DropRate is the probability, from 0 to 1, that an outgoing message is
	// dropped. SetFaults clamps it into that range; NaN counts as 0.
	DropRate float64
	// Delay holds every outgoing message back this long before it is
	// queued for sending. Each peer has its own delay line, bounded as its
	// send queue is; a negative value counts as 0.
	Delay time.Duration
	// Jitter adds a uniformly random extra delay from 0 to Jitter to each
	// outgoing message, so that messages may overtake one another; a
	// negative value counts as 0.
	Jitter time.Duration
	// Blocked lists the peers cut off both ways: messages to them are
	// dropped and messages from them are discarded on arrival. Connections
	// stay up, as in a partition that loses packets.
	Blocked []uint64
	// Stalled lists the peers whose links stall, as TCP connections do
	// when a firewall silently drops their packets: on every connection
	// with them, open or opened during the stall, nothing written arrives
	// and nothing sent to this node is read (so nothing is acknowledged
	// either), while writes block as on a full send buffer. A connection
	// is not closed by the stall. When the stall ends a connection that
	// was stalled stays silent until its next retransmission, as TCP's
	// retransmission timer backs off: at 0.2 s, 0.6 s, 1.4 s, 3 s, ...
	// (doubling, up to 2 minutes apart) after the stall began. Then
	// whatever waited flows at once.
	Stalled []uint64
}

// faultState is an immutable Faults with Blocked and Stalled as sets.
type faultState struct {
	f       Faults
	blocked map[uint64]bool
	stalled map[uint64]bool
	// changed is closed when SetFaults replaces this state.
	changed chan struct{}
}

func newFaultState(f Faults) *faultState {
	switch {
	case math.IsNaN(f.DropRate) || f.DropRate < 0:
		f.DropRate = 0
	case f.DropRate > 1:
		f.DropRate = 1
	}
	s := &faultState{changed: make(chan struct{})}
	f.Delay = max(f.Delay, 0)
	f.Jitter = max(f.Jitter, 0)
	f.Blocked, s.blocked = idSet(f.Blocked)
	f.Stalled, s.stalled = idSet(f.Stalled)
	s.f = f
	return s
}

// idSet returns ids sorted without duplicates (nil if empty) and as a set.
func idSet(ids []uint64) ([]uint64, map[uint64]bool) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil, nil
	}
	set := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return ids, set
}

// drop reports whether to drop an outgoing message at random.
func (s *faultState) drop() bool {
	return s.f.DropRate > 0 && rand.Float64() < s.f.DropRate
}

// delay returns how long to hold an outgoing message back.
func (s *faultState) delay() time.Duration {
	d := s.f.Delay
	if s.f.Jitter > 0 {
		d += rand.N(s.f.Jitter + 1)
	}
	return d
}

// SetFaults replaces the faults t injects; the zero Faults ends them. It
// takes effect for messages sent and received from then on: messages
// already in a delay line keep their times.
func (t *Transport) SetFaults(f Faults) {
	s := newFaultState(f)
	close(t.faults.Swap(s).changed)
	t.log.Info("transport: faults set", "drop_rate", s.f.DropRate, "delay", s.f.Delay, "jitter", s.f.Jitter, "blocked", s.f.Blocked, "stalled", s.f.Stalled)
}

// Faults returns the faults t injects, as SetFaults normalised them:
// clamped, with Blocked and Stalled sorted and without duplicates.
func (t *Transport) Faults() Faults {
	f := t.faults.Load().f
	f.Blocked = slices.Clone(f.Blocked)
	f.Stalled = slices.Clone(f.Stalled)
	return f
}
