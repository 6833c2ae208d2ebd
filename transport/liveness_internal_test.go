package transport

import (
	"testing"
	"time"
)

// TestLivenessLimit follows the limit on silence as the round trip is
// measured: a slow link earns a longer one.
func TestLivenessLimit(t *testing.T) {
	const base, slack = 200 * time.Millisecond, 50 * time.Millisecond
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	fast := liveness{base: base, slack: slack, srtt: time.Millisecond}
	if have := fast.limit(); have != base {
		t.Errorf("fast link: limit %v, want %v", have, base)
	}
	slow := liveness{base: base, slack: slack, srtt: 500 * time.Millisecond}
	if have, want := slow.limit(), 1050*time.Millisecond; have != want {
		t.Errorf("hello round trip 500ms: limit %v, want %v", have, want)
	}

	// Frames sent at 0 and 10 ms, acknowledged together at 900 ms: the
	// round trip moves an eighth of the way from 500 to 900 ms.
	slow.sending(1, at(0))
	slow.sending(1, at(10))
	if have := slow.silence(at(300)); have != 300*time.Millisecond {
		t.Errorf("silence at 300 ms: %v, want 300ms", have)
	}
	if err := slow.ack(1, at(400)); err != nil {
		t.Fatal(err)
	}
	if have := slow.silence(at(450)); have != 50*time.Millisecond {
		t.Errorf("silence 50 ms after an acknowledgement: %v", have)
	}
	if err := slow.ack(2, at(900)); err != nil {
		t.Fatal(err)
	}
	if have, want := slow.srtt, 550*time.Millisecond; have != want {
		t.Errorf("smoothed round trip %v, want %v", have, want)
	}
	if have := slow.silence(at(1000)); have != 0 {
		t.Errorf("silence with nothing waiting: %v, want 0", have)
	}
	// An acknowledgement of more than was sent, or of less than before,
	// is a protocol error.
	if err := slow.ack(3, at(1000)); err == nil {
		t.Error("acknowledgement of an unsent frame accepted")
	}
	if err := slow.ack(1, at(1000)); err == nil {
		t.Error("acknowledgement going backwards accepted")
	}
	// A starved process excuses the silence so far.
	slow.sending(1, at(1000))
	slow.excuse(at(3000))
	if have := slow.silence(at(3100)); have != 100*time.Millisecond {
		t.Errorf("silence after an excuse: %v, want 100ms", have)
	}
}
