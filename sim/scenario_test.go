package sim

import (
	"strings"
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// The seed's scenarios, each a deterministic simulation that asserts what
// a user would see. Run them with `go test ./sim -run Scenario -v` to read
// each as a timeline.

// Kill one node: the cluster goes on with 2 of 3.
func TestScenarioKillOne(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3})
	l := s.leader()
	s.set(l, "a", "1")

	victim := s.followers(l)[0]
	s.step("kill follower n%d", victim)
	s.check(s.c.Crash(victim))
	s.run(300) // three election timeouts: long enough for anyone to notice

	if got := s.c.Leader(); got != l {
		s.fatalf("leader is n%d after a follower died, want n%d still", got, l)
	}
	op := s.set(l, "b", "2")
	if r := op.Reply; r.Voters != 3 || r.Acks < 2 {
		s.fatalf("write acknowledged by %d of %d voters, want at least 2 of 3", r.Acks, r.Voters)
	}
	if st := s.status(l); st.Alive != 2 {
		s.fatalf("leader counts %d voters alive, want 2 of 3", st.Alive)
	}
	s.get(s.followers(l)[0], "b", "2")
	s.get(l, "a", "1")
	s.finish()
}

// Kill two: writes do not commit and the client is told "no quorum";
// nothing acknowledged is lost once the nodes come back.
func TestScenarioKillTwo(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3})
	l := s.leader()
	s.set(l, "a", "1")
	f := s.followers(l)

	s.step("kill n%d", f[0])
	s.check(s.c.Crash(f[0]))
	s.set(l, "b", "2")

	s.step("kill n%d: one node of three left", f[1])
	s.check(s.c.Crash(f[1]))
	commit := s.status(l).Commit
	op := s.do(s.cl.Set("c", "3", OpOptions{Node: l, NoRetry: true}))
	if op.Known || op.Last().Reply.Code != engine.ReplyNoQuorum {
		s.fatalf("a write to the last node: %s, want no-quorum", op)
	}
	if e := op.Last().Reply.Error; !strings.Contains(e, "no quorum") || !strings.Contains(e, "1/3") {
		s.fatalf("no-quorum reply says %q, want it to say 1/3 alive", e)
	}
	if st := s.status(l); st.Commit != commit {
		s.fatalf("commit index moved from %d to %d without a quorum", commit, st.Commit)
	}
	// Once the node knows, it refuses at once rather than after a timeout.
	s.run(200)
	sent := s.c.Now()
	op = s.do(s.cl.Get("a", OpOptions{Node: l, NoRetry: true}))
	if op.Known || op.Last().Reply.Code != engine.ReplyNoQuorum {
		s.fatalf("a read at the last node: %s, want no-quorum", op)
	}
	if waited := s.c.Now() - sent; waited > 10*s.c.TickMillis() {
		s.fatalf("the no-quorum answer took %d ms, want it at once (within 10 ticks)", waited)
	}

	s.step("restart n%d and n%d", f[0], f[1])
	s.check(s.c.Restart(f[0]))
	s.check(s.c.Restart(f[1]))
	s.leader()
	s.converged()
	s.step("nothing acknowledged was lost")
	for _, id := range s.c.IDs() {
		s.get(id, "a", "1")
		s.get(id, "b", "2")
	}
	s.finish()
}

// Five nodes: two may die and the cluster goes on; a third takes the
// quorum away; one back brings it back.
func TestScenarioKillTwoOfFive(t *testing.T) {
	s := newScenario(t, Options{Nodes: 5})
	l := s.leader()
	f := s.followers(l)
	s.step("kill n%d and n%d", f[0], f[1])
	s.check(s.c.Crash(f[0]))
	s.check(s.c.Crash(f[1]))
	if op := s.set(l, "a", "1"); op.Reply.Acks < 3 || op.Reply.Voters != 5 {
		s.fatalf("write acknowledged by %d of %d voters, want at least 3 of 5", op.Reply.Acks, op.Reply.Voters)
	}
	s.step("kill n%d: two of five left", f[2])
	s.check(s.c.Crash(f[2]))
	op := s.do(s.cl.Set("b", "2", OpOptions{Node: l, NoRetry: true}))
	if op.Known || op.Last().Reply.Code != engine.ReplyNoQuorum {
		s.fatalf("a write with two of five alive: %s, want no-quorum", op)
	}
	s.step("restart n%d: three of five", f[0])
	s.check(s.c.Restart(f[0]))
	l = s.leader()
	s.set(l, "c", "3")
	s.get(f[0], "a", "1")
	s.finish()
}

// Restart: a node that was down while the cluster wrote catches up.
func TestScenarioRestart(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3})
	l := s.leader()
	victim := s.followers(l)[0]
	s.step("kill n%d, then write 20 keys without it", victim)
	s.check(s.c.Crash(victim))
	keys := "abcdefghijklmnopqrst"
	for i, k := range keys {
		s.set(l, string(k), strings.Repeat(string(k), i+1))
	}
	_, before := s.c.Disk(victim)

	s.step("restart n%d", victim)
	s.check(s.c.Restart(victim))
	target := s.status(l).Commit
	s.waitFor("the restarted node catches up", 1000, func() bool {
		st, ok := s.c.Status(victim)
		return ok && st.Applied >= target
	})
	_, after := s.c.Disk(victim)
	s.c.Note("n%d's log grew from %d to %d entries", victim, len(before), len(after))
	for i, k := range keys {
		s.get(victim, string(k), strings.Repeat(string(k), i+1))
	}
	s.converged()
	s.finish()
}

