package server

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/storage"
)

// RecoverOptions says how to force a new configuration on a stopped node.
type RecoverOptions struct {
	// DataDir is the stopped node's data directory.
	DataDir string
	// Voters are the members that survive as voters; Learners those that
	// survive as learners. Every one must be a member of the current
	// configuration. Every other member is dropped.
	Voters, Learners []uint64
	// Peers is the bootstrap configuration (--peers), used when neither
	// the log, a snapshot nor ClusterFile holds one.
	Peers map[uint64]string
	// DryRun reports what would be done and changes nothing.
	DryRun bool
	// Logger receives the warning (default slog.Default()).
	Logger *slog.Logger
}

// RecoverResult describes a forced configuration.
type RecoverResult struct {
	// Source says where the configuration before came from.
	Source string
	// Before and After are the configurations.
	Before, After []raft.Member
	// LastIndex and LastTerm describe the node's log before the change;
	// Commit is its commit index before.
	LastIndex, LastTerm, Commit uint64
	// Index and Term are the forced configuration's entry.
	Index, Term uint64
}

// Recover forces a new configuration on a stopped node's data directory:
// the unsafe, operator-only way out of a quorum lost for good. It appends
// a ConfForce entry after the last one in the log, in a new term, and
// marks it committed; the node adopts it when it starts. Everything in
// the node's log counts as committed from then on, and every write the
// lost members acknowledged that this node never received is lost.
//
// Run it on one survivor only, the one whose log is most up to date
// (highest last term, then highest last index); start the other voters
// named unchanged: they follow it.
func Recover(o RecoverOptions) (RecoverResult, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.Voters) == 0 {
		return RecoverResult{}, errors.New("server: recover: name at least one surviving voter")
	}
	wal, st, err := storage.Open(storage.Options{Dir: o.DataDir, Logger: o.Logger})
	if err != nil {
		return RecoverResult{}, fmt.Errorf("server: recover: open %s (is the node stopped?): %w", o.DataDir, err)
	}
	closed := false
	defer func() {
		if !closed {
			wal.Close()
		}
	}()
	if isEmpty(st) {
		return RecoverResult{}, fmt.Errorf("server: recover: %s holds no data", o.DataDir)
	}
	res := RecoverResult{Commit: st.HardState.Commit}
	res.Before, res.Source, err = currentConfig(o, st)
	if err != nil {
		return res, err
	}
	res.LastIndex, res.LastTerm = lastOf(st)
	after, err := survivors(res.Before, o.Voters, o.Learners)
	if err != nil {
		return res, err
	}
	res.After = after
	res.Index = res.LastIndex + 1
	res.Term = max(st.HardState.Term, res.LastTerm) + 1
	if o.DryRun {
		return res, nil
	}
	o.Logger.Warn("UNSAFE RECOVERY: forcing a new configuration; writes acknowledged by the lost members that this node never received are lost",
		"data", o.DataDir, "before", describe(res.Before), "after", describe(res.After), "index", res.Index, "term", res.Term,
		"uncommitted_entries_now_committed", res.LastIndex-min(res.LastIndex, res.Commit))
	cc := raft.ConfChange{Type: raft.ConfForce, Members: res.After}
	ent := raft.Entry{Term: res.Term, Index: res.Index, Type: raft.EntryConfChange, Data: raft.EncodeConfChange(cc)}
	if err := wal.Save(raft.HardState{Term: res.Term, Commit: res.Index}, []raft.Entry{ent}); err != nil {
		return res, fmt.Errorf("server: recover: write the forced configuration: %w", err)
	}
	closed = true
	if err := wal.Close(); err != nil {
		return res, fmt.Errorf("server: recover: close %s: %w", o.DataDir, err)
	}
	return res, nil
}

// currentConfig finds the configuration in force on a stopped node: the
// last configuration change in its log, else its newest snapshot's, else
// the one it joined with, else the bootstrap peers.
func currentConfig(o RecoverOptions, st storage.State) ([]raft.Member, string, error) {
	for i := len(st.Entries) - 1; i >= 0; i-- {
		e := st.Entries[i]
		if e.Type != raft.EntryConfChange {
			continue
		}
		cc, err := raft.DecodeConfChange(e.Data)
		if err != nil {
			return nil, "", fmt.Errorf("server: recover: configuration change at index %d: %w", e.Index, err)
		}
		return cc.Members, fmt.Sprintf("configuration change at index %d", e.Index), nil
	}
	if st.Snapshot != nil && len(st.Snapshot.Meta.Members) > 0 {
		return st.Snapshot.Meta.Members, fmt.Sprintf("snapshot at index %d", st.Snapshot.Meta.Index), nil
	}
	ms, err := ReadClusterFile(o.DataDir)
	if err != nil {
		return nil, "", fmt.Errorf("server: recover: %w", err)
	}
	if ms != nil {
		return ms, ClusterFile, nil
	}
	if len(o.Peers) == 0 {
		return nil, "", errors.New("server: recover: the data directory holds no configuration (it never changed): give the bootstrap --peers")
	}
	for id, addr := range o.Peers {
		ms = append(ms, raft.Member{ID: id, Addr: FormatAddr(addr, "")})
	}
	slices.SortFunc(ms, func(a, b raft.Member) int { return cmp.Compare(a.ID, b.ID) })
	return ms, "--peers", nil
}

// lastOf returns the index and term of the last entry st holds.
func lastOf(st storage.State) (uint64, uint64) {
	if k := len(st.Entries); k > 0 {
		return st.Entries[k-1].Index, st.Entries[k-1].Term
	}
	if st.Snapshot != nil {
		return st.Snapshot.Meta.Index, st.Snapshot.Meta.Term
	}
	return 0, 0
}

// survivors returns the members of before named in voters (as voters) and
// learners (as learners), with their addresses.
func survivors(before []raft.Member, voters, learners []uint64) ([]raft.Member, error) {
	var after []raft.Member
	for _, id := range append(slices.Clone(voters), learners...) {
		i := slices.IndexFunc(before, func(m raft.Member) bool { return m.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("server: recover: node %d is not a member (members: %s)", id, describe(before))
		}
		if slices.ContainsFunc(after, func(m raft.Member) bool { return m.ID == id }) {
			return nil, fmt.Errorf("server: recover: node %d is named twice", id)
		}
		after = append(after, raft.Member{ID: id, Learner: !slices.Contains(voters, id), Addr: before[i].Addr})
	}
	slices.SortFunc(after, func(a, b raft.Member) int { return cmp.Compare(a.ID, b.ID) })
	return after, nil
}

// DescribeMembers returns ms as "1(voter) 2(voter) 4(learner)".
func DescribeMembers(ms []raft.Member) string { return describe(ms) }
