package transport_test

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wraft/wraft/transport"
)

func TestFaultsDropAll(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	a.tr.SetFaults(transport.Faults{DropRate: 1})
	for i := uint64(1); i <= 100; i++ {
		a.tr.Send(msg(1, 2, i))
	}
	a.tr.SetFaults(transport.Faults{})
	a.tr.Send(msg(1, 2, 101))
	// Messages to one peer arrive in order: had any of the first 100 been
	// sent, it would arrive before 101.
	waitFor(t, "the message after the faults", func() bool { return b.inbox.len() == 1 })
	if have := b.inbox.indexes(1); !slices.Equal(have, []uint64{101}) {
		t.Errorf("delivered %v, want [101]", have)
	}
	if s := a.peerStats(t, 2); s.Faulted != 100 || s.Sent != 1 || s.Dropped != 0 {
		t.Errorf("stats %+v, want 100 faulted, 1 sent", s)
	}
}

func TestFaultsDropSome(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	a.tr.SetFaults(transport.Faults{DropRate: 0.5})
	const n = 1000
	for i := uint64(1); i <= n; i++ {
		a.tr.Send(msg(1, 2, i))
	}
	s := a.peerStats(t, 2)
	waitFor(t, "the survivors", func() bool { return uint64(b.inbox.len()) == n-s.Faulted })
	// Some are dropped and some are not; the chance of either failing is
	// 2^-1000.
	if s.Faulted == 0 || s.Faulted == n {
		t.Errorf("faulted %d of %d, want some", s.Faulted, n)
	}
	if have := b.inbox.indexes(1); !slices.IsSorted(have) {
		t.Errorf("survivors out of order: %v", have)
	}
}

func TestFaultsBlocked(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	a.tr.SetFaults(transport.Faults{Blocked: []uint64{2}})
	const n = 50
	for i := uint64(1); i <= n; i++ {
		a.tr.Send(msg(1, 2, i))
		b.tr.Send(msg(2, 1, i))
		a.tr.Send(msg(1, 3, i))
		c.tr.Send(msg(3, 1, i))
	}
	// Node 3 is not cut off.
	waitFor(t, "traffic with node 3", func() bool { return len(a.inbox.from(3)) == n && len(c.inbox.from(1)) == n })
	// Node 2's messages reach node 1 and are discarded there.
	waitFor(t, "node 2's messages to be discarded", func() bool { return a.peerStats(t, 2).Faulted == 2*n })
	if s := b.peerStats(t, 1); s.Sent != n {
		t.Errorf("node 2 sent %d, want %d: the connection stays up", s.Sent, n)
	}

	a.tr.SetFaults(transport.Faults{})
	a.tr.Send(msg(1, 2, n+1))
	b.tr.Send(msg(2, 1, n+1))
	waitFor(t, "messages after healing", func() bool { return len(a.inbox.from(2)) == 1 && len(b.inbox.from(1)) == 1 })
	if have := a.inbox.indexes(2); !slices.Equal(have, []uint64{n + 1}) {
		t.Errorf("node 1 got %v from node 2, want [%d]", have, n+1)
	}
	if have := b.inbox.indexes(1); !slices.Equal(have, []uint64{n + 1}) {
		t.Errorf("node 2 got %v from node 1, want [%d]", have, n+1)
	}
}

func TestFaultsDelay(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	connected(t, a, b)
	const delay = 200 * time.Millisecond
	a.tr.SetFaults(transport.Faults{Delay: delay})
	const n = 20
	sentAt := make([]time.Time, n+1)
	for i := uint64(1); i <= n; i++ {
		sentAt[i] = time.Now()
		a.tr.Send(msg(1, 2, i))
	}
	waitFor(t, "the delayed messages", func() bool { return b.inbox.len() == n })
	if have := b.inbox.indexes(1); !slices.Equal(have, seq(1, n)) {
		t.Errorf("arrived as %v, want %v", have, seq(1, n))
	}
	// No message can arrive early, however loaded the machine.
	for _, got := range b.inbox.from(1) {
		if early := sentAt[got.m.Index].Add(delay).Sub(got.at); early > 0 {
			t.Errorf("message %d arrived %v early", got.m.Index, early)
		}
	}
}

