// Package raft implements the Raft consensus protocol as a pure state
// machine: no I/O, no clock, no goroutines. A host feeds a Node ticks,
// messages and proposals, then collects a Ready holding what to persist,
// what to send and what to apply, and carries it out in that order.
//
// The package implements the paper's Figure 2 with PreVote and CheckQuorum
// (thesis §9.6), ReadIndex reads (§6.4) and leadership transfer (§3.10).
// docs/RAFT.md maps each rule to its code.
package raft

import (
	"errors"
	"strconv"
)

// Errors returned to proposers and readers.
var (
	// ErrNoLeader: the node knows no leader to serve or forward the request.
	ErrNoLeader = errors.New("raft: no leader")
	// ErrTransferring: the leader is handing leadership over and accepts no
	// proposals until that ends.
	ErrTransferring = errors.New("raft: leadership transfer in progress")
	// ErrUnknownPeer: a message or request names a node outside the cluster.
	ErrUnknownPeer = errors.New("raft: unknown peer")
	// ErrMalformed: a message is not well formed; it was dropped.
	ErrMalformed = errors.New("raft: malformed message")
)

// campaignTransfer marks the MsgVote of a transfer target: voters grant it
// even while they hear from a leader.
const campaignTransfer = "transfer"

// Ready is what a node asks its host to do, in this order: persist
// HardState (if HardStateChanged) and Entries, then send Messages; apply
// Committed; serve ReadStates once the applied index reaches theirs.
// A Ready shares no memory with the node.
type Ready struct {
	HardState        HardState
	HardStateChanged bool
	// Entries must be made durable before Messages are sent. Stored
	// entries at or above Entries[0].Index are replaced by them.
	Entries  []Entry
	Messages []Message
	// Committed are newly committed entries, in index order, to apply.
	Committed []Entry
	// ReadStates answer ReadIndex calls, in the order they were asked.
	ReadStates []ReadState
	Events     []Event
	// Snapshot, when set, is a snapshot received from the leader. The host
	// makes it durable, and restores its state machine from it, before it
	// persists Entries or applies Committed. Stored entries up to its index
	// go; with SnapshotKeepLog false every stored entry after it goes too.
	Snapshot        *Snapshot
	SnapshotKeepLog bool
}

// IsEmpty reports whether rd asks for nothing.
func (rd *Ready) IsEmpty() bool {
	return !rd.HardStateChanged && rd.Snapshot == nil && len(rd.Entries) == 0 && len(rd.Messages) == 0 &&
		len(rd.Committed) == 0 && len(rd.ReadStates) == 0 && len(rd.Events) == 0
}

// ReadState answers a ReadIndex call: once the state machine has applied
// Index, a read identified by Context sees every write acknowledged before
// the read began. Rejected means leadership was lost first; retry.
type ReadState struct {
	Index    uint64
	Context  []byte
	Rejected bool
}

// Proposal tells where a proposal went.
type Proposal struct {
	// Forwarded is true when the entries went to the leader in a MsgProp;
	// Index and Term are then unknown (zero).
	Forwarded bool
	// Leader is the node the entries went to (this node if it leads).
	Leader uint64
	// Index and Term are those of the last entry appended.
	Index, Term uint64
}

// Node is one Raft participant. It is not safe for concurrent use; hosts
// call it from one goroutine.
type Node struct {
	cfg Config
	id  uint64
	// members is the configuration in force, sorted by id; voters holds
	// the ids of its voting members.
	members []Member
	voters  []uint64
	scratch []uint64
	// pendingConf is the index of the newest configuration change (or
	// of the leader's first entry), which must commit before another.
	pendingConf uint64
	// snap is the newest snapshot; recv a snapshot being received.
	snap *Snapshot
	recv *snapRecv

	term uint64
	vote uint64
	role Role
	lead uint64
	log  raftLog

	// Per-member state, indexed like members.
	prs       []progress
	votes     []int8   // 1 granted, -1 refused, 0 not heard (elections)
	lastHeard []uint64 // tick of the last message from each voter
	readAcks  []uint64 // highest read round each voter confirmed (leader)

	now               uint64 // ticks since start
	electionElapsed   int
	heartbeatElapsed  int
	randomizedTimeout int
	rng               splitmix64

	transferee uint64
	reads      []readRequest
	readRound  uint64
	needBcast  bool

	out      Ready
	lastHard HardState
}

