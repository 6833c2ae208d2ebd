package kv

import (
	"slices"
	"strconv"
	"testing"
)

// withSession returns c as command seq of client.
func withSession(client, seq uint64, c Command) Command {
	c.ClientID, c.Seq = client, seq
	return c
}

// sessionOrder returns the clients from least to most recently used.
func sessionOrder(s *Store) []uint64 {
	var ids []uint64
	for sess := s.sessions.oldest; sess != nil; sess = sess.newer {
		ids = append(ids, sess.client)
	}
	return ids
}

func TestSessionRetryAppliesOnce(t *testing.T) {
	tests := []struct {
		name  string
		cmd   Command
		then  Command // a command by another client, between the first try and the retry
		check func(*Store) string
	}{
		{"set", set("a", "1"), set("a", "other"), func(s *Store) string { v, _ := s.Get("a"); return string(v) }},
		{"del", del("a"), set("a", "back"), func(s *Store) string { v, _ := s.Get("a"); return string(v) }},
		{"cas", cas("a", "0", "1"), set("a", "0"), func(s *Store) string { v, _ := s.Get("a"); return string(v) }},
		{"get", get("a"), set("a", "later"), func(s *Store) string { v, _ := s.Get("a"); return string(v) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			s.Apply(1, set("a", "0"))
			first := s.Apply(2, withSession(7, 1, tt.cmd))
			s.Apply(3, tt.then)
			wantState := tt.check(s)
			for index := uint64(4); index < 7; index++ {
				retry := s.Apply(index, withSession(7, 1, tt.cmd))
				if resultString(retry) != resultString(first) {
					t.Errorf("retry at %d: have %s, want the first result %s", index, resultString(retry), resultString(first))
				}
			}
			if have := tt.check(s); have != wantState {
				t.Errorf("retry applied again: a=%q, want %q", have, wantState)
			}
			// The next sequence number applies.
			if r := s.Apply(7, withSession(7, 5, set("a", "next"))); !r.OK {
				t.Errorf("next seq: %s", resultString(r))
			}
			checkInvariants(t, s)
		})
	}
}

func TestSessionStale(t *testing.T) {
	s := New()
	s.Apply(1, withSession(7, 3, set("a", "3")))
	s.Apply(2, withSession(7, 4, set("a", "4")))
	digest := s.Digest()
	for _, seq := range []uint64{0, 2, 3} {
		r := s.Apply(10+seq, withSession(7, seq, set("a", "old")))
		want := "kv: stale sequence number " + strconv.FormatUint(seq, 10) + " (session at 4)"
		if r.OK || r.Err != want {
			t.Errorf("seq %d: have %s, want Err %q", seq, resultString(r), want)
		}
	}
	if v, _ := s.Get("a"); string(v) != "4" {
		t.Errorf("stale command applied: a=%q", v)
	}
	// A stale command consumes its index and changes nothing else; in
	// particular it does not refresh the session.
	if s.sessions.get(7).lastUsed != 2 {
		t.Errorf("stale command refreshed the session")
	}
	s.applied = 2
	if s.Digest() != digest {
		t.Errorf("stale command changed the state")
	}
	checkInvariants(t, s)
}

func TestSessionFailedCASIsRemembered(t *testing.T) {
	s := New()
	s.Apply(1, set("a", "1"))
	first := s.Apply(2, withSession(7, 1, cas("a", "0", "2")))
	s.Apply(3, set("a", "0")) // now the CAS would succeed
	retry := s.Apply(4, withSession(7, 1, cas("a", "0", "2")))
	if resultString(retry) != resultString(first) || first.OK {
		t.Errorf("retry: have %s, want %s (the failure)", resultString(retry), resultString(first))
	}
	if v, _ := s.Get("a"); string(v) != "0" {
		t.Errorf("retry applied: a=%q", v)
	}
}

func TestNoSession(t *testing.T) {
	s := New()
	s.Apply(1, set("n", "0"))
	for i := uint64(2); i < 5; i++ {
		// The same (0, seq) applies every time.
		r := s.Apply(i, withSession(0, 1, cas("n", strconv.FormatUint(i-2, 10), strconv.FormatUint(i-1, 10))))
		if !r.OK {
			t.Fatalf("index %d: %s", i, resultString(r))
		}
	}
	if v, _ := s.Get("n"); string(v) != "3" || s.sessions.len() != 0 {
		t.Errorf("n=%q, %d sessions; want 3, 0", v, s.sessions.len())
	}
}

