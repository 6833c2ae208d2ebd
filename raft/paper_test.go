package raft

// Conformance with the Raft paper's Figure 2 ("The Raft consensus
// algorithm: a condensed summary") and §5.4.2 (Figure 8). One test or table
// per rule; each names the rule it checks.

import (
	"bytes"
	"slices"
	"testing"
)

// Figure 2, Rules for all servers: "If RPC request or response contains
// term T > currentTerm: set currentTerm = T, convert to follower."
// (Pre-vote messages and the leader lease are the documented exceptions;
// see prevote_test.go.)
func TestFig2AllServersHigherTermConvertsToFollower(t *testing.T) {
	roles := []struct {
		name  string
		setup func(t *testing.T, n *Node)
	}{
		{"follower", func(t *testing.T, n *Node) {}},
		{"pre-candidate", func(t *testing.T, n *Node) { n.Campaign(); flush(n) }},
		{"candidate", func(t *testing.T, n *Node) {
			n.cfg.DisablePreVote = true
			n.Campaign()
			flush(n)
			n.cfg.DisablePreVote = false
		}},
		{"leader", func(t *testing.T, n *Node) { makeLeader(t, n) }},
	}
	msgs := []struct {
		typ      MessageType
		reject   bool
		wantLead bool // the sender is known as leader afterwards
	}{
		{MsgApp, false, true},
		{MsgHeartbeat, false, true},
		{MsgAppResp, false, false},
		{MsgAppResp, true, false},
		{MsgHeartbeatResp, false, false},
		{MsgVote, false, false},
		{MsgVoteResp, true, false},
		{MsgPreVoteResp, true, false},
		{MsgReadIndexResp, false, false},
	}
	for _, r := range roles {
		for _, mm := range msgs {
			t.Run(r.name+"/"+mm.typ.String(), func(t *testing.T) {
				// CheckQuorum off: a leader (or a follower that heard one)
				// would otherwise ignore a MsgVote inside its lease.
				n := newTestNode(t, 1, 3, noCheckQuorum, HardState{Term: 2}, logOf(1, 2))
				r.setup(t, n)
				term := n.term + 3
				m := Message{Type: mm.typ, From: 2, To: 1, Term: term, Reject: mm.reject}
				if mm.typ == MsgVote {
					m.Index, m.LogTerm = 10, 3
				}
				if mm.typ == MsgApp {
					m.Index, m.LogTerm = 1, 1
				}
				mustStep(t, n, m)
				if n.term != term || n.role != RoleFollower {
					t.Fatalf("have term %d role %v, want term %d role follower", n.term, n.role, term)
				}
				wantLead := uint64(0)
				if mm.wantLead {
					wantLead = 2
				}
				if n.lead != wantLead {
					t.Errorf("have leader %d, want %d", n.lead, wantLead)
				}
				wantVote := uint64(0)
				if mm.typ == MsgVote {
					wantVote = 2
				}
				if n.vote != wantVote {
					t.Errorf("have vote %d, want %d (the vote is per term)", n.vote, wantVote)
				}
				if rd := flush(n); !rd.HardStateChanged || rd.HardState.Term != term {
					t.Errorf("have HardState %+v (changed %v), want term %d persisted", rd.HardState, rd.HardStateChanged, term)
				}
			})
		}
	}
}

// Figure 2, Rules for all servers: "If commitIndex > lastApplied: increment
// lastApplied, apply log[lastApplied] to state machine" — every node applies
// every committed entry once, in index order.
func TestFig2AllServersApplyCommittedInOrder(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	var want []string
	for i := range 5 {
		d := string(rune('a' + i))
		want = append(want, d)
		c.propose(l, d)
	}
	c.tick(2)
	for _, id := range c.ids {
		for k, e := range c.applied[id] {
			if e.Index != uint64(k)+1 {
				t.Fatalf("node %d: applied entry %d has index %d, want %d", id, k, e.Index, k+1)
			}
		}
		if have := c.appliedData(id); !slices.Equal(have, want) {
			t.Errorf("node %d applied %q, want %q", id, have, want)
		}
		if have, want := uint64(len(c.applied[id])), c.nodes[id].Status().Commit; have != want {
			t.Errorf("node %d applied %d entries, commit index %d", id, have, want)
		}
	}
}

