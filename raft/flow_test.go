package raft

import "testing"

// Large entries are paced by bytes: no MsgApp carries more than
// MaxMsgBytes of entries (but a single larger entry, alone), the entry
// bytes sent to a follower and not acknowledged never exceed
// MaxInflightBytes (but a single larger message, alone in flight), and the
// leader still sends every follower a heartbeat, a small message without
// entries, every HeartbeatTicks ticks while its window is full and while
// the follower answers the heartbeats.
func TestLargeEntriesPacedByBytes(t *testing.T) {
	const (
		value      = 64 << 10
		maxMsg     = 150 << 10 // two 64 KiB entries fit, three do not
		maxFlight  = 384 << 10 // exactly six 64 KiB entries
		heartbeats = 3
	)
	n := newTestNode(t, 1, 3, func(c *Config) {
		c.MaxMsgBytes, c.MaxInflightBytes, c.HeartbeatTicks, c.ElectionTicks = maxMsg, maxFlight, heartbeats, 30
	}, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))

	// unacked holds node 2's MsgApp not yet acknowledged, oldest first.
	var unacked []Message
	entryBytes := func(m Message) (b uint64) {
		for _, e := range m.Entries {
			b += uint64(len(e.Data))
		}
		return b
	}
	check := func(step string, ms []Message) {
		t.Helper()
		for _, m := range ms {
			if m.To != 2 {
				continue
			}
			switch m.Type {
			case MsgApp:
				if b := entryBytes(m); b > maxMsg && len(m.Entries) > 1 {
					t.Fatalf("%s: MsgApp of %d entries, %d bytes, over MaxMsgBytes %d", step, len(m.Entries), b, maxMsg)
				}
				unacked = append(unacked, m)
			case MsgHeartbeat:
				if len(m.Entries) > 0 || m.Snapshot != nil {
					t.Fatalf("%s: heartbeat with %d entries", step, len(m.Entries))
				}
			}
		}
		var flight uint64
		for _, m := range unacked {
			flight += entryBytes(m)
		}
		if flight > maxFlight && len(unacked) > 1 {
			t.Fatalf("%s: %d bytes in %d MsgApp unacknowledged, over MaxInflightBytes %d", step, flight, len(unacked), maxFlight)
		}
	}
	countHeartbeats := func(ms []Message) (k int) {
		for _, m := range ms {
			if m.Type == MsgHeartbeat && m.To == 2 {
				k++
			}
		}
		return k
	}

	// Phase 1: 40 proposals of 64 KiB, no acks from node 2, heartbeats
	// answered (as a slow but live follower would).
	ticks, beats := 0, 0
	for i := range 40 {
		if _, err := n.Propose(make([]byte, value)); err != nil {
			t.Fatal(err)
		}
		ms := sent(n)
		check("proposal", ms)
		if i%2 == 1 {
			n.Tick()
			ticks++
			ms := sent(n)
			check("tick", ms)
			beats += countHeartbeats(ms)
			for _, m := range ms {
				if m.Type == MsgHeartbeat && m.To == 2 {
					mustStep(t, n, Message{Type: MsgHeartbeatResp, From: 2, To: 1, Term: m.Term, Context: m.Context})
					check("heartbeat response", sent(n))
				}
			}
		}
	}
	if want := ticks / heartbeats; beats < want {
		t.Errorf("%d heartbeats to node 2 in %d ticks, want %d (one every %d ticks)", beats, ticks, want, heartbeats)
	}
	if len(unacked) == 0 {
		t.Fatalf("nothing sent to node 2")
	}

	// Phase 2: node 2 acknowledges one message at a time; the leader
	// streams the rest within the limits until node 2 holds everything.
	for range 200 {
		if len(unacked) == 0 {
			break
		}
		m := unacked[0]
		unacked = unacked[1:]
		ackAll(t, n, []Message{m})
		check("ack", sent(n))
	}
	if p := progressOf(t, n, 2); p.Match != n.log.lastIndex() {
		t.Errorf("node 2 match %d, want %d", p.Match, n.log.lastIndex())
	}

	// A single entry larger than both limits goes alone, once nothing
	// else is in flight.
	n.Propose(make([]byte, value))
	n.Propose(make([]byte, maxFlight+1))
	n.Propose(make([]byte, value))
	ms := to(2, sent(n, MsgApp))
	check("huge entry", ms)
	for range 5 {
		if len(unacked) == 0 {
			break
		}
		m := unacked[0]
		unacked = unacked[1:]
		ackAll(t, n, []Message{m})
		check("ack after huge entry", sent(n))
	}
	if p := progressOf(t, n, 2); p.Match != n.log.lastIndex() {
		t.Errorf("after the huge entry: node 2 match %d, want %d", p.Match, n.log.lastIndex())
	}
}
