package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
)

// The tests here hold requests at a frozen node until the test ends and
// check, by counting the requests each node got, that the client routes
// around it. Their deadlines are far longer than the operations take:
// before the client routed around trouble they ran out on the frozen node.

// opDeadline bounds each operation in these tests.
const opDeadline = 5 * time.Second

// patient returns a client of endpoints that keeps a stalled endpoint
// suspect for longer than any test runs, so that each test sees one
// suspect period.
func patient(t *testing.T, endpoints ...string) *client.Client {
	t.Helper()
	c := newClient(t, endpoints...)
	c.SuspectFor = time.Hour
	return c
}

// checkTriedOnce fails t unless f, frozen, got at most one key-value
// request and one status probe (which found it frozen, or would have).
func checkTriedOnce(t *testing.T, name string, f *fake) {
	t.Helper()
	if kv, st := kvCount(f), f.statusCount(); kv > 1 || st > 1 {
		t.Errorf("%s got %d key-value requests and %d status probes, want at most 1 of each", name, kv, st)
	}
}

// kvCount returns how many key-value requests f got.
func kvCount(f *fake) int { return len(f.requests()) }

// TestFrozenFollower: a follower that does not answer at all (stopped by
// SIGSTOP) is tried at most once; every operation succeeds, the first
// ones included, whatever the order of the endpoints.
func TestFrozenFollower(t *testing.T) {
	leader := newFake(t, 1, "leader", ok(1))
	frozen := newFake(t, 2, "follower", ok(1))
	frozen.set(func(f *fake) { f.frozen = true })
	follower := newFake(t, 3, "follower", notLeader(1))
	c := patient(t, frozen.url(), leader.url(), follower.url())

	for i := range 6 {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		// What `wraft kv` and `wraft bench` did before each operation.
		c.FindLeader(ctx)
		var rep api.Reply
		var err error
		switch i % 3 {
		case 0:
			rep, err = c.Set(ctx, "k", []byte("v"))
		case 1:
			rep, err = c.Get(ctx, "k", false)
		case 2:
			rep, err = c.Get(ctx, "k", true)
		}
		cancel()
		if err != nil || rep.Code != "ok" {
			t.Fatalf("operation %d: %+v, %v", i, rep, err)
		}
	}
	checkTriedOnce(t, "the frozen follower", frozen)
}

// TestFrozenLeader: when the leader the client knows freezes, a write
// sent to it is abandoned and retried on the others with the same
// session; later operations do not go back to it.
func TestFrozenLeader(t *testing.T) {
	first := newFake(t, 1, "leader", ok(1))
	f2 := newFake(t, 2, "follower", notLeader(1))
	f3 := newFake(t, 3, "follower", notLeader(1))
	c := patient(t, first.url(), f2.url(), f3.url())
	ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
	defer cancel()
	if id := c.FindLeader(ctx); id != 1 {
		t.Fatalf("FindLeader: have %d, want 1", id)
	}
	if _, err := c.Set(ctx, "before", []byte("v")); err != nil {
		t.Fatalf("Set before the leader froze: %v", err)
	}

	// Node 1 freezes; node 3 wins the election.
	first.set(func(f *fake) { f.frozen = true })
	f2.set(func(f *fake) { f.answer, f.leader = notLeader(3), 3 })
	f3.set(func(f *fake) { f.answer, f.role, f.leader = ok(3), "leader", 3 })
	kvBefore, statusBefore := kvCount(first), first.statusCount()
	for i := range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		rep, err := c.Set(ctx, fmt.Sprint("after", i), []byte("v"))
		cancel()
		if err != nil || rep.Code != "ok" || rep.Leader != 3 {
			t.Fatalf("Set %d after the leader froze: %+v, %v", i, rep, err)
		}
	}
	if n := kvCount(first) - kvBefore; n > 1 {
		t.Errorf("the frozen leader got %d writes, want at most 1", n)
	}
	if n := first.statusCount() - statusBefore; n > 1 {
		t.Errorf("the frozen leader got %d status probes, want at most 1", n)
	}
	// The write the frozen node held and its retries are one session write.
	var sessions []string
	for _, f := range []*fake{first, f2, f3} {
		for _, r := range f.requests() {
			if r.URL.Path == "/v1/kv/after0" {
				sessions = append(sessions, r.Header.Get(api.HeaderClient)+"/"+r.Header.Get(api.HeaderSeq))
			}
		}
	}
	if len(sessions) < 2 {
		t.Fatalf("write after0 was sent %d times, want to the frozen leader and again", len(sessions))
	}
	for _, s := range sessions[1:] {
		if s != sessions[0] || s == "/" {
			t.Errorf("write after0 carried sessions %q, want one", sessions)
		}
	}
}

// TestFrozenNoLeader: with no leader known (an election in progress) and
// the first endpoint frozen, reads go round the others, and the frozen
// one is tried once.
func TestFrozenNoLeader(t *testing.T) {
	frozen := newFake(t, 1, "follower", ok(0))
	frozen.set(func(f *fake) { f.frozen = true })
	f2 := newFake(t, 2, "follower", ok(0))
	f3 := newFake(t, 3, "follower", ok(0))
	c := patient(t, frozen.url(), f2.url(), f3.url())
	for i := range 6 {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		rep, err := c.Get(ctx, "k", i%2 == 0)
		cancel()
		if err != nil || rep.Code != "ok" {
			t.Fatalf("Get %d: %+v, %v", i, rep, err)
		}
	}
	checkTriedOnce(t, "the frozen node", frozen)
}