// Figure 2, Rules for followers: "If election timeout elapses without
// receiving AppendEntries RPC from current leader or granting vote to
// candidate: convert to candidate." The timeout is randomized in
// [ElectionTicks, 2*ElectionTicks).
func TestFig2FollowerElectionTimeout(t *testing.T) {
	for _, preVote := range []bool{true, false} {
		seen := map[int]bool{}
		for seed := uint64(1); seed <= 40; seed++ {
			n := newTestNode(t, 1, 3, func(c *Config) { c.Seed = seed; c.DisablePreVote = !preVote }, HardState{Term: 1}, nil)
			k := 0
			for n.role == RoleFollower && k < 100 {
				n.Tick()
				k++
			}
			if k < 10 || k >= 20 {
				t.Errorf("preVote %v seed %d: campaigned after %d ticks, want in [10, 20)", preVote, seed, k)
			}
			seen[k] = true
			wantRole, wantTerm := RoleCandidate, uint64(2)
			if preVote {
				wantRole, wantTerm = RolePreCandidate, 1
			}
			if n.role != wantRole || n.term != wantTerm {
				t.Errorf("preVote %v seed %d: have role %v term %d, want %v term %d", preVote, seed, n.role, n.term, wantRole, wantTerm)
			}
		}
		if len(seen) < 3 {
			t.Errorf("preVote %v: election timeouts %v over 40 seeds: not randomized", preVote, seen)
		}
	}
}

// Figure 2, Rules for followers: hearing from the current leader or
// granting a vote restarts the election timer; refusing a vote does not.
func TestFig2FollowerTimerResetByLeaderAndGrantedVote(t *testing.T) {
	tests := []struct {
		name  string
		msg   Message
		reset bool
	}{
		{"heartbeat from leader", Message{Type: MsgHeartbeat, From: 2, To: 1, Term: 1}, true},
		{"MsgApp from leader", Message{Type: MsgApp, From: 2, To: 1, Term: 1}, true},
		{"vote granted", Message{Type: MsgVote, From: 3, To: 1, Term: 1, Index: 5, LogTerm: 1}, true},
		{"vote refused (log behind)", Message{Type: MsgVote, From: 3, To: 1, Term: 1, Index: 0, LogTerm: 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, 1, 3, noPreVote, HardState{Term: 1}, logOf(1))
			r := n.randomizedTimeout
			for range r - 1 {
				n.Tick()
			}
			mustStep(t, n, tt.msg)
			if tt.reset {
				for range r - 1 {
					n.Tick()
				}
				if n.role != RoleFollower {
					t.Fatalf("campaigned %d ticks after the timer was reset, want %d", r-1, r)
				}
				n.Tick()
			} else {
				n.Tick()
			}
			if n.role != RoleCandidate {
				t.Fatalf("have role %v, want candidate once the timeout elapsed", n.role)
			}
		})
	}
}

// Figure 2, Rules for candidates: "On conversion to candidate, start
// election: increment currentTerm, vote for self, reset election timer,
// send RequestVote RPCs to all other servers" — the new term and vote are
// persisted before the requests go out (same Ready, HardState first).
func TestFig2CandidateOnConversion(t *testing.T) {
	n := newTestNode(t, 1, 3, noPreVote, HardState{Term: 2, Commit: 1}, logOf(1, 2))
	for range 3 {
		n.Tick()
	}
	n.Campaign()
	if n.role != RoleCandidate || n.term != 3 || n.vote != 1 || n.electionElapsed != 0 {
		t.Fatalf("have role %v term %d vote %d elapsed %d, want candidate term 3 vote 1 elapsed 0",
			n.role, n.term, n.vote, n.electionElapsed)
	}
	rd := flush(n)
	if want := (HardState{Term: 3, Vote: 1, Commit: 1}); !rd.HardStateChanged || rd.HardState != want {
		t.Errorf("have HardState %+v (changed %v), want %+v", rd.HardState, rd.HardStateChanged, want)
	}
	var to []uint64
	for _, m := range rd.Messages {
		if m.Type != MsgVote {
			t.Errorf("unexpected %v", m.Type)
			continue
		}
		to = append(to, m.To)
		if m.Term != 3 || m.Index != 2 || m.LogTerm != 2 {
			t.Errorf("MsgVote to %d: have term %d last (%d, %d), want term 3 last (2, 2)", m.To, m.Term, m.Index, m.LogTerm)
		}
	}
	if !slices.Equal(to, []uint64{2, 3}) {
		t.Errorf("MsgVote sent to %v, want [2 3]", to)
	}
}