// New returns a node that recovers from what storage holds: the hard
// state, the newest snapshot (nil if none) and the log entries after it,
// in index order (from index 1 without a snapshot). A new node passes the
// zero HardState, no snapshot and no entries. The configuration is the
// snapshot's, or cfg's initial one, changed by every configuration change
// committed in ents.
func New(cfg Config, hs HardState, snap *Snapshot, ents []Entry) (*Node, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	var base, baseTerm uint64
	members := cfg.Members
	if snap != nil {
		base, baseTerm = snap.Meta.Index, snap.Meta.Term
		if base == 0 || baseTerm == 0 {
			return nil, errors.New("raft: restored snapshot has index or term 0")
		}
		if err := checkMembers(snap.Meta.Members); err != nil {
			return nil, errors.New("raft: restored snapshot: " + err.Error())
		}
		members = snap.Meta.Members
		if baseTerm > hs.Term {
			// As for entries below: the snapshot landed, its term did not.
			hs.Term, hs.Vote = baseTerm, 0
		}
		hs.Commit = max(hs.Commit, base)
	}
	for i, e := range ents {
		if e.Index != base+uint64(i)+1 {
			return nil, errors.New("raft: restored log is not contiguous from index " + u(base+1) + " (entry " +
				strconv.Itoa(i) + " has index " + u(e.Index) + ")")
		}
		if e.Term == 0 || e.Term < baseTerm || (i > 0 && e.Term < ents[i-1].Term) || !e.Type.Valid() {
			return nil, errors.New("raft: restored log has an impossible term or type at index " + u(e.Index))
		}
	}
	if k := len(ents); k > 0 && ents[k-1].Term > hs.Term {
		// A crash tore the write that carried these entries and the hard
		// state of their term: the entries landed, the hard state did not.
		// The node had adopted that term, but it cannot have voted in it:
		// a vote is durable before it is sent. So it resumes in that term
		// with no vote.
		hs.Term, hs.Vote = ents[k-1].Term, 0
	}
	n := &Node{
		cfg:  cfg,
		id:   cfg.ID,
		term: hs.Term,
		vote: hs.Vote,
		log:  newLog(base, baseTerm, ents),
		now:  1, // lastHeard 0 means never
		rng:  splitmix64(cfg.Seed ^ cfg.ID*0x9e3779b97f4a7c15),
	}
	if snap != nil {
		n.snap = snap.keep()
	}
	n.setMembers(members)
	n.commitTo(hs.Commit)
	n.out.Events = nil // configuration changes replayed, not news
	n.lastHard = n.hardState()
	n.becomeFollower(n.term, 0)
	return n, nil
}

// ID returns the node's id.
func (n *Node) ID() uint64 { return n.id }

func (n *Node) hardState() HardState {
	return HardState{Term: n.term, Vote: n.vote, Commit: n.log.committed}
}

// slot returns the index of id in members, or -1.
func (n *Node) slot(id uint64) int {
	for i := range n.members {
		if n.members[i].ID == id {
			return i
		}
	}
	return -1
}

func (n *Node) quorum() int { return len(n.voters)/2 + 1 }

func (n *Node) send(m Message) {
	m.From = n.id
	if m.Term == 0 && m.Type != MsgProp && m.Type != MsgReadIndex && m.Type != MsgTransferLeader {
		m.Term = n.term
	}
	n.out.Messages = append(n.out.Messages, m)
}