// Kill the leader: a new one is elected and the pending write commits,
// once.
func TestScenarioKillLeader(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3})
	old := s.leader()
	oldTerm := s.status(old).Term
	s.set(old, "a", "1")

	s.step("propose CAS b missing→2 at n%d and kill it once the entry is on its disk", old)
	op := s.cl.CAS("b", nil, "2", OpOptions{Node: old, Deadline: 5000})
	index := s.status(old).LastIndex + 1
	s.waitFor("the leader persists the entry", 1000, func() bool {
		st, _ := s.c.Status(old)
		return st.Stable >= index
	})
	if st := s.status(old); st.Commit >= index {
		s.fatalf("the write committed before the leader died (commit %d), the scenario needs it pending", st.Commit)
	}
	s.check(s.c.Crash(old))

	l := s.leader()
	if l == old || s.status(l).Term <= oldTerm {
		s.fatalf("leader after the crash: n%d in term %d, want another node in a term above %d", l, s.status(l).Term, oldTerm)
	}
	s.do(op)
	if !op.Known || !op.Reply.OK || op.Reply.Found {
		s.fatalf("pending CAS: %s, want applied (ok, key was missing) — applied once", op)
	}
	s.get(l, "b", "2")

	s.step("restart n%d: it rejoins as a follower", old)
	s.check(s.c.Restart(old))
	s.converged()
	if got := s.c.Leader(); got != l {
		s.fatalf("leader n%d after the old leader came back, want n%d", got, l)
	}
	s.get(old, "b", "2")
	s.finish()
}

// Partition 1 vs 2: the minority cannot commit, the majority goes on, and
// after healing all converge.
func TestScenarioPartition(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3})
	old := s.leader()
	s.set(old, "a", "before")
	f := s.followers(old)

	s.step("partition n%d | n%d n%d", old, f[0], f[1])
	s.check(s.c.Partition([]uint64{old}, f))
	minorityCommit := s.status(old).Commit
	minority := s.c.NewClient()
	op := s.do(minority.Set("a", "minority", OpOptions{Node: old, NoRetry: true}))
	if op.Known || op.Last().Reply.Code != engine.ReplyNoQuorum {
		s.fatalf("write to the minority: %s, want no-quorum", op)
	}

	s.waitFor("the majority elects a leader", 2000, func() bool {
		l := s.c.Leader()
		return l == f[0] || l == f[1]
	})
	l := s.c.Leader()
	s.set(l, "a", "majority")
	s.set(l, "b", "majority")
	if st := s.status(old); st.Commit != minorityCommit {
		s.fatalf("the minority's commit index moved from %d to %d", minorityCommit, st.Commit)
	}

	s.step("heal")
	s.c.Heal()
	s.waitFor("the old leader follows the new one", 2000, func() bool {
		st, ok := s.c.Status(old)
		return ok && st.Leader == l
	})
	s.converged()
	for _, id := range s.c.IDs() {
		s.get(id, "a", "majority")
	}
	s.finish()
}

// A slow network (500 ms one way, ten election timeouts): no split brain,
// the established leader stays, and writes still commit, slowly.
//
// The delay builds up over a second, as a congesting link's does: a step
// from 5 to 500 ms would silence every link for half a second at once, and
// CheckQuorum must then depose the leader (TestScenarioSlowNetworkStep
// shows that case). The request timeout is raised to 3 s: the default
// (5 election timeouts, 500 ms) is shorter than one round trip.
func TestScenarioSlowNetwork(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3, RequestTimeoutTicks: 300})
	l := s.leader()
	term := s.status(l).Term
	s.set(l, "a", "fast")

	s.step("the delay ramps up to 495–505 ms over 1 s")
	s.check(s.c.RampNetwork(NetworkConfig{MinDelay: 495, MaxDelay: 505}, 1000))
	campaigns := s.watch(raft.EventPreVoteStarted)
	elections := s.watch(raft.EventElectionStarted)
	s.run(1500)
	for i := range 3 {
		start := s.c.Now()
		s.set(l, "b", string(rune('x'+i)))
		if took := s.c.Now() - start; took < 2*495 {
			s.fatalf("a write took %d ms, less than one round trip (990 ms)", took)
		}
	}
	s.get(l, "b", "z")
	s.run(3000)
	for _, id := range s.c.IDs() {
		st := s.status(id)
		if st.Term != term || st.Leader != l {
			s.fatalf("n%d is in term %d following n%d; want term %d, leader n%d: no spurious election", id, st.Term, st.Leader, term, l)
		}
	}
	if n, m := campaigns(0), elections(0); n+m > 0 {
		s.fatalf("%d pre-votes and %d elections started under a slow network with a healthy leader", n, m)
	}

	s.step("the delay ramps back down")
	s.check(s.c.RampNetwork(DefaultNetwork(), 1000))
	s.run(1500)
	s.converged()
	s.finish()
}