// TestFirstEndpointFirst: with no leader known, the first endpoint given
// is the first one tried.
func TestFirstEndpointFirst(t *testing.T) {
	for _, stale := range []bool{true, false} {
		f1 := newFake(t, 1, "follower", ok(0))
		f2 := newFake(t, 2, "follower", ok(0))
		c := newClient(t, f1.url(), f2.url())
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		rep, err := c.Get(ctx, "k", stale)
		cancel()
		if err != nil || rep.Code != "ok" {
			t.Fatalf("Get (stale %v): %+v, %v", stale, rep, err)
		}
		if n1, n2 := kvCount(f1), kvCount(f2); n1 != 1 || n2 != 0 {
			t.Errorf("Get (stale %v): requests at the first and second endpoints: have %d, %d, want 1, 0", stale, n1, n2)
		}
	}
}

// TestSlowFollower: a follower that answers, but slowly, is not asked to
// serve operations, and is asked its status at most once.
func TestSlowFollower(t *testing.T) {
	leader := newFake(t, 1, "leader", ok(1))
	slow := newFake(t, 2, "follower", ok(1))
	slow.set(func(f *fake) { f.delay = 2 * time.Second })
	follower := newFake(t, 3, "follower", notLeader(1))
	c := patient(t, leader.url(), slow.url(), follower.url())
	for i := range 6 {
		ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
		var err error
		if i%2 == 0 {
			_, err = c.Set(ctx, "k", []byte("v"))
		} else {
			_, err = c.Get(ctx, "k", false)
		}
		cancel()
		if err != nil {
			t.Fatalf("operation %d: %v", i, err)
		}
	}
	if n := kvCount(slow); n != 0 {
		t.Errorf("the slow follower served %d operations, want 0", n)
	}
	if n := slow.statusCount(); n > 1 {
		t.Errorf("the slow follower was asked its status %d times, want at most 1", n)
	}
}

// TestSuspectExpires: an endpoint is passed over only for SuspectFor;
// then it is tried again, and one that answers is used again.
func TestSuspectExpires(t *testing.T) {
	f1 := newFake(t, 1, "follower", ok(0))
	f1.set(func(f *fake) { f.frozen = true })
	f2 := newFake(t, 2, "follower", ok(0))
	c := newClient(t, f1.url(), f2.url())
	c.SuspectFor = time.Nanosecond
	ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
	defer cancel()
	if _, err := c.Get(ctx, "k", true); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if kvCount(f1) != 1 {
		t.Fatalf("the first endpoint got %d requests, want 1", kvCount(f1))
	}
	// Thaw f1: the next read starts at it again.
	f1.set(func(f *fake) { f.frozen = false })
	if _, err := c.Get(ctx, "k", true); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if kvCount(f1) < 2 {
		t.Errorf("the first endpoint got %d requests, want it tried again once no longer suspect", kvCount(f1))
	}
}

// TestMemberChangeNotResent: a membership change has no session, so one
// sent to a leader that then freezes is not sent again elsewhere (it may
// still apply): the client reports that its outcome is unknown, within
// the deadline. Listing the members, which changes nothing, is sent to
// another node instead.
func TestMemberChangeNotResent(t *testing.T) {
	leader := newFake(t, 1, "leader", ok(1))
	leader.set(func(f *fake) { f.leader = 1 })
	f2 := newFake(t, 2, "follower", notLeader(1))
	f2.set(func(f *fake) { f.leader = 1 })
	c := patient(t, leader.url(), f2.url())
	ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
	defer cancel()
	if id := c.FindLeader(ctx); id != 1 {
		t.Fatalf("FindLeader: have %d, want 1", id)
	}
	leader.set(func(f *fake) { f.frozen = true })
	_, err := c.AddMember(ctx, api.AddMember{ID: 4, Raft: "127.0.0.1:7004"})
	if !errors.Is(err, client.ErrOutcomeUnknown) {
		t.Errorf("AddMember at a frozen leader: have %v, want ErrOutcomeUnknown", err)
	}
	leader.mu.Lock()
	atLeader := len(leader.memberReqs)
	leader.mu.Unlock()
	f2.mu.Lock()
	atF2 := len(f2.memberReqs)
	f2.mu.Unlock()
	if atLeader != 1 || atF2 != 0 {
		t.Errorf("AddMember was sent %d times to the leader and %d to the follower, want once to the leader", atLeader, atF2)
	}
	ms, err := c.Members(ctx)
	if err != nil || ms.From != 2 {
		t.Errorf("Members with the leader frozen: have %+v, %v, want the follower's answer", ms, err)
	}
}

// TestSlowCommitWaits: a leader that is alive (it answers its status) but
// slow to commit is waited for, not abandoned: the write is sent once.
func TestSlowCommitWaits(t *testing.T) {
	commit := make(chan struct{})
	leader := newFake(t, 1, "leader", func(r *http.Request) (int, api.Reply) {
		select {
		case <-commit:
		case <-r.Context().Done():
		}
		return ok(1)(r)
	})
	f2 := newFake(t, 2, "follower", ok(1))
	c := patient(t, leader.url(), f2.url())
	c.StallTimeout = time.Millisecond // probe the leader at once, and often
	c.ProbeTimeout = opDeadline
	ctx, cancel := context.WithTimeout(context.Background(), opDeadline)
	defer cancel()
	if id := c.FindLeader(ctx); id != 1 {
		t.Fatalf("FindLeader: have %d, want 1", id)
	}
	go func() {
		// Commit once the client has probed the leader a few times.
		for leader.statusCount() < 4 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		close(commit)
	}()
	rep, err := c.Set(ctx, "k", []byte("v"))
	if err != nil || rep.Code != "ok" {
		t.Fatalf("Set: %+v, %v", rep, err)
	}
	if n1, n2 := kvCount(leader), kvCount(f2); n1 != 1 || n2 != 0 {
		t.Errorf("writes at the leader and the follower: have %d, %d, want 1, 0", n1, n2)
	}
}