// Tick advances the node's clock by one tick.
func (n *Node) Tick() {
	n.now++
	if n.role == RoleLeader {
		n.tickLeader()
		return
	}
	n.electionElapsed++
	if !n.isVoter(n.id) {
		// Learners and removed nodes never campaign.
		if n.electionElapsed >= n.randomizedTimeout {
			n.electionElapsed = 0
			n.lead = 0
		}
		return
	}
	if n.electionElapsed >= n.randomizedTimeout {
		n.electionElapsed = 0
		n.hup(false)
	}
}

// Status returns the node's current status.
func (n *Node) Status() Status {
	var s Status
	n.StatusInto(&s)
	return s
}

// StatusInto fills s with the node's current status, reusing s's slices:
// a host that polls the status every step allocates nothing.
func (n *Node) StatusInto(s *Status) {
	voters, members, progress := s.Voters[:0], s.Members[:0], s.Progress[:0]
	*s = Status{
		ID:          n.id,
		Role:        n.role,
		Term:        n.term,
		Vote:        n.vote,
		Leader:      n.lead,
		Commit:      n.log.committed,
		LastIndex:   n.log.lastIndex(),
		LastTerm:    n.log.lastTerm(),
		Stable:      n.log.stable,
		Snapshot:    n.SnapshotIndex(),
		FirstIndex:  n.log.firstIndex(),
		Voters:      append(voters, n.voters...),
		Members:     append(members, n.members...),
		Alive:       n.alive(),
		Transferee:  n.transferee,
		PreVote:     !n.cfg.DisablePreVote,
		CheckQuorum: !n.cfg.DisableCheckQuorum,
	}
	if n.role == RoleLeader {
		for i, m := range n.members {
			pr := &n.prs[i]
			id := m.ID
			progress = append(progress, PeerStatus{
				ID: id, Learner: m.Learner, Match: pr.match, Next: pr.next, State: pr.state,
				Active: id == n.id || n.heardRecently(i), Inflight: len(pr.inflight),
			})
		}
		s.Progress = progress
	}
}

// heardRecently reports whether voter slot i sent a message within the
// longest election timeout (2*ElectionTicks). Without a leader, voters
// speak only when they campaign, which each does at least that often, so a
// shorter window would count reachable voters as gone.
func (n *Node) heardRecently(i int) bool {
	return n.lastHeard[i] != 0 && n.now-n.lastHeard[i] < uint64(2*n.cfg.ElectionTicks)
}

// alive counts the voters heard from within the longest election timeout, this node
// included.
func (n *Node) alive() int {
	c := 0
	for i, m := range n.members {
		if !m.Learner && (m.ID == n.id || n.heardRecently(i)) {
			c++
		}
	}
	return c
}

// Leader returns the leader this node knows of, or 0.
func (n *Node) Leader() uint64 { return n.lead }

// Alive returns how many voters (this node included) this node heard from
// within the longest election timeout (2*ElectionTicks).
func (n *Node) Alive() int { return n.alive() }

// Voters returns the number of voters.
func (n *Node) Voters() int { return len(n.voters) }

// Acks returns how many voters are known to hold the entry at index i: on
// the leader, those whose match index reached it; elsewhere 0 (unknown).
func (n *Node) Acks(i uint64) int {
	if n.role != RoleLeader {
		return 0
	}
	c := 0
	for k := range n.prs {
		if !n.members[k].Learner && n.prs[k].match >= i {
			c++
		}
	}
	return c
}

// Term returns the term of the entry at index i, or 0 if the log does not
// hold it.
func (n *Node) Term(i uint64) uint64 {
	t, _ := n.log.term(i)
	return t
}

// HasReady reports whether Ready would return anything.
func (n *Node) HasReady() bool {
	return !n.out.IsEmpty() || n.needBcast || n.hardState() != n.lastHard ||
		n.log.unstable <= n.log.lastIndex() || n.log.applied < n.log.committed ||
		(n.role == RoleLeader && n.readsToStart())
}