func TestSessionEviction(t *testing.T) {
	s := newStore(3)
	index := uint64(0)
	apply := func(client, seq uint64, c Command) Result {
		index++
		r := s.Apply(index, withSession(client, seq, c))
		checkInvariants(t, s)
		return r
	}
	apply(1, 1, set("a", "1"))
	apply(2, 1, set("b", "1"))
	apply(3, 1, set("c", "1"))
	if have, want := sessionOrder(s), []uint64{1, 2, 3}; !slices.Equal(have, want) {
		t.Fatalf("order: have %v, want %v", have, want)
	}

	// A retry uses a session as much as a new command does.
	apply(1, 1, set("a", "1"))
	apply(2, 2, get("b"))
	if have, want := sessionOrder(s), []uint64{3, 1, 2}; !slices.Equal(have, want) {
		t.Fatalf("order after use: have %v, want %v", have, want)
	}

	// A new client evicts the least recently used: 3.
	apply(4, 1, set("d", "1"))
	if have, want := sessionOrder(s), []uint64{1, 2, 4}; !slices.Equal(have, want) {
		t.Fatalf("order after eviction: have %v, want %v", have, want)
	}
	if s.sessions.get(3) != nil {
		t.Fatalf("client 3 still has a session")
	}

	// The evicted client's retry is a new command: it applies again.
	apply(9, 1, set("c", "other"))
	r := apply(3, 1, set("c", "1"))
	if !r.OK || !r.Found {
		t.Errorf("retry after eviction: have %s, want a fresh SET of an existing key", resultString(r))
	}
	if v, _ := s.Get("c"); string(v) != "1" {
		t.Errorf("c=%q, want the retry applied again", v)
	}
	if have, want := sessionOrder(s), []uint64{9, 3}; !slices.Equal(have[1:], want) {
		t.Errorf("order: have %v, want ..., %v", have, want)
	}
}

func TestSessionEvictionAtMaxSessions(t *testing.T) {
	s := New()
	for client := uint64(1); client <= MaxSessions+1; client++ {
		s.Apply(client, withSession(client, 1, set("k", strconv.FormatUint(client, 10))))
	}
	if s.sessions.len() != MaxSessions {
		t.Fatalf("%d sessions, want %d", s.sessions.len(), MaxSessions)
	}
	if s.sessions.get(1) != nil || s.sessions.get(2) == nil || s.sessions.oldest.client != 2 {
		t.Errorf("client 1 should be the one evicted")
	}
	checkInvariants(t, s)
}

// A sequence number reused with a different command is refused with
// ErrSessionReused; the store, its session and the first result stay as
// they were, and a retry of the first command still gets its result.
func TestSessionSeqReusedWithOtherCommand(t *testing.T) {
	tests := []struct {
		name         string
		first, other Command
	}{
		{"other value", set("a", "1"), set("a", "2")},
		{"other key", set("a", "1"), set("b", "1")},
		{"other op", set("a", "1"), del("a")},
		{"get then set", get("a"), set("a", "x")},
		{"cas expect", cas("a", "0", "1"), cas("a", "9", "1")},
		{"cas expect missing", cas("a", "", "1"), casMissing("a", "1")},
		{"empty and nil value", Command{Op: OpSet, Key: "a", Value: []byte{}}, Command{Op: OpSet, Key: "a", Value: []byte("v")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			s.Apply(1, set("a", "0"))
			first := s.Apply(2, withSession(7, 1, tt.first))
			a, _ := s.Get("a")
			b, _ := s.Get("b")
			r := s.Apply(3, withSession(7, 1, tt.other))
			if r.OK || !r.SessionReused() ||
				r.Err != "kv: session: sequence reused with a different command (client 7, sequence 1)" {
				t.Errorf("other command: have %s, want the session error", resultString(r))
			}
			if a2, _ := s.Get("a"); string(a2) != string(a) {
				t.Errorf("other command applied: a=%q, want %q", a2, a)
			}
			if b2, _ := s.Get("b"); string(b2) != string(b) {
				t.Errorf("other command applied: b=%q, want %q", b2, b)
			}
			if again := s.Apply(4, withSession(7, 1, tt.first)); resultString(again) != resultString(first) {
				t.Errorf("retry of the first: have %s, want %s", resultString(again), resultString(first))
			}
			checkInvariants(t, s)
		})
	}
	// An equal command (nil and empty slices alike) is a retry.
	s := New()
	first := s.Apply(1, withSession(7, 1, Command{Op: OpSet, Key: "a", Value: nil}))
	if r := s.Apply(2, withSession(7, 1, Command{Op: OpSet, Key: "a", Value: []byte{}})); resultString(r) != resultString(first) {
		t.Errorf("retry with an empty value: have %s, want %s", resultString(r), resultString(first))
	}
}