// A step to 500 ms one way: every link falls silent for half a second, so
// CheckQuorum deposes the leader, and no election completes while the
// round trip (1 s) exceeds the election timeout (100–200 ms). What must
// hold: never two leaders in a term, no acknowledged write lost, and once
// the delay is gone a leader emerges and writes commit.
func TestScenarioSlowNetworkStep(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3})
	l := s.leader()
	s.set(l, "a", "1")

	s.step("the delay jumps to 500 ms")
	s.check(s.c.SetNetwork(NetworkConfig{MinDelay: 495, MaxDelay: 505}))
	elected := s.watch(raft.EventElected)
	op := s.do(s.cl.Set("b", "2", OpOptions{Node: l, Deadline: 3000}))
	s.run(3000)
	s.c.Note("while slow: %d elections won; the write: %s", elected(0), op)

	s.step("the delay is gone")
	s.check(s.c.SetNetwork(DefaultNetwork()))
	l = s.leader()
	s.set(l, "c", "3")
	s.converged()
	s.get(l, "a", "1")
	s.finish()
}

// rogue isolates a follower for 3 s (15 to 30 election timeouts) while the
// majority writes, heals, and returns the leader and term before and the
// rogue's highest term while isolated.
func rogue(s *scenario) (leader, term, rogue, rogueTerm uint64) {
	leader = s.leader()
	term = s.status(leader).Term
	rogue = s.followers(leader)[0]
	s.set(leader, "a", "1")

	s.step("isolate n%d for 3 s", rogue)
	s.check(s.c.Isolate(rogue))
	for i := range 5 {
		s.run(500)
		s.set(leader, "k", string(rune('0'+i)))
	}
	s.run(500)
	rogueTerm = s.status(rogue).Term
	s.c.Note("the rogue n%d is in term %d; the cluster in term %d", rogue, rogueTerm, s.status(leader).Term)

	s.step("n%d rejoins", rogue)
	s.c.Heal()
	s.run(1000)
	return leader, term, rogue, rogueTerm
}

// Rogue node with PreVote: its term does not climb, and on rejoin it does
// not depose the leader.
func TestScenarioRogueNode(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3})
	preVotes := s.watch(raft.EventPreVoteStarted)
	l, term, r, rogueTerm := rogue(s)
	if preVotes(r) == 0 {
		s.fatalf("the isolated node never timed out: the scenario proves nothing")
	}
	s.c.Note("n%d started %d pre-votes while isolated and stayed in term %d", r, preVotes(r), rogueTerm)
	if rogueTerm != term {
		s.fatalf("the isolated node's term climbed from %d to %d despite PreVote", term, rogueTerm)
	}
	if got, st := s.c.Leader(), s.status(l); got != l || st.Term != term {
		s.fatalf("after the rejoin the leader is n%d in term %d, want n%d still in term %d", got, st.Term, l, term)
	}
	s.converged()
	s.get(r, "k", "4")
	s.finish()
}

// Rogue node without PreVote: the same story shows the disruption PreVote
// prevents, so that TestScenarioRogueNode is seen to prove something.
func TestScenarioRogueNodeWithoutPreVote(t *testing.T) {
	s := newScenario(t, Options{Nodes: 3, DisablePreVote: true})
	l, term, r, rogueTerm := rogue(s)
	if rogueTerm < term+5 {
		s.fatalf("the isolated node's term went from %d to %d only; without PreVote it should climb with every timeout", term, rogueTerm)
	}
	st := s.status(l)
	if st.Term <= term {
		s.fatalf("after the rejoin the cluster is still in term %d: no disruption seen without PreVote", st.Term)
	}
	s.c.Note("disruption: the leader of term %d was deposed; the cluster moved to term %d", term, st.Term)
	s.leader()
	s.converged()
	s.get(r, "k", "4")
	s.finish()
}

// Restart all: every node recovers from its own disk and the logs agree.
func TestScenarioRestartAll(t *testing.T) {
	disk := DefaultDisk()
	disk.TornWriteRate = 1 // every write cut short is torn
	s := newScenario(t, Options{Nodes: 3, Disk: &disk})
	l := s.leader()
	keys := "abcdefghij"
	for _, k := range keys {
		s.set(l, string(k), "v"+string(k))
	}
	inflight := s.cl.Set("z", "in flight", OpOptions{Node: l, NoRetry: true})
	s.run(2)

	s.step("crash every node at once")
	for _, id := range s.c.IDs() {
		s.check(s.c.Crash(id))
	}
	if !inflight.Done || inflight.Known {
		s.fatalf("the write in flight: %s, want unknown after the crash", inflight)
	}
	s.run(500)
	s.step("restart every node")
	for _, id := range s.c.IDs() {
		s.check(s.c.Restart(id))
	}
	l = s.leader()
	s.set(l, "after", "1")
	s.converged()
	for _, id := range s.c.IDs() {
		for _, k := range keys {
			s.get(id, string(k), "v"+string(k))
		}
	}
	s.finish()
}