// Ready returns what the host must do now and hands it over: the entries
// in it count as given to storage and the committed ones as applied. The
// host must carry out the returned Ready in full before the next one.
func (n *Node) Ready() Ready {
	if n.role == RoleLeader {
		n.startReadRound()
		if n.needBcast {
			n.bcastAppend()
		}
	}
	n.needBcast = false
	rd := n.out
	n.out = Ready{}
	if hs := n.hardState(); hs != n.lastHard {
		rd.HardState, rd.HardStateChanged = hs, true
		n.lastHard = hs
	} else {
		rd.HardState = hs
	}
	rd.Entries = n.log.takeUnstable()
	rd.Committed = n.log.takeCommitted()
	return rd
}

// StorageAck records that storage holds every entry up to index, whose
// term is term. Stale acknowledgements are ignored.
func (n *Node) StorageAck(index, term uint64) {
	if !n.log.stableTo(index, term) {
		return
	}
	if i := n.slot(n.id); i >= 0 && n.role == RoleLeader {
		if n.prs[i].acked(index) && n.maybeCommit() {
			n.needBcast = true
		}
	}
}

// Propose appends data as new entries if this node leads, or forwards them
// to the leader. It returns ErrNoLeader when no leader is known and
// ErrTransferring while a leadership transfer is under way. Empty data is
// allowed. The node keeps the slices: callers must not modify them.
func (n *Node) Propose(data ...[]byte) (Proposal, error) {
	switch {
	case n.role == RoleLeader:
		if n.transferee != 0 {
			return Proposal{}, ErrTransferring
		}
		last := n.appendData(data)
		return Proposal{Leader: n.id, Index: last, Term: n.term}, nil
	case n.lead == 0:
		return Proposal{}, ErrNoLeader
	}
	ents := make([]Entry, len(data))
	for i, d := range data {
		ents[i] = Entry{Type: EntryNormal, Data: d}
	}
	n.send(Message{Type: MsgProp, To: n.lead, Entries: ents})
	return Proposal{Forwarded: true, Leader: n.lead}, nil
}

// appendData appends normal entries holding data to the leader's log and
// returns the last index.
func (n *Node) appendData(data [][]byte) uint64 {
	last := n.log.lastIndex()
	for _, d := range data {
		last++
		n.log.append(Entry{Term: n.term, Index: last, Type: EntryNormal, Data: d})
	}
	n.needBcast = len(data) > 0 || n.needBcast
	return last
}

// Campaign starts an election now, as an election timeout would.
func (n *Node) Campaign() { n.hup(false) }

// Step processes a message from a peer. It returns an error (wrapping
// ErrUnknownPeer or ErrMalformed) for a message that cannot be from a
// correct member of this cluster; such messages change nothing.
func (n *Node) Step(m Message) error {
	if err := n.check(m); err != nil {
		n.event(EventMessageRejected, m.From, 0, "dropped "+m.Type.String()+" from "+u(m.From)+": "+err.Error())
		return err
	}
	if i := n.slot(m.From); i >= 0 {
		n.lastHeard[i] = n.now
		if n.role == RoleLeader {
			n.prs[i].active = true
		}
	}

	switch m.Type {
	case MsgProp, MsgReadIndex, MsgTransferLeader:
		// Term-less requests from a member, served by whoever leads.
		n.stepRequest(m)
		return nil
	}

	switch {
	case m.Term > n.term:
		if m.Type == MsgVote || m.Type == MsgPreVote {
			force := string(m.Context) == campaignTransfer
			if !force && n.inLease(m.Type) {
				n.event(EventVoteRejected, m.From, 0, voteName(m.Type)+" for node "+u(m.From)+
					" (term "+u(m.Term)+") rejected: have a leader")
				// Answer at our own (lower) term: the candidate drops the
				// answer as stale, but learns that we are reachable.
				n.send(Message{Type: voteRespType(m.Type), To: m.From, Reject: true})
				return nil
			}
		}
		switch {
		case m.Type == MsgPreVote:
			// A pre-vote asks about a future term; it changes nothing here.
		case m.Type == MsgPreVoteResp && !m.Reject:
			// A grant for our pre-vote; the term rises only if we win.
		default:
			lead := uint64(0)
			if m.Type == MsgApp || m.Type == MsgHeartbeat {
				lead = m.From
			}
			n.event(EventTermChanged, m.From, 0, "term "+u(n.term)+" → "+u(m.Term)+" ("+m.Type.String()+" from "+u(m.From)+")")
			n.becomeFollower(m.Term, lead)
		}
	case m.Term < n.term:
		switch m.Type {
		case MsgApp, MsgHeartbeat:
			// A deposed leader: tell it the current term so it steps down.
			// Without this a node that rejoins with a higher term (PreVote
			// or CheckQuorum on) would ignore the leader forever.
			n.send(Message{Type: MsgAppResp, To: m.From})
		case MsgPreVote:
			n.send(Message{Type: MsgPreVoteResp, To: m.From, Reject: true})
		}
		return nil
	}

	switch m.Type {
	case MsgVote, MsgPreVote:
		n.handleVote(m)
		return nil
	}
	switch n.role {
	case RoleLeader:
		n.stepLeader(m)
	case RoleCandidate, RolePreCandidate:
		n.stepCandidate(m)
	default:
		n.stepFollower(m)
	}
	return nil
}

