package sim

import (
	"errors"
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// The checker, fed by hand: each case plays observations on a fresh
// checker of three nodes and names the rule the last one must break (or
// none).

func st(id uint64, role raft.Role, term, commit uint64, log []raft.Entry) engine.Effect {
	s := engine.Status{Status: raft.Status{ID: id, Role: role, Term: term, Commit: commit, LastIndex: uint64(len(log))}, Applied: commit}
	if len(log) > 0 {
		s.LastTerm = log[len(log)-1].Term
	}
	if role == raft.RoleLeader {
		s.Leader = id
	}
	return engine.StatusReport{Status: s}
}

func persist(term, vote, commit uint64, es ...raft.Entry) engine.Effect {
	return engine.Persist{HardState: raft.HardState{Term: term, Vote: vote, Commit: commit}, Entries: es}
}

func cmdEntry(index, term uint64, key string) raft.Entry {
	return raft.Entry{Index: index, Term: term, Data: kv.AppendCommand(nil, kv.Command{Op: kv.OpSet, Key: key, Value: []byte("v")})}
}

// obs is one observation: node i's effect batch, a durable write, a
// crash or a restart.
type obs func(ck *checker, disks []disk) error

func batch(i int, effs ...engine.Effect) obs {
	return func(ck *checker, _ []disk) error { return ck.observe(i, effs) }
}

func durableWrite(i int, p engine.Effect) obs {
	return func(ck *checker, disks []disk) error {
		from, err := disks[i].write(p.(engine.Persist))
		if err != nil {
			return err
		}
		return ck.durable(i, &disks[i], from)
	}
}

func restart(i int) obs {
	return func(ck *checker, disks []disk) error {
		ck.crashed(i)
		return ck.restarted(i, &disks[i])
	}
}

func TestCheckerRules(t *testing.T) {
	a1, b1, a2, b2 := cmdEntry(1, 1, "a"), cmdEntry(1, 1, "b"), cmdEntry(2, 1, "a2"), cmdEntry(2, 2, "b2")
	tests := []struct {
		name string
		obs  []obs
		want string // rule broken by the last observation, "" for none
	}{
		{"one leader per term", []obs{
			batch(0, st(1, raft.RoleLeader, 2, 0, nil)),
			batch(1, st(2, raft.RoleFollower, 2, 0, nil)),
		}, ""},
		{"two leaders in one term", []obs{
			batch(0, st(1, raft.RoleLeader, 2, 0, nil)),
			batch(1, st(2, raft.RoleLeader, 2, 0, nil)),
		}, RuleElectionSafety},
		{"a follower names another leader of the term", []obs{
			batch(0, st(1, raft.RoleLeader, 2, 0, nil)),
			batch(2, engine.StatusReport{Status: engine.Status{Status: raft.Status{ID: 3, Term: 2, Leader: 2}}}),
		}, RuleElectionSafety},
		{"elected event in a led term", []obs{
			batch(0, st(1, raft.RoleLeader, 2, 0, nil)),
			batch(1, engine.Emit{Event: raft.Event{Kind: raft.EventElected, Term: 2}}),
		}, RuleElectionSafety},
		{"leader appends", []obs{
			batch(0, persist(1, 1, 0, a1), st(1, raft.RoleLeader, 1, 0, []raft.Entry{a1})),
			batch(0, persist(1, 1, 0, a2), st(1, raft.RoleLeader, 1, 0, []raft.Entry{a1, a2})),
		}, ""},
		{"leader overwrites its own entry", []obs{
			batch(0, persist(1, 1, 0, a1, a2), st(1, raft.RoleLeader, 1, 0, []raft.Entry{a1, a2})),
			batch(0, persist(1, 1, 0, cmdEntry(2, 1, "x")), st(1, raft.RoleLeader, 1, 0, []raft.Entry{a1, cmdEntry(2, 1, "x")})),
		}, RuleLeaderAppendOnly},
		{"leader overwrites in the batch it is elected", []obs{
			batch(0, persist(1, 1, 0, a1, a2)),
			batch(0, persist(1, 1, 0, b1), st(1, raft.RoleLeader, 1, 0, []raft.Entry{b1})),
		}, RuleLeaderAppendOnly},
		{"follower truncates an uncommitted entry", []obs{
			batch(1, persist(1, 1, 0, a1, a2)),
			batch(1, persist(2, 3, 0, b2), st(2, raft.RoleFollower, 2, 0, []raft.Entry{a1, b2})),
		}, ""},
		{"follower truncates a committed entry", []obs{
			batch(1, persist(1, 1, 0, a1, a2), st(2, raft.RoleFollower, 1, 2, []raft.Entry{a1, a2})),
			batch(1, persist(2, 3, 2, b2)),
		}, RuleStateMachineSafety},
		{"follower cuts its log below a committed entry", []obs{
			batch(1, persist(1, 1, 0, a1, a2), st(2, raft.RoleFollower, 1, 2, []raft.Entry{a1, a2})),
			batch(1, persist(2, 3, 2, b1)),
		}, RuleStateMachineSafety},
		{"deposed leader writes at a committed index", []obs{
			batch(1, persist(2, 2, 0, a1, b2), st(2, raft.RoleLeader, 2, 2, []raft.Entry{a1, b2})),
			batch(0, persist(1, 1, 0, a1, a2)),
		}, ""},
		{"two nodes commit different entries at one index", []obs{
			batch(0, persist(1, 1, 0, a1), st(1, raft.RoleFollower, 1, 1, []raft.Entry{a1})),
			batch(1, persist(1, 1, 0, b1), st(2, raft.RoleFollower, 1, 1, []raft.Entry{b1})),
		}, RuleStateMachineSafety},
		{"commit beyond the log", []obs{
			batch(0, persist(1, 1, 0, a1), st(1, raft.RoleFollower, 1, 2, []raft.Entry{a1})),
		}, RuleStateMachineSafety},
		{"commit moves back", []obs{
			batch(0, persist(1, 1, 0, a1, a2), st(1, raft.RoleFollower, 1, 2, []raft.Entry{a1, a2})),
			batch(0, st(1, raft.RoleFollower, 1, 1, []raft.Entry{a1, a2})),
		}, RuleMonotonicCommit},
		{"commit restarts lower after a crash", []obs{
			batch(0, persist(1, 1, 0, a1, a2), st(1, raft.RoleFollower, 1, 2, []raft.Entry{a1, a2})),
			durableWrite(0, persist(1, 1, 1, a1, a2)),
			restart(0),
			batch(0, st(1, raft.RoleFollower, 1, 1, []raft.Entry{a1, a2})),
		}, ""},
		{"new leader lacks a committed entry", []obs{
			batch(0, persist(1, 1, 0, a1, a2), st(1, raft.RoleLeader, 1, 2, []raft.Entry{a1, a2})),
			batch(1, persist(2, 2, 0, a1), st(2, raft.RoleLeader, 2, 0, []raft.Entry{a1})),
		}, RuleLeaderCompleteness},
		{"leader of a later term learns late of a commit it lacks", []obs{
			batch(1, persist(3, 2, 0, a1), st(2, raft.RoleLeader, 3, 0, []raft.Entry{a1})),
			batch(0, persist(1, 1, 0, a1, a2), st(1, raft.RoleFollower, 1, 2, []raft.Entry{a1, a2})),
		}, RuleLeaderCompleteness},
		{"a vote changes within a term", []obs{
			batch(0, persist(2, 1, 0)),
			batch(0, persist(2, 3, 0)),
		}, RuleVoteSafety},
		{"the term goes back", []obs{
			batch(0, persist(3, 1, 0)),
			batch(0, persist(2, 0, 0)),
		}, RuleVoteSafety},
		{"an entry from a future term", []obs{
			batch(0, persist(1, 1, 0, cmdEntry(1, 2, "x"))),
		}, RuleVoteSafety},
		{"status disagrees with the persisted log", []obs{
			batch(0, persist(1, 1, 0, a1), st(1, raft.RoleFollower, 1, 0, []raft.Entry{a1, a2})),
		}, RuleStatus},
		{"persist leaves a gap", []obs{
			batch(0, persist(1, 1, 0, a2)),
		}, RuleHostContract},
		{"disks agree", []obs{
			durableWrite(0, persist(1, 1, 0, a1, a2)),
			durableWrite(1, persist(1, 1, 0, a1)),
			durableWrite(1, persist(1, 1, 0, a2)),
		}, ""},
		{"disks disagree at one index and term", []obs{
			durableWrite(0, persist(1, 1, 0, a1, a2)),
			durableWrite(1, persist(1, 1, 0, a1, cmdEntry(2, 1, "x"))),
		}, RuleLogMatching},
		{"disks agree at an index and term but not before it", []obs{
			durableWrite(0, persist(1, 1, 0, a1, a2)),
			durableWrite(1, persist(1, 1, 0, b1, a2)),
		}, RuleLogMatching},
		{"durable commit beyond the durable log", []obs{
			durableWrite(0, persist(1, 1, 2, a1)),
		}, RuleDurability},
		{"restart without a committed entry", []obs{
			batch(0, persist(1, 1, 0, a1, a2), st(1, raft.RoleFollower, 1, 2, []raft.Entry{a1, a2})),
			durableWrite(0, persist(1, 1, 1, a1)),
			restart(0),
			batch(0, st(1, raft.RoleFollower, 1, 1, []raft.Entry{a1})),
			durableWrite(0, persist(2, 1, 2, cmdEntry(2, 2, "lost a2"))),
			restart(0),
		}, RuleDurability},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ck := newChecker([]uint64{1, 2, 3})
			disks := make([]disk, 3)
			for i, o := range tt.obs {
				err := o(ck, disks)
				last := i == len(tt.obs)-1
				var b *breach
				switch {
				case err != nil && !errors.As(err, &b):
					t.Fatalf("observation %d: %v", i, err)
				case err != nil && (!last || b.rule != tt.want):
					t.Fatalf("observation %d breaks %q: %v; want %q broken by the last", i, b.rule, err, tt.want)
				case err == nil && last && tt.want != "":
					t.Fatalf("no rule broken, want %q", tt.want)
				case err != nil:
					t.Logf("found as expected: %v", err)
				}
			}
		})
	}
}
