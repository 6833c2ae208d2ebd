package sim

import (
	"errors"
	"slices"
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// The simulator must catch broken cores: each case wraps the engine in a
// deliberate bug and requires some seed to find it, so that a green run
// means something.

// sendsFirst moves each batch's Sends ahead of its Persists: messages leave
// before the state they depend on is durable.
type sendsFirst struct{ inner engine.Core }

func (s sendsFirst) Handle(in []engine.Input) ([]engine.Effect, error) {
	effs, err := s.inner.Handle(in)
	slices.SortStableFunc(effs, func(a, b engine.Effect) int {
		_, sa := a.(engine.Send)
		_, sb := b.(engine.Send)
		switch {
		case sa && !sb:
			return -1
		case sb && !sa:
			return 1
		}
		return 0
	})
	return effs, err
}

// staleReads serves every read from the local state machine at once, as
// if ReadIndex did not exist.
type staleReads struct{ inner engine.Core }

func (s staleReads) Handle(in []engine.Input) ([]engine.Effect, error) {
	for i, x := range in {
		if r, ok := x.(engine.Read); ok {
			r.Stale = true
			in[i] = r
		}
	}
	return s.inner.Handle(in)
}

// forgetsVotes persists every hard state without its vote.
type forgetsVotes struct{ inner engine.Core }

func (s forgetsVotes) Handle(in []engine.Input) ([]engine.Effect, error) {
	effs, err := s.inner.Handle(in)
	for i, e := range effs {
		if p, ok := e.(engine.Persist); ok {
			p.HardState = raft.HardState{Term: p.HardState.Term, Commit: p.HardState.Commit}
			effs[i] = p
		}
	}
	return effs, err
}

func wrap(w func(engine.Core) engine.Core) Factory {
	return func(cfg engine.Config, r engine.Restored) (engine.Core, error) {
		c, err := NativeFactory(cfg, r)
		if err != nil {
			return nil, err
		}
		return w(c), nil
	}
}

func TestSimulatorCatchesBrokenCores(t *testing.T) {
	tests := []struct {
		name    string
		factory Factory
		rules   []string
	}{
		{"sends before persisting", wrap(func(c engine.Core) engine.Core { return sendsFirst{c} }),
			[]string{RuleVoteSafety, RuleElectionSafety, RuleDurability, RuleStateMachineSafety, RuleLeaderCompleteness, RuleLinearizability, RuleLogMatching}},
		{"stale reads", wrap(func(c engine.Core) engine.Core { return staleReads{c} }),
			[]string{RuleLinearizability}},
		{"forgotten votes", wrap(func(c engine.Core) engine.Core { return forgetsVotes{c} }),
			[]string{RuleVoteSafety}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 200; seed++ {
				_, err := RunSeed(SeedOptions{Seed: seed, Factory: tt.factory})
				var v *Violation
				if errors.As(err, &v) && slices.Contains(tt.rules, v.Rule) {
					t.Logf("seed %d finds it: %s: %s", seed, v.Rule, firstLine(v.Detail))
					return
				}
			}
			t.Errorf("no seed of 200 caught the bug (want a violation of one of %v)", tt.rules)
		})
	}
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