// check validates a message before it touches any state.
func (n *Node) check(m Message) error {
	if !m.Type.Valid() {
		return malformed("unknown type " + strconv.Itoa(int(m.Type)))
	}
	if m.To != n.id {
		return malformed("addressed to node " + u(m.To))
	}
	if m.From == n.id || m.From == 0 {
		return stepError{ErrUnknownPeer, "raft: message from unknown node " + u(m.From)}
	}
	if n.slot(m.From) < 0 {
		switch m.Type {
		case MsgApp, MsgHeartbeat, MsgSnap:
			// A leader this node's configuration does not know yet: the
			// change that added it is on its way, perhaps in this very
			// message. Refusing it would cut the node off for good.
		default:
			// Above all, no votes: a removed node cannot disrupt.
			return stepError{ErrUnknownPeer, "raft: message from unknown node " + u(m.From)}
		}
	}
	switch m.Type {
	case MsgProp:
		for _, e := range m.Entries {
			if e.Type != EntryNormal {
				return malformed("proposal of a non-normal entry")
			}
		}
	case MsgApp:
		if m.Snapshot != nil {
			return malformed("MsgApp carries a snapshot")
		}
		for i, e := range m.Entries {
			if e.Index != m.Index+1+uint64(i) {
				return malformed("entries are not contiguous after index " + u(m.Index))
			}
			if e.Term == 0 || e.Term > m.Term || (i == 0 && e.Term < m.LogTerm) || (i > 0 && e.Term < m.Entries[i-1].Term) {
				return malformed("entry " + u(e.Index) + " has an impossible term")
			}
			if !e.Type.Valid() {
				return malformed("unknown entry type")
			}
		}
		if m.LogTerm > m.Term {
			return malformed("previous entry's term above the message term")
		}
		// A current leader's log holds every committed entry (Leader
		// Completeness), so a MsgApp of our term or later that contradicts
		// one is not from a correct leader. (One from an older term may:
		// it is dropped as stale below.)
		if m.Term < n.term {
			break
		}
		if m.Index <= n.log.committed && m.Index >= n.log.offset() && !n.log.matchTerm(m.Index, m.LogTerm) {
			return malformed("previous entry contradicts committed index " + u(m.Index))
		}
		for _, e := range m.Entries {
			if e.Index > n.log.committed {
				break
			}
			if e.Index >= n.log.firstIndex() && !n.log.matchTerm(e.Index, e.Term) {
				return malformed("entry contradicts committed index " + u(e.Index))
			}
		}
	case MsgVote, MsgPreVote:
		if m.LogTerm > m.Term {
			return malformed("last log term above the candidate's term")
		}
		if len(m.Entries) > 0 {
			return malformed(m.Type.String() + " carries entries")
		}
	case MsgSnap:
		c := m.Snapshot
		switch {
		case c == nil:
			return malformed("MsgSnap without a snapshot")
		case len(m.Entries) > 0:
			return malformed("MsgSnap carries entries")
		case c.Meta.Index == 0 || c.Meta.Term == 0 || c.Meta.Term > m.Term:
			return malformed("snapshot with an impossible index or term")
		case c.Meta.Index != m.Index || c.Meta.Term != m.LogTerm:
			return malformed("snapshot metadata disagrees with the message")
		case c.Offset > c.Size || uint64(len(c.Data)) > c.Size-c.Offset:
			return malformed("snapshot chunk beyond the snapshot's size")
		}
		if err := checkMembers(c.Meta.Members); err != nil {
			return malformed("snapshot configuration: " + err.Error())
		}
	default:
		if len(m.Entries) > 0 {
			return malformed(m.Type.String() + " carries entries")
		}
	}
	if m.Type != MsgSnap && m.Snapshot != nil {
		return malformed(m.Type.String() + " carries a snapshot")
	}
	if m.Term == 0 && m.Type != MsgProp && m.Type != MsgReadIndex && m.Type != MsgTransferLeader {
		return malformed(m.Type.String() + " without a term")
	}
	return nil
}

