package sim

import (
	"bytes"
	"fmt"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// The rules a Violation can name.
const (
	RuleElectionSafety     = "election safety"      // at most one leader per term
	RuleLeaderAppendOnly   = "leader append-only"   // a leader never overwrites or deletes its entries
	RuleLogMatching        = "log matching"         // same index and term: identical prefixes
	RuleLeaderCompleteness = "leader completeness"  // committed entries are in every later leader's log
	RuleStateMachineSafety = "state machine safety" // one entry per committed index, forever
	RuleMonotonicCommit    = "monotonic commit"     // commit never moves back within a lifetime
	RuleVoteSafety         = "vote safety"          // terms never decrease; one vote per term
	RuleDurability         = "durability"           // what was committed survives on disk
	RuleStatus             = "status consistency"   // status agrees with the log the engine asked for
	RuleHostContract       = "host contract"        // effects a host can carry out; one final reply per request
	RuleLiveness           = "liveness"             // after faults heal, progress within a bound
	RuleLinearizability    = "linearizability"      // porcupine on the client history
	RuleEngineError        = "engine error"         // the core failed (error or panic)
)

// breach is an invariant broken, before the cluster dresses it up as a
// Violation with the run's context.
type breach struct {
	rule   string
	detail string
}

func (b *breach) Error() string { return b.rule + ": " + b.detail }

func breachf(rule, format string, args ...any) *breach {
	return &breach{rule: rule, detail: fmt.Sprintf(format, args...)}
}

// logKey names a log entry by index and term.
type logKey struct{ index, term uint64 }

// checker is the invariant checker. It learns the cluster's state only from
// what the engines emit (Persist, StatusReport, Emit, Reply) and from the
// disks, and checks each observation against everything seen before in the
// run, incrementally, so that checking after every step stays cheap.
type checker struct {
	ids []uint64
	// leaders maps a term to the one node that led it (as seen in a
	// StatusReport or an Elected event) or was named its leader by a node
	// of that term.
	leaders map[uint64]uint64
	// committed[i-1] is the entry committed at index i, as first reported:
	// the entry at i in the log of a node whose reported commit index
	// reached i.
	committed []raft.Entry
	// commitTerm[i-1] bounds the term in which the entry at i was
	// committed: the term of the node that first reported it committed.
	// Every leader of a later term must hold the entry.
	commitTerm []uint64
	// matching maps an (index, term) stored on any disk, ever, to the
	// chain hash of the log prefix it ends.
	matching map[logKey]uint64
	nodes    []nodeCheck
	// maxTerm is the highest term known to have had a leader.
	maxTerm uint64
}

// nodeCheck is what the checker knows of one node.
type nodeCheck struct {
	up bool
	// log is the log as the engine asked for it: Persist effects are
	// applied when emitted, not when durable. A restart resets it to the
	// disk's.
	log []raft.Entry
	// hs is the hard state the engine last asked to persist (or restored).
	hs raft.HardState
	// status is the last StatusReport of this lifetime, if hasStatus.
	status    engine.Status
	hasStatus bool
	// checked is the highest index whose entry in log was checked against
	// committed in this lifetime.
	checked uint64
}

func newChecker(ids []uint64) *checker {
	ck := &checker{
		ids:      ids,
		leaders:  make(map[uint64]uint64),
		matching: make(map[logKey]uint64),
		nodes:    make([]nodeCheck, len(ids)),
	}
	for i := range ck.nodes {
		ck.nodes[i].up = true
	}
	return ck
}

func sameEntry(a, b raft.Entry) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

func describe(e raft.Entry) string {
	if e.Type == raft.EntryNoop {
		return fmt.Sprintf("%d/t%d noop", e.Index, e.Term)
	}
	if c, err := kv.DecodeCommand(e.Data); err == nil {
		return fmt.Sprintf("%d/t%d %s", e.Index, e.Term, commandString(c))
	}
	return fmt.Sprintf("%d/t%d (%d bytes)", e.Index, e.Term, len(e.Data))
}

// leader records that id led term (or was named leader of it by source).
func (ck *checker) leader(term, id uint64, source string) error {
	if term == 0 || id == 0 {
		return nil
	}
	if other, ok := ck.leaders[term]; ok && other != id {
		return breachf(RuleElectionSafety, "two leaders in term %d: n%d and n%d (%s)", term, other, id, source)
	}
	ck.leaders[term] = id
	ck.maxTerm = max(ck.maxTerm, term)
	return nil
}

// observe checks one batch of effects node i emitted from a Handle call,
// at the moment it was emitted.
func (ck *checker) observe(i int, effs []engine.Effect) error {
	id := ck.ids[i]
	// Leadership first: a node that won its election in this batch leads
	// its term already for the persists that precede its StatusReport.
	for _, e := range effs {
		switch e := e.(type) {
		case engine.Emit:
			if e.Event.Kind == raft.EventElected {
				if err := ck.leader(e.Event.Term, id, fmt.Sprintf("n%d reports being elected", id)); err != nil {
					return err
				}
			}
		case engine.StatusReport:
			if e.Status.Role == raft.RoleLeader {
				if err := ck.leader(e.Status.Term, id, fmt.Sprintf("n%d reports leading", id)); err != nil {
					return err
				}
			}
		}
	}
	var compactions []engine.SaveSnapshot
	for _, e := range effs {
		switch e := e.(type) {
		case engine.Persist:
			if err := ck.persist(i, e); err != nil {
				return err
			}
		case engine.SaveSnapshot:
			if e.Snapshot.Meta.Index > uint64(len(ck.committed)) {
				// A compaction of the node's own log, at an index its
				// status in this batch reports committed: checked after it.
				compactions = append(compactions, e)
				continue
			}
			if err := ck.snapshot(i, e); err != nil {
				return err
			}
		case engine.StatusReport:
			if err := ck.status(i, e.Status); err != nil {
				return err
			}
		}
	}
	for _, e := range compactions {
		if err := ck.snapshot(i, e); err != nil {
			return err
		}
	}
	return nil
}

// persist checks a Persist node i emitted and applies it to the node's log.
func (ck *checker) persist(i int, p engine.Persist) error {
	id, ns := ck.ids[i], &ck.nodes[i]
	old, hs := ns.hs, p.HardState
	switch {
	case hs.Term < old.Term:
		return breachf(RuleVoteSafety, "n%d persists term %d after term %d", id, hs.Term, old.Term)
	case hs.Term == old.Term && old.Vote != 0 && hs.Vote != old.Vote:
		return breachf(RuleVoteSafety, "n%d changes its vote in term %d from n%d to n%d", id, hs.Term, old.Vote, hs.Vote)
	case hs.Commit < old.Commit:
		return breachf(RuleMonotonicCommit, "n%d persists commit %d after commit %d", id, hs.Commit, old.Commit)
	}
	ns.hs = hs
	if len(p.Entries) == 0 {
		return nil
	}
	oldLast := uint64(len(ns.log))
	if err := checkShape(p, oldLast); err != nil {
		return breachf(RuleHostContract, "n%d: %v", id, err)
	}
	first, last := p.Entries[0].Index, p.Entries[len(p.Entries)-1].Index
	if first <= oldLast && ck.leaders[hs.Term] == id {
		return breachf(RuleLeaderAppendOnly, "n%d, leader of term %d, rewrites its log from index %d (it held %d..%d: %s)",
			id, hs.Term, first, first, oldLast, describe(ns.log[first-1]))
	}
	prevTerm := uint64(0)
	if first > 1 {
		prevTerm = ns.log[first-2].Term
	}
	for _, e := range p.Entries {
		if e.Term > hs.Term {
			return breachf(RuleVoteSafety, "n%d persists entry %s in term %d: an entry from the future", id, describe(e), hs.Term)
		}
		if e.Term < prevTerm {
			return breachf(RuleLogMatching, "n%d's log would go back in term at entry %s (previous entry has term %d)", id, describe(e), prevTerm)
		}
		prevTerm = e.Term
	}
	// A node may hold entries that lose at committed indexes (a deposed
	// leader, a lagging follower), but an entry it holds that was
	// committed it must never lose: no correct leader conflicts with it.
	for idx := first; idx <= oldLast && idx <= uint64(len(ck.committed)); idx++ {
		if !sameEntry(ns.log[idx-1], ck.committed[idx-1]) {
			continue
		}
		if idx > last {
			return breachf(RuleStateMachineSafety, "n%d truncates its log to %d and so deletes committed entry %s",
				id, last, describe(ns.log[idx-1]))
		}
		if e := p.Entries[idx-first]; !sameEntry(e, ck.committed[idx-1]) {
			return breachf(RuleStateMachineSafety, "n%d overwrites committed entry %s with %s",
				id, describe(ck.committed[idx-1]), describe(e))
		}
	}
	ns.log = append(ns.log[:first-1], p.Entries...)
	return nil
}

// status checks a StatusReport of node i.
func (ck *checker) status(i int, st engine.Status) error {
	id, ns := ck.ids[i], &ck.nodes[i]
	if st.ID != id {
		return breachf(RuleStatus, "n%d reports the status of n%d", id, st.ID)
	}
	if ns.hasStatus {
		prev := ns.status
		switch {
		case st.Commit < prev.Commit:
			return breachf(RuleMonotonicCommit, "n%d's commit index moves back from %d to %d", id, prev.Commit, st.Commit)
		case st.Applied < prev.Applied:
			return breachf(RuleMonotonicCommit, "n%d's applied index moves back from %d to %d", id, prev.Applied, st.Applied)
		case st.Term < prev.Term:
			return breachf(RuleVoteSafety, "n%d's term moves back from %d to %d", id, prev.Term, st.Term)
		}
	}
	if st.Applied > st.Commit {
		return breachf(RuleStatus, "n%d reports applied index %d above its commit index %d", id, st.Applied, st.Commit)
	}
	lastTerm := uint64(0)
	if n := len(ns.log); n > 0 {
		lastTerm = ns.log[n-1].Term
	}
	if st.LastIndex != uint64(len(ns.log)) || st.LastTerm != lastTerm {
		return breachf(RuleStatus, "n%d reports its last entry as %d/t%d, but the entries it asked to persist end at %d/t%d",
			id, st.LastIndex, st.LastTerm, len(ns.log), lastTerm)
	}
	switch {
	case st.Term < ns.hs.Term:
		return breachf(RuleStatus, "n%d reports term %d below the term %d it persisted", id, st.Term, ns.hs.Term)
	case st.Vote != 0 && (st.Term != ns.hs.Term || st.Vote != ns.hs.Vote):
		// A vote held only in memory can be cast again after a crash.
		return breachf(RuleVoteSafety, "n%d reports a vote for n%d in term %d, but persisted vote n%d in term %d",
			id, st.Vote, st.Term, ns.hs.Vote, ns.hs.Term)
	}
	if st.Leader != 0 {
		if err := ck.leader(st.Term, st.Leader, fmt.Sprintf("n%d names n%d its leader in term %d", id, st.Leader, st.Term)); err != nil {
			return err
		}
	}
	newLeader := st.Role == raft.RoleLeader &&
		(!ns.hasStatus || ns.status.Role != raft.RoleLeader || ns.status.Term != st.Term)
	ns.status, ns.hasStatus = st, true
	if newLeader {
		// Leader completeness, at election: every entry known committed
		// in an earlier term is in the new leader's log. (Entries that
		// become known committed later are checked as they do.)
		for idx, ce := range ck.committed {
			if ck.commitTerm[idx] < st.Term && (idx >= len(ns.log) || !sameEntry(ns.log[idx], ce)) {
				return breachf(RuleLeaderCompleteness, "n%d became leader of term %d without committed entry %s (it has %s)",
					id, st.Term, describe(ce), ck.entryAt(i, uint64(idx+1)))
			}
		}
	}
	for idx := ns.checked + 1; idx <= st.Commit; idx++ {
		if idx > uint64(len(ns.log)) {
			return breachf(RuleStateMachineSafety, "n%d reports commit index %d beyond its last entry %d", id, st.Commit, len(ns.log))
		}
		e := ns.log[idx-1]
		if idx <= uint64(len(ck.committed)) {
			if !sameEntry(e, ck.committed[idx-1]) {
				return breachf(RuleStateMachineSafety, "n%d commits %s at index %d, where %s was committed before",
					id, describe(e), idx, describe(ck.committed[idx-1]))
			}
			continue
		}
		ck.committed = append(ck.committed, e)
		ck.commitTerm = append(ck.commitTerm, st.Term)
		// Leaders of later terms elected before we learnt of this commit
		// must hold the entry too.
		for j := range ck.nodes {
			nj := &ck.nodes[j]
			if nj.up && nj.hasStatus && nj.status.Role == raft.RoleLeader && nj.status.Term > st.Term &&
				(idx > uint64(len(nj.log)) || !sameEntry(nj.log[idx-1], e)) {
				return breachf(RuleLeaderCompleteness, "n%d leads term %d without entry %s, committed by term %d (it has %s)",
					ck.ids[j], nj.status.Term, describe(e), st.Term, ck.entryAt(j, idx))
			}
		}
	}
	if st.Commit > ns.checked {
		ns.checked = st.Commit
	}
	return nil
}

func (ck *checker) entryAt(i int, idx uint64) string {
	log := ck.nodes[i].log
	if idx == 0 || idx > uint64(len(log)) {
		return fmt.Sprintf("no entry at %d", idx)
	}
	return describe(log[idx-1])
}

// reply checks a final Reply node i gave to a Propose (cmd) or a Read (cmd
// nil).
func (ck *checker) reply(i int, r engine.Reply, cmd *kv.Command) error {
	id := ck.ids[i]
	switch {
	case r.Code == engine.ReplyNotLeader && r.Leader == id:
		return breachf(RuleHostContract, "n%d refuses request %d as not the leader, naming itself the leader", id, r.RequestID)
	case r.Code != engine.ReplyOK:
		return nil
	case cmd == nil:
		if r.Index > uint64(len(ck.committed)) {
			return breachf(RuleHostContract, "n%d serves read %d at index %d, beyond the cluster's known commit %d",
				id, r.RequestID, r.Index, len(ck.committed))
		}
		return nil
	}
	if r.Index == 0 || r.Index > uint64(len(ck.committed)) {
		return breachf(RuleHostContract, "n%d acknowledges request %d as committed at index %d, but the cluster's known commit is %d",
			id, r.RequestID, r.Index, len(ck.committed))
	}
	e := ck.committed[r.Index-1]
	if e.Term != r.Term {
		return breachf(RuleHostContract, "n%d acknowledges request %d at %d/t%d, but %s is committed there",
			id, r.RequestID, r.Index, r.Term, describe(e))
	}
	if got, err := kv.DecodeCommand(e.Data); err == nil && cmd.ClientID != 0 &&
		(got.ClientID != cmd.ClientID || got.Seq != cmd.Seq) {
		return breachf(RuleHostContract, "n%d acknowledges %s at index %d, but %s is committed there",
			id, commandString(*cmd), r.Index, describe(e))
	}
	return nil
}

// durable checks node i's disk after a write that changed its log from
// index from on (0: only the hard state changed).
func (ck *checker) durable(i int, d *disk, from uint64) error {
	id := ck.ids[i]
	if from > 0 {
		for idx := from; idx <= d.last(); idx++ {
			e := d.entries[idx-1]
			k := logKey{idx, e.Term}
			h := d.chain[idx-1]
			if seen, ok := ck.matching[k]; !ok {
				ck.matching[k] = h
			} else if seen != h {
				return breachf(RuleLogMatching, "n%d's disk holds %s, but another disk holds a different entry or prefix at the same index and term",
					id, describe(e))
			}
		}
	}
	if d.hs.Commit > d.last() {
		return breachf(RuleDurability, "n%d's disk holds commit index %d but its log ends at %d", id, d.hs.Commit, d.last())
	}
	return nil
}

// sending checks that a message node id is about to send depends only on
// state its disk already holds (Figure 2: persist before responding). A
// node whose message got ahead of its disk could, after a crash, forget an
// entry it acknowledged or vote twice in a term.
func sending(id uint64, d *disk, m raft.Message) error {
	switch m.Type {
	case raft.MsgPreVote, raft.MsgPreVoteResp:
		return nil // pre-votes carry a term the sender has not taken
	}
	if m.Term > d.hs.Term {
		return breachf(RuleDurability, "n%d sends %s in term %d, but its disk holds term %d",
			id, m.Type, m.Term, d.hs.Term)
	}
	// A message of an earlier term than the disk's may depend on state
	// the node never persisted on its own: a Handle call that took two
	// inputs (a vote in term 5, then a vote in term 6; entries from the
	// leader of term 5, then a conflicting append of term 6) persists only
	// the outcome. That is safe: the node cannot act in the earlier term
	// again, even after a crash.
	if m.Term < d.hs.Term {
		return nil
	}
	switch {
	case m.Type == raft.MsgVoteResp && !m.Reject && d.hs.Vote != m.To:
		return breachf(RuleDurability, "n%d grants its vote in term %d to n%d, but its disk holds vote n%d in term %d",
			id, m.Term, m.To, d.hs.Vote, d.hs.Term)
	case m.Type == raft.MsgAppResp && !m.Reject && m.Index > d.last():
		return breachf(RuleDurability, "n%d acknowledges entries up to %d, but its disk holds %d",
			id, m.Index, d.last())
	}
	return nil
}

// crashed forgets node i's lifetime.
func (ck *checker) crashed(i int) {
	ck.nodes[i] = nodeCheck{}
}

// restarted starts node i's new lifetime from what its disk holds, and
// checks that the disk kept every entry it knows committed.
func (ck *checker) restarted(i int, d *disk) error {
	ns := &ck.nodes[i]
	*ns = nodeCheck{up: true, log: append([]raft.Entry(nil), d.entries...), hs: d.hs}
	for idx := uint64(1); idx <= d.hs.Commit && idx <= uint64(len(ck.committed)); idx++ {
		if idx > d.last() || !sameEntry(d.entries[idx-1], ck.committed[idx-1]) {
			return breachf(RuleDurability, "n%d restarts with commit index %d but without committed entry %s (it has %s)",
				ck.ids[i], d.hs.Commit, describe(ck.committed[idx-1]), ck.entryAt(i, idx))
		}
	}
	return nil
}

// snapshot checks a SaveSnapshot node i emitted: a snapshot covers only
// committed entries, ends at the committed entry's term, and leaves the
// node's log (as the checker sees it, whole) with the committed prefix.
func (ck *checker) snapshot(i int, s engine.SaveSnapshot) error {
	id, ns := ck.ids[i], &ck.nodes[i]
	meta := s.Snapshot.Meta
	idx := meta.Index
	switch {
	case idx == 0 || idx > uint64(len(ck.committed)):
		return breachf(RuleStateMachineSafety, "n%d snapshots at index %d, beyond the cluster's known commit %d", id, idx, len(ck.committed))
	case ck.committed[idx-1].Term != meta.Term:
		return breachf(RuleStateMachineSafety, "n%d snapshots at %d/t%d, but %s is committed there", id, idx, meta.Term, describe(ck.committed[idx-1]))
	}
	// Below the snapshot the node's log is the committed one (its own
	// entries there were checked as its commit index passed them, or
	// replaced by the snapshot); above it, it keeps its entries only with
	// KeepLog.
	log := append(ns.log[:0:0], ck.committed[:idx]...)
	if s.KeepLog && uint64(len(ns.log)) > idx {
		log = append(log, ns.log[idx:]...)
	}
	ns.log = log
	return nil
}