// Figure 2, Rules for candidates: "If votes received from majority of
// servers: become leader"; a majority of refusals ends the election; a
// voter is counted once.
func TestFig2CandidateCountsVotes(t *testing.T) {
	type vote struct {
		from    uint64
		granted bool
	}
	tests := []struct {
		size  int
		votes []vote
		want  Role
	}{
		{1, nil, RoleLeader},
		{3, nil, RoleCandidate},
		{3, []vote{{2, true}}, RoleLeader},
		{3, []vote{{2, false}}, RoleCandidate},
		{3, []vote{{2, false}, {3, false}}, RoleFollower},
		{5, []vote{{2, true}}, RoleCandidate},
		{5, []vote{{2, true}, {2, true}}, RoleCandidate}, // a voter counts once
		{5, []vote{{2, true}, {3, true}}, RoleLeader},
		{5, []vote{{2, false}, {3, false}, {4, true}}, RoleCandidate},
		{5, []vote{{2, false}, {3, false}, {4, false}}, RoleFollower},
		{5, []vote{{2, false}, {2, true}, {3, true}}, RoleCandidate}, // first answer stands
	}
	for _, tt := range tests {
		n := newTestNode(t, 1, tt.size, noPreVote, HardState{}, nil)
		n.Campaign()
		for _, v := range tt.votes {
			mustStep(t, n, Message{Type: MsgVoteResp, From: v.from, To: 1, Term: 1, Reject: !v.granted})
		}
		if n.role != tt.want {
			t.Errorf("size %d votes %v: have %v, want %v", tt.size, tt.votes, n.role, tt.want)
		}
		if n.term != 1 {
			t.Errorf("size %d votes %v: have term %d, want 1", tt.size, tt.votes, n.term)
		}
	}
}

// Figure 2, Rules for candidates: "If AppendEntries RPC received from new
// leader: convert to follower." A message from an older term does not.
func TestFig2CandidateFollowsNewLeader(t *testing.T) {
	tests := []struct {
		typ      MessageType
		term     uint64
		wantRole Role
	}{
		{MsgApp, 3, RoleFollower},
		{MsgHeartbeat, 3, RoleFollower},
		{MsgApp, 2, RoleCandidate},
		{MsgHeartbeat, 2, RoleCandidate},
	}
	for _, tt := range tests {
		n := newTestNode(t, 1, 3, noPreVote, HardState{Term: 2}, logOf(1))
		n.Campaign() // term 3
		mustStep(t, n, Message{Type: tt.typ, From: 2, To: 1, Term: tt.term, Index: 1, LogTerm: 1})
		if n.role != tt.wantRole || n.term != 3 {
			t.Errorf("%v term %d: have %v term %d, want %v term 3", tt.typ, tt.term, n.role, n.term, tt.wantRole)
		}
		if tt.wantRole == RoleFollower && (n.lead != 2 || n.vote != 1) {
			t.Errorf("%v term %d: have leader %d vote %d, want leader 2, vote 1 kept", tt.typ, tt.term, n.lead, n.vote)
		}
	}
}