func malformed(why string) error {
	return stepError{ErrMalformed, "raft: malformed message: " + why}
}

// stepError is an error from Step: a sentinel kind and a specific text.
type stepError struct {
	kind error
	text string
}

func (e stepError) Error() string { return e.text }
func (e stepError) Unwrap() error { return e.kind }

func (n *Node) stepRequest(m Message) {
	switch m.Type {
	case MsgProp:
		if n.role != RoleLeader {
			if n.lead != 0 && n.lead != m.From {
				// One more hop: the sender's view of the leader was stale.
				n.send(Message{Type: MsgProp, To: n.lead, Entries: m.Entries})
				return
			}
			n.event(EventProposalDropped, m.From, 0, "dropped forwarded proposal from "+u(m.From)+": not the leader")
			return
		}
		if n.transferee != 0 {
			n.event(EventProposalDropped, m.From, 0, "dropped forwarded proposal from "+u(m.From)+": leadership transfer in progress")
			return
		}
		data := make([][]byte, len(m.Entries))
		for i, e := range m.Entries {
			data[i] = e.Data
		}
		n.appendData(data)
	case MsgReadIndex:
		if n.role != RoleLeader {
			n.send(Message{Type: MsgReadIndexResp, To: m.From, Reject: true, Context: m.Context})
			return
		}
		n.reads = append(n.reads, readRequest{from: m.From, ctx: m.Context})
	case MsgTransferLeader:
		if n.role != RoleLeader {
			if n.lead != 0 && n.lead != m.From {
				n.send(Message{Type: MsgTransferLeader, To: n.lead, Index: m.Index})
			}
			return
		}
		_ = n.TransferLeadership(m.Index)
	}
}

// becomeFollower makes the node a follower in term, following lead (0 when
// unknown).
func (n *Node) becomeFollower(term, lead uint64) {
	wasLeader := n.role == RoleLeader
	if n.role != RoleFollower && n.term > 0 {
		n.event(EventSteppedDown, lead, 0, "stepped down to follower in term "+u(term))
	}
	if term != n.term {
		n.term = term
		n.vote = 0
	}
	if wasLeader {
		// After the term update, so the refusals carry the new term and
		// reach followers that already moved on.
		n.abortReads()
	}
	n.role = RoleFollower
	n.setLeader(lead)
	n.reset()
}

func (n *Node) setLeader(lead uint64) {
	if lead != n.lead && lead != 0 {
		n.event(EventLeaderChanged, lead, 0, "following leader "+u(lead)+" in term "+u(n.term))
	}
	n.lead = lead
}

// reset clears per-term timers and bookkeeping.
func (n *Node) reset() {
	n.electionElapsed = 0
	n.heartbeatElapsed = 0
	n.randomizedTimeout = n.cfg.ElectionTicks + int(n.rng.next()%uint64(n.cfg.ElectionTicks))
	n.transferee = 0
	clear(n.votes)
	n.needBcast = false
}
