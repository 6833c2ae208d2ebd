package raft

// ReadIndex reads (thesis §6.4): a leader serves a read at its commit index
// once (1) it has committed an entry of its own term and (2) a heartbeat
// round started after the read has been answered by a majority.

import (
	"slices"
	"testing"
)

// readCtx returns the Context of the heartbeats in ms (all must agree).
func readCtx(t *testing.T, ms []Message) []byte {
	t.Helper()
	var ctx []byte
	for i, m := range ms {
		if m.Type != MsgHeartbeat {
			continue
		}
		if i > 0 && string(m.Context) != string(ctx) {
			t.Fatalf("heartbeats carry different contexts: %q, %q", ctx, m.Context)
		}
		ctx = m.Context
	}
	return ctx
}

// Thesis §6.4 step 1: a new leader does not serve reads before it has
// committed an entry of its term — its commit index may lag the cluster's
// until then, even though it is not zero.
func TestReadIndexWaitsForCommitInTerm(t *testing.T) {
	// Committed up to 3 in term 1; the leader of term 2 does not know
	// whether the old leader committed more.
	n := newTestNode(t, 1, 3, nil, HardState{Term: 1, Commit: 3}, logOf(1, 1, 1))
	first := makeLeader(t, n)
	if err := n.ReadIndex([]byte("r")); err != nil {
		t.Fatal(err)
	}
	rd := flush(n)
	if len(rd.ReadStates) != 0 {
		t.Fatalf("served %+v before committing in term 2", rd.ReadStates)
	}
	for _, m := range rd.Messages {
		if m.Type == MsgHeartbeat && len(m.Context) > 0 {
			t.Fatalf("started a read round before committing in term 2: %+v", m)
		}
	}
	// Heartbeats answered now confirm nothing: no round has started.
	n.Tick()
	for _, m := range sent(n, MsgHeartbeat) {
		mustStep(t, n, Message{Type: MsgHeartbeatResp, From: m.To, To: 1, Term: 2, Context: m.Context})
	}
	if rd := flush(n); len(rd.ReadStates) != 0 {
		t.Fatalf("served %+v before committing in term 2", rd.ReadStates)
	}
	ackAll(t, n, first) // the no-op (index 4) commits
	if n.log.committed != 4 {
		t.Fatalf("have commit %d, want 4", n.log.committed)
	}
	rd = flush(n)
	if len(rd.ReadStates) != 0 {
		t.Fatalf("served %+v before a heartbeat quorum", rd.ReadStates)
	}
	ctx := readCtx(t, rd.Messages)
	if len(ctx) == 0 {
		t.Fatalf("no heartbeat round started once the no-op committed: %+v", rd.Messages)
	}
	mustStep(t, n, Message{Type: MsgHeartbeatResp, From: 2, To: 1, Term: 2, Context: ctx})
	rd = flush(n)
	want := []ReadState{{Index: 4, Context: []byte("r")}}
	if !slices.EqualFunc(rd.ReadStates, want, eqReadState) {
		t.Fatalf("have %+v, want %+v", rd.ReadStates, want)
	}
}

func eqReadState(a, b ReadState) bool {
	return a.Index == b.Index && a.Rejected == b.Rejected && string(a.Context) == string(b.Context)
}

// Thesis §6.4 steps 2-3: the read is served only once a majority (the
// leader included) has answered a heartbeat round started after it. Answers
// to another round and repeated answers do not count.
func TestReadIndexNeedsHeartbeatQuorum(t *testing.T) {
	n := newTestNode(t, 1, 5, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n)
	n.Tick() // an ordinary heartbeat, before the read
	old := sent(n, MsgHeartbeat)
	if err := n.ReadIndex([]byte("r")); err != nil {
		t.Fatal(err)
	}
	rd := flush(n)
	ctx := readCtx(t, rd.Messages)
	if len(ctx) == 0 {
		t.Fatal("no heartbeat round for the read")
	}
	steps := []struct {
		from   uint64
		ctx    []byte
		served bool
	}{
		{2, old[0].Context, false}, // answers a heartbeat sent before the read
		{2, ctx, false},            // leader + 2: two of five
		{2, ctx, false},            // again: still two
		{3, []byte("garbage"), false},
		{3, append(slices.Clone(ctx[:7]), ctx[7]+1), false}, // a round not started yet
		{4, ctx, true}, // leader + 2 + 4: three of five
	}
	for i, s := range steps {
		mustStep(t, n, Message{Type: MsgHeartbeatResp, From: s.from, To: 1, Term: 1, Context: s.ctx})
		rd := flush(n)
		if served := len(rd.ReadStates) > 0; served != s.served {
			t.Fatalf("step %d (from %d, ctx %x): served %v, want %v", i, s.from, s.ctx, served, s.served)
		}
		if s.served {
			if want := (ReadState{Index: 1, Context: []byte("r")}); len(rd.ReadStates) != 1 || !eqReadState(rd.ReadStates[0], want) {
				t.Fatalf("have %+v, want %+v", rd.ReadStates, want)
			}
		}
	}
}