// Figure 2, Rules for candidates: "If election timeout elapses: start new
// election."
func TestFig2CandidateTimeoutStartsNewElection(t *testing.T) {
	n := newTestNode(t, 1, 3, noPreVote, HardState{Term: 1}, nil)
	n.Campaign()
	if n.term != 2 {
		t.Fatalf("have term %d, want 2", n.term)
	}
	flush(n)
	for k := 0; k < 20 && n.term == 2; k++ { // 2*ElectionTicks bounds the randomized timeout
		n.Tick()
	}
	if n.role != RoleCandidate || n.term != 3 || n.vote != 1 {
		t.Fatalf("have role %v term %d vote %d, want a new election: candidate, term 3, vote 1", n.role, n.term, n.vote)
	}
	if ms := sent(n, MsgVote); len(ms) != 2 || ms[0].Term != 3 {
		t.Errorf("have %d MsgVote (%+v), want 2 for term 3", len(ms), ms)
	}
}

// Figure 2, Rules for leaders: "Upon election: send initial empty
// AppendEntries RPCs (heartbeat) to each server"; here that first MsgApp
// carries the new term's no-op (§5.4.2, §6.4), which the new leader appends
// to its own log.
func TestFig2LeaderAppendsNoopAndAnnouncesIt(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 1}, logOf(1, 2))
	ms := makeLeader(t, n)
	if n.term != 3 {
		t.Fatalf("have term %d, want 3", n.term)
	}
	last := n.log.ents[len(n.log.ents)-1]
	if last.Index != 3 || last.Term != 3 || last.Type != EntryNoop || len(last.Data) != 0 {
		t.Fatalf("last entry %+v, want a no-op at index 3 term 3", last)
	}
	for _, id := range []uint64{2, 3} {
		got := to(id, ms)
		if len(got) != 1 || got[0].Type != MsgApp {
			t.Fatalf("to %d: have %+v, want one MsgApp", id, got)
		}
		m := got[0]
		if m.Term != 3 || m.Index != 2 || m.LogTerm != 2 || len(m.Entries) != 1 || m.Entries[0].Index != 3 || m.Entries[0].Term != 3 || m.Entries[0].Type != EntryNoop {
			t.Errorf("to %d: have %+v, want term 3 prev (2, 2) entries [no-op 3]", id, m)
		}
	}
}

// Figure 2, Rules for leaders: "repeat [heartbeats] during idle periods to
// prevent election timeouts" — one MsgHeartbeat per follower every
// HeartbeatTicks.
func TestFig2LeaderHeartbeatsWhenIdle(t *testing.T) {
	n := newTestNode(t, 1, 3, func(c *Config) { c.HeartbeatTicks = 3 }, HardState{}, nil)
	makeLeader(t, n)
	for tick := 1; tick <= 9; tick++ {
		n.Tick()
		hb := sent(n, MsgHeartbeat)
		want := 0
		if tick%3 == 0 {
			want = 2
		}
		if len(hb) != want {
			t.Fatalf("tick %d: have %d heartbeats, want %d", tick, len(hb), want)
		}
		for _, m := range hb {
			if m.Term != n.term || len(m.Entries) != 0 {
				t.Errorf("tick %d: heartbeat %+v, want term %d without entries", tick, m, n.term)
			}
		}
	}
}

// Figure 2, Rules for leaders: "If command received from client: append
// entry to local log"; "If last log index >= nextIndex for a follower: send
// AppendEntries RPC with log entries starting at nextIndex"; "If
// successful: update nextIndex and matchIndex for follower".
func TestFig2LeaderAppendsAndReplicates(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n)) // followers hold the no-op at 1
	for _, id := range []uint64{2, 3} {
		if p := progressOf(t, n, id); p.Match != 1 || p.Next != 2 {
			t.Fatalf("progress of %d: have match %d next %d, want 1, 2", id, p.Match, p.Next)
		}
	}
	flush(n)
	p, err := n.Propose([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if p != (Proposal{Leader: 1, Index: 2, Term: 1}) {
		t.Errorf("have %+v, want index 2 term 1 on leader 1", p)
	}
	if e := n.log.ents[2]; e.Index != 2 || e.Term != 1 || string(e.Data) != "x" || e.Type != EntryNormal {
		t.Errorf("leader's entry 2: have %+v, want normal \"x\" in term 1", e)
	}
	ms := sent(n, MsgApp)
	for _, id := range []uint64{2, 3} {
		got := to(id, ms)
		if len(got) != 1 || got[0].Index != 1 || got[0].LogTerm != 1 || len(got[0].Entries) != 1 || got[0].Entries[0].Index != 2 {
			t.Fatalf("to %d: have %+v, want MsgApp prev (1, 1) carrying entry 2", id, got)
		}
	}
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: 2})
	if p := progressOf(t, n, 2); p.Match != 2 || p.Next != 3 {
		t.Errorf("progress of 2: have match %d next %d, want 2, 3", p.Match, p.Next)
	}
	if n.log.committed != 2 {
		t.Errorf("have commit %d, want 2 (leader and node 2 hold it)", n.log.committed)
	}
}

