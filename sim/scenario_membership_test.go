package sim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// change asks the leader for a membership change until it applies,
// retrying while another change is in progress or a learner catches up.
func (s *scenario) change(cc raft.ConfChange) {
	s.t.Helper()
	for range 50 {
		call, err := s.c.ChangeMembers(s.leader(), cc)
		s.check(err)
		s.waitFor(fmt.Sprintf("the answer to %s of n%d", cc.Type, cc.NodeID), 10_000, func() bool { return call.Done })
		switch {
		case !call.Lost && call.Reply.Code == engine.ReplyOK:
			return
		case !call.Lost && call.Reply.Code == engine.ReplyInvalid:
			s.fatalf("%s of n%d refused: %s", cc.Type, cc.NodeID, call.Reply.Error)
		}
		s.run(100)
	}
	s.fatalf("%s of n%d never applied", cc.Type, cc.NodeID)
}

// voters returns the voters of the leader's configuration.
func (s *scenario) voters() []uint64 {
	var out []uint64
	for _, m := range s.c.Members() {
		if !m.Learner {
			out = append(out, m.ID)
		}
	}
	return out
}

// membersCaughtUp waits until every member has applied the leader's
// commit index.
func (s *scenario) membersCaughtUp() {
	s.t.Helper()
	l := s.leader()
	target := s.status(l).Commit
	s.waitFor("every member applies the leader's commit", 5000, func() bool {
		for _, m := range s.c.Members() {
			st, ok := s.c.Status(m.ID)
			if !ok || st.Applied < target {
				return false
			}
		}
		return true
	})
}

// Grow a cluster of three to five (each newcomer a learner first, then
// promoted), remove the leader, and shrink back to three, writing all the
// while; no acknowledged write is lost and the history is linearizable.
func TestScenarioGrowAndShrink(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3, Spares: 2})
	s.leader()
	w := startWorkload(s.c, 3, []string{"a", "b", "c"}, 1<<40)
	defer func() { w.stopAt = 0 }()
	for _, id := range []uint64{4, 5} {
		s.step("n%d joins as a learner, catches up, and is promoted", id)
		s.change(raft.ConfChange{Type: raft.ConfAddLearner, NodeID: id})
		s.change(raft.ConfChange{Type: raft.ConfPromote, NodeID: id})
	}
	if v := s.voters(); !slices.Equal(v, []uint64{1, 2, 3, 4, 5}) {
		s.fatalf("voters %v, want 1..5", v)
	}
	s.set(0, "grown", "5")

	l := s.leader()
	s.step("remove the leader, n%d", l)
	s.change(raft.ConfChange{Type: raft.ConfRemove, NodeID: l})
	nl := s.leader()
	if nl == l {
		s.fatalf("the removed node n%d still leads", l)
	}
	other := s.voters()[0]
	if other == nl {
		other = s.voters()[1]
	}
	s.step("remove n%d: back to three voters", other)
	s.change(raft.ConfChange{Type: raft.ConfRemove, NodeID: other})
	if v := s.voters(); len(v) != 3 || slices.Contains(v, l) || slices.Contains(v, other) {
		s.fatalf("voters %v, want three without n%d and n%d", v, l, other)
	}
	s.set(0, "shrunk", "3")
	w.stopAt = s.c.now
	s.waitFor("the clients finish", 20_000, w.idle)
	s.membersCaughtUp()
	for _, m := range s.c.Members() {
		s.get(m.ID, "shrunk", "3")
	}
	s.finish()
}

// A follower restarted after the others compacted their logs past what it
// holds catches up by snapshot.
func TestScenarioRestartAfterCompaction(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3, SnapshotEntries: 10, SnapshotRetain: 2})
	l := s.leader()
	victim := s.followers(l)[0]
	s.step("kill n%d, then write 40 keys without it", victim)
	s.check(s.c.Crash(victim))
	for i := range 40 {
		s.set(l, fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
	if st := s.status(l); st.Snapshot == 0 || st.FirstIndex <= 1 {
		s.fatalf("the leader did not compact: snapshot %d, first index %d", st.Snapshot, st.FirstIndex)
	}
	installed := s.watch(raft.EventSnapshotInstalled)
	s.step("restart n%d", victim)
	s.check(s.c.Restart(victim))
	target := s.status(l).Commit
	s.waitFor("the restarted node catches up", 3000, func() bool {
		st, ok := s.c.Status(victim)
		return ok && st.Applied >= target
	})
	if installed(victim) == 0 {
		s.fatalf("n%d caught up without a snapshot", victim)
	}
	for i := range 40 {
		s.get(victim, fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
	s.finish()
}