// Reads asked together share one heartbeat round and are answered in the
// order they were asked.
func TestReadIndexBatchesReadsInOrder(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n)
	for _, r := range []string{"a", "b", "c"} {
		n.ReadIndex([]byte(r))
	}
	rd := flush(n)
	if hb := to(2, rd.Messages); len(hb) != 1 {
		t.Fatalf("have %d messages to 2, want one heartbeat for the three reads", len(hb))
	}
	mustStep(t, n, Message{Type: MsgHeartbeatResp, From: 3, To: 1, Term: 1, Context: readCtx(t, rd.Messages)})
	var ctxs []string
	for _, rs := range flush(n).ReadStates {
		ctxs = append(ctxs, string(rs.Context))
	}
	if !slices.Equal(ctxs, []string{"a", "b", "c"}) {
		t.Fatalf("served %q, want [a b c]", ctxs)
	}
}

// A single-node cluster is its own quorum: reads are served at once.
func TestReadIndexSingleNode(t *testing.T) {
	n := newTestNode(t, 1, 1, nil, HardState{}, nil)
	n.Campaign()
	flush(n)
	n.Propose([]byte("x"))
	flush(n)
	n.ReadIndex([]byte("r"))
	rd := flush(n)
	if want := (ReadState{Index: 2, Context: []byte("r")}); len(rd.ReadStates) != 1 || !eqReadState(rd.ReadStates[0], want) {
		t.Fatalf("have %+v, want %+v", rd.ReadStates, want)
	}
}

// A leader that loses leadership rejects its pending reads, its own and
// the forwarded ones, whether or not their round had started.
func TestReadIndexDeposedLeaderRejectsPending(t *testing.T) {
	for _, started := range []bool{true, false} {
		n := newTestNode(t, 1, 3, nil, HardState{}, nil)
		first := makeLeader(t, n)
		if started {
			ackAll(t, n, first)
		}
		flush(n)
		n.ReadIndex([]byte("local"))
		mustStep(t, n, Message{Type: MsgReadIndex, From: 2, To: 1, Context: []byte("fwd")})
		rd := flush(n)
		if len(rd.ReadStates) != 0 {
			t.Fatalf("started %v: served %+v without a quorum", started, rd.ReadStates)
		}
		if hasCtx := len(readCtx(t, rd.Messages)) > 0; hasCtx != started {
			t.Fatalf("started %v: read round started %v", started, hasCtx)
		}
		// Node 3 answers from a later term: a new leader may exist.
		mustStep(t, n, Message{Type: MsgHeartbeatResp, From: 3, To: 1, Term: 5})
		if n.role != RoleFollower {
			t.Fatalf("started %v: still %v after a later term", started, n.role)
		}
		rd = flush(n)
		if want := (ReadState{Context: []byte("local"), Rejected: true}); len(rd.ReadStates) != 1 || !eqReadState(rd.ReadStates[0], want) {
			t.Errorf("started %v: local read: have %+v, want %+v", started, rd.ReadStates, want)
		}
		var resp []Message
		for _, m := range rd.Messages {
			if m.Type == MsgReadIndexResp {
				resp = append(resp, m)
			}
		}
		if len(resp) != 1 || resp[0].To != 2 || !resp[0].Reject || string(resp[0].Context) != "fwd" {
			t.Errorf("started %v: forwarded read: have %+v, want a rejection to 2 for \"fwd\"", started, resp)
		}
		// Late confirmations change nothing now.
		mustStep(t, n, Message{Type: MsgHeartbeatResp, From: 2, To: 1, Term: 5, Context: []byte{0, 0, 0, 0, 0, 0, 0, 1}})
		if rd := flush(n); len(rd.ReadStates) != 0 {
			t.Errorf("started %v: served %+v after stepping down", started, rd.ReadStates)
		}
	}
}

// A follower forwards a read to its leader and turns the answer into a
// ReadState; a node that does not lead refuses a forwarded read.
func TestReadIndexFollowerForwards(t *testing.T) {
	f := newTestNode(t, 2, 3, nil, HardState{Term: 1}, nil)
	mustStep(t, f, Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 1})
	flush(f)
	if err := f.ReadIndex([]byte("r")); err != nil {
		t.Fatal(err)
	}
	ms := sent(f, MsgReadIndex)
	if len(ms) != 1 || ms[0].To != 1 || string(ms[0].Context) != "r" {
		t.Fatalf("have %+v, want MsgReadIndex to 1 with context r", ms)
	}
	mustStep(t, f, Message{Type: MsgReadIndexResp, From: 1, To: 2, Term: 1, Index: 7, Context: []byte("r")})
	rd := flush(f)
	if want := (ReadState{Index: 7, Context: []byte("r")}); len(rd.ReadStates) != 1 || !eqReadState(rd.ReadStates[0], want) {
		t.Fatalf("have %+v, want %+v", rd.ReadStates, want)
	}

	// Node 3, a follower, refuses a read forwarded to it.
	o := newTestNode(t, 3, 3, nil, HardState{Term: 1}, nil)
	mustStep(t, o, Message{Type: MsgReadIndex, From: 2, To: 3, Context: []byte("r")})
	if ms := sent(o, MsgReadIndexResp); len(ms) != 1 || !ms[0].Reject || string(ms[0].Context) != "r" {
		t.Fatalf("have %+v, want a rejection", ms)
	}
}