func TestFaultsJitterLosesNothing(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	a.tr.SetFaults(transport.Faults{Delay: time.Millisecond, Jitter: 20 * time.Millisecond})
	const n = 200
	for i := uint64(1); i <= n; i++ {
		a.tr.Send(msg(1, 2, i))
	}
	waitFor(t, "every message", func() bool { return b.inbox.len() == n })
	if have := slices.Sorted(slices.Values(b.inbox.indexes(1))); !slices.Equal(have, seq(1, n)) {
		t.Errorf("arrived %v, want each of 1 to %d once", have, n)
	}
}

// TestFaultsDelayBlocksNothingElse holds messages to node 2 for an hour:
// Send does not block, and once the delay is lifted other traffic flows.
func TestFaultsDelayBlocksNothingElse(t *testing.T) {
	checkGoroutines(t)
	nodes := newCluster(t, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	a.tr.SetFaults(transport.Faults{Delay: time.Hour})
	for i := uint64(1); i <= 10; i++ {
		a.tr.Send(msg(1, 2, i))
	}
	if s := a.peerStats(t, 2); s.Queued != 10 || s.QueuedBytes == 0 {
		t.Errorf("stats %+v, want 10 queued", s)
	}
	a.tr.SetFaults(transport.Faults{})
	a.tr.Send(msg(1, 3, 1))
	a.tr.Send(msg(1, 2, 11))
	waitFor(t, "undelayed messages", func() bool { return c.inbox.len() == 1 && b.inbox.len() == 1 })
	if have := b.inbox.indexes(1); !slices.Equal(have, []uint64{11}) {
		t.Errorf("node 2 got %v, want [11]", have)
	}
	// Close drops the delay line (checkGoroutines checks its goroutine ends).
}

func TestFaultsDelayLineBounded(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, func(c *transport.Config) { c.QueueLen = 5 })
	a.tr.SetFaults(transport.Faults{Delay: time.Hour})
	for i := uint64(1); i <= 8; i++ {
		a.tr.Send(msg(1, 2, i))
	}
	if s := a.peerStats(t, 2); s.Queued != 5 || s.Dropped != 3 {
		t.Errorf("stats %+v, want 5 queued, 3 dropped", s)
	}
}

func TestFaultsNormalised(t *testing.T) {
	checkGoroutines(t)
	a := startNode(t, 1, listen(t), nil, nil)
	tests := []struct {
		set, want transport.Faults
	}{
		{transport.Faults{}, transport.Faults{}},
		{transport.Faults{DropRate: 2, Delay: -1, Jitter: -1}, transport.Faults{DropRate: 1}},
		{transport.Faults{DropRate: -0.5}, transport.Faults{}},
		{transport.Faults{DropRate: math.NaN()}, transport.Faults{}},
		{transport.Faults{DropRate: 0.25, Delay: time.Second, Jitter: time.Millisecond, Blocked: []uint64{3, 2, 3}},
			transport.Faults{DropRate: 0.25, Delay: time.Second, Jitter: time.Millisecond, Blocked: []uint64{2, 3}}},
		{transport.Faults{Blocked: []uint64{}}, transport.Faults{}},
		{transport.Faults{Stalled: []uint64{3, 3, 2}}, transport.Faults{Stalled: []uint64{2, 3}}},
		{transport.Faults{Stalled: []uint64{}}, transport.Faults{}},
	}
	for _, tt := range tests {
		a.tr.SetFaults(tt.set)
		if have := a.tr.Faults(); !reflect.DeepEqual(have, tt.want) {
			t.Errorf("SetFaults(%+v): Faults() = %+v, want %+v", tt.set, have, tt.want)
		}
	}
	// Faults returns a copy.
	a.tr.SetFaults(transport.Faults{Blocked: []uint64{2}})
	a.tr.Faults().Blocked[0] = 9
	if have := a.tr.Faults().Blocked; !slices.Equal(have, []uint64{2}) {
		t.Errorf("Blocked changed through a returned slice: %v", have)
	}
	a.tr.SetFaults(transport.Faults{Stalled: []uint64{2}})
	a.tr.Faults().Stalled[0] = 9
	if have := a.tr.Faults().Stalled; !slices.Equal(have, []uint64{2}) {
		t.Errorf("Stalled changed through a returned slice: %v", have)
	}
}