// Figure 2, Rules for leaders: "If AppendEntries fails because of log
// inconsistency: decrement nextIndex and retry."
func TestFig2LeaderRetriesWithLowerNextOnReject(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 1}, logOf(1, 1, 1, 1, 1))
	ms := to(2, makeLeader(t, n))
	if len(ms) != 1 || ms[0].Index != 5 {
		t.Fatalf("first MsgApp to 2: %+v, want prev index 5", ms)
	}
	// Node 2 holds only entries 1 and 2.
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 2, Index: 5, Reject: true, RejectHint: 2, LogTerm: 1})
	ms = to(2, sent(n, MsgApp))
	if len(ms) != 1 {
		t.Fatalf("have %d MsgApp to 2 after the reject, want 1", len(ms))
	}
	m := ms[0]
	if m.Index != 2 || m.LogTerm != 1 || len(m.Entries) != 4 || m.Entries[0].Index != 3 {
		t.Errorf("retry: have prev (%d, %d) %d entries, want prev (2, 1) entries 3..6", m.Index, m.LogTerm, len(m.Entries))
	}
	if p := progressOf(t, n, 2); p.Next != 3 || p.State != ProgressProbe {
		t.Errorf("progress of 2: have next %d state %v, want 3 probe", p.Next, p.State)
	}
}

// Figure 2, Rules for leaders: "If there exists an N such that N >
// commitIndex, a majority of matchIndex[i] >= N, and log[N].term ==
// currentTerm: set commitIndex = N."
func TestFig2LeaderCommitRule(t *testing.T) {
	// Leader 1 of 5 with log terms [1 1 2 2 | 3 (its no-op)], all durable.
	tests := []struct {
		acks map[uint64]uint64 // follower → index it acknowledges
		want uint64
	}{
		{map[uint64]uint64{}, 0},
		{map[uint64]uint64{2: 5}, 0},
		{map[uint64]uint64{2: 5, 3: 5}, 5},
		{map[uint64]uint64{2: 5, 3: 5, 4: 5, 5: 5}, 5},
		{map[uint64]uint64{2: 4, 3: 4}, 0},       // term 2 entries: not by counting
		{map[uint64]uint64{2: 4, 3: 4, 4: 4}, 0}, // not even with all followers
		{map[uint64]uint64{2: 5, 3: 4, 4: 4}, 0}, // the majority index, 4, is of term 2
		{map[uint64]uint64{2: 5, 3: 5, 4: 1}, 5},
		{map[uint64]uint64{2: 2, 3: 2, 4: 2}, 0},
	}
	for _, tt := range tests {
		n := newTestNode(t, 1, 5, nil, HardState{Term: 2}, logOf(1, 1, 2, 2))
		makeLeader(t, n)
		for _, f := range []uint64{2, 3, 4, 5} {
			if i, ok := tt.acks[f]; ok {
				mustStep(t, n, Message{Type: MsgAppResp, From: f, To: 1, Term: 3, Index: i})
			}
		}
		if n.log.committed != tt.want {
			t.Errorf("acks %v: have commit %d, want %d", tt.acks, n.log.committed, tt.want)
		}
	}
}