// End to end: a follower's read is answered with an index at least the
// commit index of the write that preceded it.
func TestReadIndexFollowerReadSeesPriorWrite(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	c.propose(l, "w")
	commit := c.nodes[l].log.committed
	f := l%3 + 1
	if err := c.nodes[f].ReadIndex([]byte("r")); err != nil {
		t.Fatal(err)
	}
	c.settle()
	rs := c.reads[f]
	if len(rs) != 1 || rs[0].Rejected || string(rs[0].Context) != "r" || rs[0].Index < commit {
		t.Fatalf("follower's reads %+v, want one for r at index >= %d", rs, commit)
	}
}

// Linearizability: a leader cut off while a new leader commits a write must
// not serve a read (it cannot gather a heartbeat quorum); when it rejoins
// it learns the new term and rejects the read.
func TestReadIndexStaleLeaderDoesNotServe(t *testing.T) {
	c := newCluster(t, 3, noCheckQuorum) // the old leader does not step down by itself
	old := c.elect()
	c.propose(old, "a")
	c.isolate(old)
	// Tick the others until one of them leads.
	var nl uint64
	for range 100 {
		for _, id := range c.ids {
			if id != old {
				c.nodes[id].Tick()
			}
		}
		c.settle()
		for _, id := range c.ids {
			if id != old && c.nodes[id].role == RoleLeader {
				nl = id
			}
		}
		if nl != 0 {
			break
		}
	}
	if nl == 0 {
		t.Fatal("the majority elected no leader")
	}
	c.propose(nl, "b")
	if c.nodes[old].role != RoleLeader {
		t.Fatalf("test setup: the old leader is %v", c.nodes[old].role)
	}
	c.nodes[old].ReadIndex([]byte("stale"))
	c.tick(5)
	for _, rs := range c.reads[old] {
		if !rs.Rejected {
			t.Fatalf("isolated old leader served %+v after the new leader committed b", rs)
		}
	}
	c.heal()
	c.tick(5)
	rs := c.reads[old]
	if len(rs) != 1 || !rs[0].Rejected {
		t.Fatalf("old leader's reads after rejoining: %+v, want one rejection", rs)
	}
}

// A follower's read forwarded to a leader that is then deposed gets an
// answer: the deposed leader rejects it (the API promises an answer in a
// later Ready; "Rejected means leadership was lost first; retry").
func TestReadIndexForwardedReadAnsweredWhenLeaderDeposed(t *testing.T) {
	// was skipped: BUG (fixed)
	c := newCluster(t, 3, nil)
	l := c.elect()
	c.propose(l, "a")
	f := l%3 + 1
	other := 6 - l - f
	// Heartbeat answers to the old leader are lost: its read round cannot
	// complete before it is deposed.
	c.drop = func(m Message) bool { return m.Type == MsgHeartbeatResp && m.To == l }
	if err := c.nodes[f].ReadIndex([]byte("r")); err != nil {
		t.Fatal(err)
	}
	c.settle()
	if len(c.nodes[l].reads) != 1 {
		t.Fatalf("test setup: the leader holds %d reads, want the forwarded one", len(c.nodes[l].reads))
	}
	if err := c.nodes[l].TransferLeadership(other); err != nil {
		t.Fatal(err)
	}
	c.settle()
	c.drop = nil
	c.tick(5)
	if c.leader() != other {
		t.Fatalf("test setup: leader %d, want %d", c.leader(), other)
	}
	rs := c.reads[f]
	if len(rs) != 1 || string(rs[0].Context) != "r" {
		t.Fatalf("follower %d's read: have %+v, want one answer (served or rejected)", f, rs)
	}
}

// The answer to a forwarded read is valid whatever the asking node has
// become meanwhile, as long as its term is unchanged: a follower that timed
// out and turned pre-candidate must still get its ReadState.
func TestReadIndexAnswerReachesPreCandidate(t *testing.T) {
	// was skipped: BUG (fixed)
	for _, reject := range []bool{false, true} {
		f := newTestNode(t, 2, 3, nil, HardState{Term: 1}, nil)
		mustStep(t, f, Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 1})
		flush(f)
		f.ReadIndex([]byte("r"))
		flush(f)
		f.Campaign() // pre-candidate, still in term 1
		flush(f)
		mustStep(t, f, Message{Type: MsgReadIndexResp, From: 1, To: 2, Term: 1, Index: 3, Reject: reject, Context: []byte("r")})
		rd := flush(f)
		want := ReadState{Index: 3, Context: []byte("r"), Rejected: reject}
		if len(rd.ReadStates) != 1 || !eqReadState(rd.ReadStates[0], want) {
			t.Errorf("reject %v: have %+v, want %+v", reject, rd.ReadStates, want)
		}
	}
}
