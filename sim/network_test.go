package sim

import (
	"math/rand/v2"
	"testing"
)

func TestNetworkRoute(t *testing.T) {
	tests := []struct {
		name           string
		cfg            NetworkConfig
		wantLost       [2]float64 // fraction of messages lost, bounds
		wantDup        [2]float64
		minDel, maxDel int64
	}{
		{"healthy", NetworkConfig{MinDelay: 1, MaxDelay: 5}, [2]float64{0, 0}, [2]float64{0, 0}, 1, 5},
		{"lossy", NetworkConfig{MinDelay: 0, MaxDelay: 0, DropRate: 0.3}, [2]float64{0.27, 0.33}, [2]float64{0, 0}, 0, 0},
		{"duplicating", NetworkConfig{MinDelay: 10, MaxDelay: 300, DupRate: 0.2}, [2]float64{0, 0}, [2]float64{0.17, 0.23}, 10, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw := newNetwork(3, tt.cfg)
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 20000
			var buf []int64
			lo, hi := int64(1<<62), int64(-1)
			for range n {
				buf = nw.route(rng, 0, 0, 1, buf[:0])
				for _, d := range buf {
					lo, hi = min(lo, d), max(hi, d)
				}
			}
			lost, dup := float64(nw.lost)/n, float64(nw.duplicated)/n
			if lost < tt.wantLost[0] || lost > tt.wantLost[1] {
				t.Errorf("lost %.3f of messages, want within %v", lost, tt.wantLost)
			}
			if dup < tt.wantDup[0] || dup > tt.wantDup[1] {
				t.Errorf("duplicated %.3f of messages, want within %v", dup, tt.wantDup)
			}
			if lo != tt.minDel || hi != tt.maxDel {
				t.Errorf("delays ranged %d..%d ms, want %d..%d", lo, hi, tt.minDel, tt.maxDel)
			}
		})
	}
}

func TestNetworkSlowNodeAddsDelay(t *testing.T) {
	nw := newNetwork(3, NetworkConfig{MinDelay: 5, MaxDelay: 5})
	nw.extra[2] = 100
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		from, to int
		want     int64
	}{{0, 1, 5}, {0, 2, 105}, {2, 1, 105}} {
		if got := nw.route(rng, 0, tt.from, tt.to, nil); len(got) != 1 || got[0] != tt.want {
			t.Errorf("route %d→%d: delays %v, want [%d]", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestNetworkRampHasNoGap(t *testing.T) {
	nw := newNetwork(2, NetworkConfig{MinDelay: 5, MaxDelay: 5})
	nw.ramp(1000, 1000, NetworkConfig{MinDelay: 500, MaxDelay: 500})
	rng := rand.New(rand.NewPCG(1, 2))
	// One message every 20 ms, as heartbeats go: arrivals must never be
	// further apart than the ramp's slope allows (20 ms × 1.5).
	prev := int64(-1)
	for at := int64(0); at <= 3000; at += 20 {
		d := nw.route(rng, at, 0, 1, nil)[0]
		if arrive := at + d; prev >= 0 && arrive-prev > 30 {
			t.Fatalf("message sent at %d ms arrives %d ms after the previous one", at, arrive-prev)
		} else {
			prev = arrive
		}
	}
	if got := nw.current(1500); got.MinDelay != 252 || got.MaxDelay != 252 {
		t.Errorf("halfway through the ramp the delay is %d..%d ms, want 252", got.MinDelay, got.MaxDelay)
	}
	if got := nw.current(2000); got.MinDelay != 500 {
		t.Errorf("after the ramp the delay is %d ms, want 500", got.MinDelay)
	}
}

func TestNetworkPartitions(t *testing.T) {
	links := func(nw *network) string {
		s := ""
		for i := range nw.n {
			for j := range nw.n {
				switch {
				case i == j:
					s += "."
				case nw.open(i, j):
					s += "o"
				default:
					s += "x"
				}
			}
			s += "|"
		}
		return s
	}
	tests := []struct {
		name string
		do   func(nw *network)
		want string
	}{
		{"healthy", func(*network) {}, ".ooo|o.oo|oo.o|ooo.|"},
		{"1+2 vs 3+4", func(nw *network) { nw.partition([][]int{{0, 1}, {2, 3}}) }, ".oxx|o.xx|xx.o|xxo.|"},
		{"unnamed nodes form a group", func(nw *network) { nw.partition([][]int{{0}}) }, ".xxx|x.oo|xo.o|xoo.|"},
		{"isolate 3", func(nw *network) { nw.isolate(2) }, ".oxo|o.xo|xx.x|oox.|"},
		{"one way 1→2", func(nw *network) { nw.block(0, 1) }, ".xoo|o.oo|oo.o|ooo.|"},
		{"heal", func(nw *network) { nw.isolate(0); nw.heal() }, ".ooo|o.oo|oo.o|ooo.|"},
	}
	for _, tt := range tests {
		nw := newNetwork(4, DefaultNetwork())
		tt.do(nw)
		if got := links(nw); got != tt.want {
			t.Errorf("%s: links %s, want %s", tt.name, got, tt.want)
		}
	}
}