// Figure 8 (§5.4.2): "Raft never commits log entries from previous terms by
// counting replicas"; once an entry of the current term commits, the older
// ones before it commit with it.
func TestFig8OnlyCurrentTermEntriesCommitByCounting(t *testing.T) {
	// S1 led term 2 and wrote index 2; a leader of term 3 came and went
	// without touching S1; S1 leads again in term 4 and replicates index 2
	// to S2 and S3, a majority of five. That must not commit index 2: in
	// Figure 8 (d) S5 could still overwrite it.
	n := newTestNode(t, 1, 5, nil, HardState{Term: 3, Commit: 1}, logOf(1, 2))
	makeLeader(t, n) // term 4, no-op at 3
	if n.term != 4 {
		t.Fatalf("have term %d, want 4", n.term)
	}
	for _, f := range []uint64{2, 3} {
		mustStep(t, n, Message{Type: MsgAppResp, From: f, To: 1, Term: 4, Index: 2})
	}
	if have := n.Acks(2); have != 3 {
		t.Fatalf("Acks(2): have %d, want 3", have)
	}
	if n.log.committed != 1 {
		t.Fatalf("index 2 (term 2) held by a majority: have commit %d, want 1 (not by counting)", n.log.committed)
	}
	if rd := flush(n); len(rd.Committed) != 0 {
		t.Fatalf("applied %+v, want nothing", rd.Committed)
	}
	for _, f := range []uint64{2, 3} {
		mustStep(t, n, Message{Type: MsgAppResp, From: f, To: 1, Term: 4, Index: 3})
	}
	if n.log.committed != 3 {
		t.Fatalf("no-op of term 4 held by a majority: have commit %d, want 3", n.log.committed)
	}
	rd := flush(n)
	var idx []uint64
	for _, e := range rd.Committed {
		idx = append(idx, e.Index)
	}
	if !slices.Equal(idx, []uint64{2, 3}) {
		t.Errorf("applied indexes %v, want [2 3]", idx)
	}
}

