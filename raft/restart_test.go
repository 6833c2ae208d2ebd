package raft

// Restart from storage: a node recovers from its persisted HardState and
// log (Figure 2, "Persistent state on all servers ... updated on stable
// storage before responding to RPCs").

import (
	"errors"
	"slices"
	"testing"
)

// Figure 2, persistent state: currentTerm, votedFor and log[] survive a
// crash; the commit index is recovered and committed entries are handed out
// again for applying, from index 1.
func TestRestartRecoversHardStateAndLog(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	for _, d := range []string{"a", "b", "c"} {
		c.propose(l, d)
	}
	c.tick(2)
	before := map[uint64]Status{}
	for _, id := range c.ids {
		before[id] = c.nodes[id].Status()
		c.stop(id)
	}
	for _, id := range c.ids {
		c.start(id, nil)
		n := c.nodes[id]
		have, want := n.Status(), before[id]
		if have.Term != want.Term || have.Vote != want.Vote || have.Commit != want.Commit ||
			have.LastIndex != want.LastIndex || have.LastTerm != want.LastTerm {
			t.Errorf("node %d after restart: have term %d vote %d commit %d last (%d, %d), want %d %d %d (%d, %d)",
				id, have.Term, have.Vote, have.Commit, have.LastIndex, have.LastTerm,
				want.Term, want.Vote, want.Commit, want.LastIndex, want.LastTerm)
		}
		if have.Role != RoleFollower || have.Leader != 0 || have.Stable != have.LastIndex {
			t.Errorf("node %d after restart: role %v leader %d stable %d, want follower, no leader, all stable",
				id, have.Role, have.Leader, have.Stable)
		}
		rd := n.Ready()
		if rd.HardStateChanged || len(rd.Entries) != 0 || len(rd.Messages) != 0 {
			t.Errorf("node %d: first Ready after restart persists or sends: %+v", id, rd)
		}
		var data []string
		for k, e := range rd.Committed {
			if e.Index != uint64(k)+1 {
				t.Fatalf("node %d: replayed entry %d has index %d", id, k, e.Index)
			}
			if e.Type == EntryNormal {
				data = append(data, string(e.Data))
			}
		}
		if !slices.Equal(data, []string{"a", "b", "c"}) || uint64(len(rd.Committed)) != want.Commit {
			t.Errorf("node %d replayed %q (%d entries), want [a b c] (%d entries)", id, data, len(rd.Committed), want.Commit)
		}
	}
	// The restarted cluster elects a leader and goes on from the same log.
	for _, id := range c.ids {
		c.applied[id] = nil
	}
	nl := c.elect()
	c.propose(nl, "d")
	c.tick(2)
	for _, id := range c.ids {
		if have, want := c.appliedData(id), []string{"d"}; !slices.Equal(have, want) {
			t.Errorf("node %d applied %q after the restart, want %q", id, have, want)
		}
	}
}

// Figure 2, persistent state: a vote survives a restart — the node cannot
// vote twice in one term by crashing in between.
func TestRestartKeepsVote(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 4, Vote: 2}, logOf(1, 3))
	mustStep(t, n, Message{Type: MsgVote, From: 3, To: 1, Term: 4, Index: 9, LogTerm: 4})
	if ms := sent(n, MsgVoteResp); len(ms) != 1 || !ms[0].Reject {
		t.Fatalf("have %+v, want a refusal: already voted for 2 in term 4", ms)
	}
	if n.vote != 2 {
		t.Errorf("have vote %d, want 2", n.vote)
	}
}

// A restarted node that campaigns does so from its restored term and log.
func TestRestartCampaignsFromRestoredState(t *testing.T) {
	n := newTestNode(t, 1, 3, noPreVote, HardState{Term: 4, Vote: 2, Commit: 1}, logOf(1, 3))
	n.Campaign()
	ms := sent(n, MsgVote)
	if n.term != 5 || len(ms) != 2 || ms[0].Term != 5 || ms[0].Index != 2 || ms[0].LogTerm != 3 {
		t.Fatalf("term %d, votes %+v: want term 5 with last (2, 3)", n.term, ms)
	}
}

// New refuses storage contents that no correct node could have written.
func TestRestartRejectsImpossibleState(t *testing.T) {
	tests := []struct {
		name string
		hs   HardState
		ents []Entry
	}{
		{"log not starting at 1", HardState{Term: 2}, []Entry{{Term: 1, Index: 2}}},
		{"log with a gap", HardState{Term: 2}, []Entry{{Term: 1, Index: 1}, {Term: 1, Index: 3}}},
		{"entry term 0", HardState{Term: 1}, []Entry{{Term: 0, Index: 1}}},
		{"terms decreasing", HardState{Term: 3}, logOf(2, 1)},
	}
	for _, tt := range tests {
		cfg := Config{ID: 1, Voters: []uint64{1, 2, 3}}
		if _, err := New(cfg, tt.hs, nil, tt.ents); err == nil {
			t.Errorf("%s: New accepted HardState %+v, log %+v", tt.name, tt.hs, tt.ents)
		}
	}
	cfg := Config{ID: 1, Voters: []uint64{1, 2, 3}}
	if _, err := New(cfg, HardState{Term: 2, Vote: 3, Commit: 2}, nil, logOf(1, 2)); err != nil {
		t.Errorf("New refused a valid state: %v", err)
	}
}

// New refuses a bad Config with an error wrapping ErrInvalidConfig.
func TestNewRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"id 0", Config{ID: 0, Voters: []uint64{1}}},
		{"no voters", Config{ID: 1}},
		{"not a voter", Config{ID: 4, Voters: []uint64{1, 2, 3}}},
		{"duplicate voter", Config{ID: 1, Voters: []uint64{1, 2, 2}}},
		{"voter 0", Config{ID: 1, Voters: []uint64{0, 1}}},
		{"election ticks not above heartbeat", Config{ID: 1, Voters: []uint64{1}, ElectionTicks: 3, HeartbeatTicks: 3}},
		{"negative heartbeat", Config{ID: 1, Voters: []uint64{1}, ElectionTicks: 3, HeartbeatTicks: -1}},
		{"negative inflight", Config{ID: 1, Voters: []uint64{1}, MaxInflightMsgs: -1}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg, HardState{}, nil, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: have %v, want ErrInvalidConfig", tt.name, err)
		}
	}
}

// A torn write can land entries of a new term without the hard state that
// adopted it. The node resumes in that term, with no vote: it cannot have
// voted in it, since a vote is durable before it is sent.
func TestRestartAfterTornWriteAdoptsTheEntriesTerm(t *testing.T) {
	cfg := Config{ID: 1, Voters: []uint64{1, 2, 3}}
	n, err := New(cfg, HardState{Term: 1, Vote: 2, Commit: 1}, nil, logOf(1, 2, 2))
	if err != nil {
		t.Fatalf("New refused a torn write's state: %v", err)
	}
	if n.term != 2 || n.vote != 0 || n.log.committed != 1 || n.log.lastIndex() != 3 {
		t.Fatalf("have term %d vote %d commit %d last %d, want term 2 vote 0 commit 1 last 3",
			n.term, n.vote, n.log.committed, n.log.lastIndex())
	}
}
