package raft

// Unit tests of progress, the leader's view of one follower.

import "testing"

func TestProgressPaused(t *testing.T) {
	tests := []struct {
		name string
		p    progress
		want bool
	}{
		{"probe, nothing sent", progress{state: ProgressProbe}, false},
		{"probe, probe outstanding", progress{state: ProgressProbe, probeSent: true}, true},
		{"replicate, room", progress{state: ProgressReplicate, inflight: make([]inflight, 1)}, false},
		{"replicate, window full", progress{state: ProgressReplicate, inflight: make([]inflight, 2)}, true},
		{"replicate, bytes full", progress{state: ProgressReplicate, inflightBytes: 10}, true},
	}
	for _, tt := range tests {
		if have := tt.p.paused(2, 10); have != tt.want {
			t.Errorf("%s: paused: have %v, want %v", tt.name, have, tt.want)
		}
	}
}

func TestProgressSentAndAcked(t *testing.T) {
	p := progress{match: 3, next: 4}
	p.becomeReplicate()
	p.sent(5, 10, 0)
	p.sent(7, 20, 0)
	if p.next != 8 || len(p.inflight) != 2 || p.inflightBytes != 30 {
		t.Fatalf("after two sends: %+v", p)
	}
	if !p.acked(5) || p.match != 5 || len(p.inflight) != 1 || p.inflightBytes != 20 {
		t.Fatalf("after ack 5: %+v", p)
	}
	if p.acked(4) || p.match != 5 {
		t.Fatalf("a stale ack moved match: %+v", p)
	}
	if !p.acked(7) || p.match != 7 || len(p.inflight) != 0 || p.inflightBytes != 0 || p.next != 8 {
		t.Fatalf("after ack 7: %+v", p)
	}
	// In probe state a send marks the probe outstanding without moving next.
	p.becomeProbe()
	p.sent(9, 5, 0)
	if !p.probeSent || p.next != 8 || len(p.inflight) != 0 {
		t.Fatalf("probe send: %+v", p)
	}
	if !p.acked(9) || p.probeSent || p.next != 10 {
		t.Fatalf("probe ack: %+v", p)
	}
}

// rejected moves next back to the hint, never below match+1, and ignores
// stale rejections.
func TestProgressRejected(t *testing.T) {
	tests := []struct {
		name           string
		p              progress
		rejected, hint uint64
		want           bool
		wantNext       uint64
		wantState      ProgressState
	}{
		{"probe, current", progress{state: ProgressProbe, match: 2, next: 10, probeSent: true}, 9, 5, true, 6, ProgressProbe},
		{"probe, hint above rejected", progress{state: ProgressProbe, match: 2, next: 10}, 9, 20, true, 9, ProgressProbe},
		{"probe, hint below match", progress{state: ProgressProbe, match: 4, next: 10}, 9, 1, true, 5, ProgressProbe},
		{"probe, stale", progress{state: ProgressProbe, match: 2, next: 10}, 7, 5, false, 10, ProgressProbe},
		{"replicate, news", progress{state: ProgressReplicate, match: 2, next: 10}, 6, 4, true, 5, ProgressProbe},
		{"replicate, at match", progress{state: ProgressReplicate, match: 6, next: 10}, 6, 4, false, 10, ProgressReplicate},
	}
	for _, tt := range tests {
		p := tt.p
		if have := p.rejected(tt.rejected, tt.hint); have != tt.want || p.next != tt.wantNext || p.state != tt.wantState {
			t.Errorf("%s: have %v next %d %v, want %v next %d %v", tt.name, have, p.next, p.state, tt.want, tt.wantNext, tt.wantState)
		}
		if tt.want && p.probeSent {
			t.Errorf("%s: probe still marked outstanding after a rejection", tt.name)
		}
	}
}