// Figure 2, AppendEntries RPC, receiver implementation, steps 1-5.
func TestFig2AppendEntriesReceiver(t *testing.T) {
	// The follower is in term 2 with log terms [1 1 2], commit 1.
	tests := []struct {
		name       string
		m          Message
		wantTerms  []uint64
		wantCommit uint64
		wantReject bool
		wantIndex  uint64 // Index of the MsgAppResp
		wantTerm   uint64 // Term of the MsgAppResp
	}{
		{
			name:      "step 1: term < currentTerm is refused, telling the sender the term",
			m:         Message{Term: 1, Index: 2, LogTerm: 1, Entries: []Entry{{Term: 1, Index: 3}}, Commit: 3},
			wantTerms: []uint64{1, 1, 2}, wantCommit: 1, wantTerm: 2,
		},
		{
			name:      "step 2: no entry at prevLogIndex",
			m:         Message{Term: 2, Index: 5, LogTerm: 2, Entries: []Entry{{Term: 2, Index: 6}}, Commit: 6},
			wantTerms: []uint64{1, 1, 2}, wantCommit: 1, wantReject: true, wantIndex: 5, wantTerm: 2,
		},
		{
			name:      "step 2: entry at prevLogIndex has another term",
			m:         Message{Term: 2, Index: 3, LogTerm: 1, Entries: []Entry{{Term: 2, Index: 4}}, Commit: 4},
			wantTerms: []uint64{1, 1, 2}, wantCommit: 1, wantReject: true, wantIndex: 3, wantTerm: 2,
		},
		{
			name:      "step 3: a conflicting entry and all that follow are deleted",
			m:         Message{Term: 3, Index: 1, LogTerm: 1, Entries: []Entry{{Term: 3, Index: 2}}},
			wantTerms: []uint64{1, 3}, wantCommit: 1, wantIndex: 2, wantTerm: 3,
		},
		{
			name:      "step 3: nothing is deleted when the entries match (stale MsgApp)",
			m:         Message{Term: 2, Index: 1, LogTerm: 1, Entries: []Entry{{Term: 1, Index: 2}}},
			wantTerms: []uint64{1, 1, 2}, wantCommit: 1, wantIndex: 2, wantTerm: 2,
		},
		{
			name:      "step 4: new entries are appended",
			m:         Message{Term: 2, Index: 3, LogTerm: 2, Entries: []Entry{{Term: 2, Index: 4}, {Term: 2, Index: 5}}},
			wantTerms: []uint64{1, 1, 2, 2, 2}, wantCommit: 1, wantIndex: 5, wantTerm: 2,
		},
		{
			name:      "step 4: only the entries not already in the log",
			m:         Message{Term: 2, Index: 2, LogTerm: 1, Entries: []Entry{{Term: 2, Index: 3}, {Term: 2, Index: 4}}},
			wantTerms: []uint64{1, 1, 2, 2}, wantCommit: 1, wantIndex: 4, wantTerm: 2,
		},
		{
			name:      "step 5: commitIndex = leaderCommit when it is below the last new entry",
			m:         Message{Term: 2, Index: 3, LogTerm: 2, Entries: []Entry{{Term: 2, Index: 4}}, Commit: 3},
			wantTerms: []uint64{1, 1, 2, 2}, wantCommit: 3, wantIndex: 4, wantTerm: 2,
		},
		{
			name:      "step 5: commitIndex = index of last new entry when leaderCommit is above it",
			m:         Message{Term: 2, Index: 3, LogTerm: 2, Entries: []Entry{{Term: 2, Index: 4}}, Commit: 9},
			wantTerms: []uint64{1, 1, 2, 2}, wantCommit: 4, wantIndex: 4, wantTerm: 2,
		},
		{
			name:      "step 5: the last new entry bounds commit even if the log holds more",
			m:         Message{Term: 2, Index: 2, LogTerm: 1, Commit: 3},
			wantTerms: []uint64{1, 1, 2}, wantCommit: 2, wantIndex: 2, wantTerm: 2,
		},
		{
			name:      "step 5: commitIndex never decreases",
			m:         Message{Term: 2, Index: 1, LogTerm: 1, Commit: 0},
			wantTerms: []uint64{1, 1, 2}, wantCommit: 1, wantIndex: 1, wantTerm: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 1}, logOf(1, 1, 2))
			m := tt.m
			m.Type, m.From, m.To = MsgApp, 2, 1
			mustStep(t, n, m)
			if have := termsOf(n); !slices.Equal(have, tt.wantTerms) {
				t.Errorf("log terms: have %v, want %v", have, tt.wantTerms)
			}
			if n.log.committed != tt.wantCommit {
				t.Errorf("commit: have %d, want %d", n.log.committed, tt.wantCommit)
			}
			resp := sent(n, MsgAppResp)
			if len(resp) != 1 {
				t.Fatalf("have %d MsgAppResp, want 1", len(resp))
			}
			r := resp[0]
			stale := tt.m.Term < 2 // the term alone refuses it: Reject and Index do not matter
			if r.To != 2 || r.Term != tt.wantTerm || (!stale && (r.Reject != tt.wantReject || r.Index != tt.wantIndex)) {
				t.Errorf("response: have to %d reject %v term %d index %d, want to 2 reject %v term %d index %d",
					r.To, r.Reject, r.Term, r.Index, tt.wantReject, tt.wantTerm, tt.wantIndex)
			}
		})
	}
}

// Figure 2, AppendEntries RPC, receiver implementation, step 3: entries
// replaced by a conflict are handed to storage again, from the conflict on.
func TestFig2AppendEntriesTruncationReachesStorage(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 1}, logOf(1, 1, 2, 2))
	mustStep(t, n, Message{Type: MsgApp, From: 2, To: 1, Term: 3, Index: 2, LogTerm: 1,
		Entries: []Entry{{Term: 3, Index: 3, Data: []byte("new")}}})
	rd := n.Ready()
	if len(rd.Entries) != 1 || rd.Entries[0].Index != 3 || rd.Entries[0].Term != 3 || !bytes.Equal(rd.Entries[0].Data, []byte("new")) {
		t.Fatalf("Ready.Entries: have %+v, want the new entry 3 of term 3 (replacing 3 and 4)", rd.Entries)
	}
	if n.log.stable != 2 {
		t.Errorf("stable: have %d, want 2 (3 and 4 were replaced)", n.log.stable)
	}
}

// Figure 2, RequestVote RPC, receiver implementation, step 1: "Reply false
// if term < currentTerm."
func TestFig2RequestVoteReceiverStaleTerm(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 3}, logOf(1))
	mustStep(t, n, Message{Type: MsgVote, From: 2, To: 1, Term: 2, Index: 9, LogTerm: 2})
	for _, m := range sent(n) {
		if m.Type == MsgVoteResp && !m.Reject {
			t.Errorf("granted a vote for term 2 in term 3: %+v", m)
		}
	}
	if n.term != 3 || n.vote != 0 {
		t.Errorf("have term %d vote %d, want 3, 0", n.term, n.vote)
	}
}

// Figure 2, RequestVote RPC, receiver implementation, step 2: "If votedFor
// is null or candidateId, and candidate's log is at least as up-to-date as
// receiver's log, grant vote" (§5.4.1 defines up-to-date).
func TestFig2RequestVoteReceiverGrant(t *testing.T) {
	tests := []struct {
		name             string
		vote             uint64 // vote already cast in term 3
		from             uint64
		lastIdx, lastTrm uint64
		grant            bool
	}{
		{"same last entry", 0, 2, 3, 2, true},
		{"longer log, same last term", 0, 2, 4, 2, true},
		{"shorter log, same last term", 0, 2, 2, 2, false},
		{"higher last term, shorter log", 0, 2, 1, 3, true},
		{"lower last term, longer log", 0, 2, 10, 1, false},
		{"empty log", 0, 2, 0, 0, false},
		{"already voted for the candidate", 2, 2, 3, 2, true},
		{"already voted for another", 3, 2, 3, 2, false},
		{"already voted for another, better log", 3, 2, 9, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, 1, 3, nil, HardState{Term: 3, Vote: tt.vote}, logOf(1, 1, 2))
			mustStep(t, n, Message{Type: MsgVote, From: tt.from, To: 1, Term: 3, Index: tt.lastIdx, LogTerm: tt.lastTrm})
			rd := flush(n)
			var resp []Message
			for _, m := range rd.Messages {
				if m.Type == MsgVoteResp {
					resp = append(resp, m)
				}
			}
			if len(resp) != 1 {
				t.Fatalf("have %d MsgVoteResp, want 1", len(resp))
			}
			if resp[0].Reject == tt.grant || resp[0].Term != 3 || resp[0].To != tt.from {
				t.Errorf("have %+v, want grant %v in term 3 to %d", resp[0], tt.grant, tt.from)
			}
			wantVote := tt.vote
			if tt.grant {
				wantVote = tt.from
			}
			if n.vote != wantVote || rd.HardState.Vote != wantVote {
				t.Errorf("vote: have %d (persisted %d), want %d", n.vote, rd.HardState.Vote, wantVote)
			}
		})
	}
}

// Figure 2 / §5.2: "each server will vote for at most one candidate in a
// given term" — also across candidates asking in turn, and after a restart
// from the persisted HardState.
func TestFig2RequestVoteOneVotePerTerm(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 1}, nil)
	mustStep(t, n, Message{Type: MsgVote, From: 2, To: 1, Term: 2})
	rd := flush(n)
	mustStep(t, n, Message{Type: MsgVote, From: 3, To: 1, Term: 2})
	if ms := sent(n, MsgVoteResp); len(ms) != 1 || !ms[0].Reject {
		t.Fatalf("second candidate of term 2: have %+v, want a refusal", ms)
	}
	r := newTestNode(t, 1, 3, nil, rd.HardState, nil)
	mustStep(t, r, Message{Type: MsgVote, From: 3, To: 1, Term: 2})
	if ms := sent(r, MsgVoteResp); len(ms) != 1 || !ms[0].Reject {
		t.Fatalf("after restart, second candidate of term 2: have %+v, want a refusal", ms)
	}
	mustStep(t, r, Message{Type: MsgVote, From: 2, To: 1, Term: 2})
	if ms := sent(r, MsgVoteResp); len(ms) != 1 || ms[0].Reject {
		t.Fatalf("after restart, the same candidate again: have %+v, want a grant", ms)
	}
}
