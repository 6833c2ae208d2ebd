package raft

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
)

// Errors returned by ProposeConfChange.
var (
	// ErrConfChangePending: an earlier configuration change (or the new
	// leader's first entry) has not committed yet. Changes go one at a time.
	ErrConfChangePending = errors.New("raft: a configuration change is already in progress")
	// ErrInvalidConfChange wraps every reason a change cannot apply to the
	// current configuration (adding a member twice, removing the last
	// voter, promoting a voter).
	ErrInvalidConfChange = errors.New("raft: invalid configuration change")
	// ErrLearnerBehind: a learner cannot be promoted until it holds every
	// committed entry.
	ErrLearnerBehind = errors.New("raft: learner has not caught up")
	// ErrNotLeader: only the leader accepts configuration changes.
	ErrNotLeader = errors.New("raft: not the leader")
)

// Member is one member of the cluster: a voter, or a learner that receives
// the log but neither votes nor counts towards a quorum.
type Member struct {
	ID      uint64
	Learner bool
	// Addr is the host's description of where to reach the member, opaque
	// to the protocol (the daemon keeps its peer and API addresses here).
	Addr string
}

// ConfChangeType names a configuration change.
type ConfChangeType uint8

// The configuration changes. Values are part of the log format.
const (
	// ConfAddLearner adds a non-voting member that catches up first.
	ConfAddLearner ConfChangeType = 1
	// ConfPromote makes a caught-up learner a voter.
	ConfPromote ConfChangeType = 2
	// ConfAddVoter adds a voter directly (prefer a learner, then Promote:
	// a new voter that has to catch up can stall commits meanwhile).
	ConfAddVoter ConfChangeType = 3
	// ConfRemove removes a voter or learner.
	ConfRemove ConfChangeType = 4
	// ConfForce replaces the configuration outright. Only the operator's
	// unsafe recovery writes it, never the protocol.
	ConfForce ConfChangeType = 5
	// ConfUpdateAddr replaces a member's Addr and nothing else: no role
	// changes, so every quorum stays the same. It still goes one change
	// at a time, like the others. Hosts use it to announce where a member
	// can be reached (the daemon: its API URL).
	ConfUpdateAddr ConfChangeType = 6
)

var confChangeNames = [...]string{
	ConfAddLearner: "add-learner",
	ConfPromote:    "promote",
	ConfAddVoter:   "add-voter",
	ConfRemove:     "remove",
	ConfForce:      "force",
	ConfUpdateAddr: "update-addr",
}

// String returns the change's name, such as "add-learner".
func (t ConfChangeType) String() string {
	if int(t) < len(confChangeNames) && confChangeNames[t] != "" {
		return confChangeNames[t]
	}
	return "unknown"
}

// ConfChange is one change of the cluster's membership (thesis §4.1: one
// server at a time). In the log it also carries Members, the whole
// configuration once it applies, so that a node can adopt it without
// knowing the configuration before it.
type ConfChange struct {
	Type   ConfChangeType
	NodeID uint64
	// Addr is the new member's address (ConfAddLearner, ConfAddVoter), or
	// a member's new address (ConfUpdateAddr).
	Addr string
	// Members is the configuration after the change, sorted by id. The
	// leader fills it in; a proposer leaves it empty (except ConfForce).
	Members []Member
}

// confChangeMaxMembers bounds the members a configuration may hold.
const confChangeMaxMembers = 1 << 12

// EncodeConfChange returns cc's encoding, the Data of an EntryConfChange:
//
//	u8 type, uvarint nodeID, string addr, uvarint count,
//	then per member: uvarint id, u8 learner, string addr
//
// where a string is a uvarint length and its bytes.
func EncodeConfChange(cc ConfChange) []byte {
	b := []byte{byte(cc.Type)}
	b = putUvarint(b, cc.NodeID)
	b = putString(b, cc.Addr)
	return appendMembers(b, cc.Members)
}

func appendMembers(b []byte, ms []Member) []byte {
	b = putUvarint(b, uint64(len(ms)))
	for _, m := range ms {
		b = putUvarint(b, m.ID)
		if m.Learner {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = putString(b, m.Addr)
	}
	return b
}

// DecodeConfChange decodes what EncodeConfChange wrote, checking that the
// members, if any (a proposal carries none), are sorted, unique, non-zero
// and include a voter.
func DecodeConfChange(b []byte) (ConfChange, error) {
	d := decoder{b: b}
	var cc ConfChange
	cc.Type = ConfChangeType(d.byte())
	cc.NodeID = d.uvarint()
	cc.Addr = d.string()
	cc.Members = d.members()
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err == nil && cc.Type.String() == "unknown" {
		d.err = errors.New("unknown change type " + strconv.Itoa(int(cc.Type)))
	}
	if d.err == nil && len(cc.Members) > 0 {
		d.err = checkMembers(cc.Members)
	}
	if d.err != nil {
		return ConfChange{}, errors.New("raft: bad configuration change: " + d.err.Error())
	}
	return cc, nil
}

// checkMembers reports whether ms is a usable configuration.
func checkMembers(ms []Member) error {
	voters := 0
	for i, m := range ms {
		if m.ID == 0 {
			return errors.New("member id 0 is reserved")
		}
		if i > 0 && ms[i-1].ID >= m.ID {
			return errors.New("members not sorted and unique")
		}
		if !m.Learner {
			voters++
		}
	}
	if voters == 0 {
		return errors.New("no voters")
	}
	return nil
}

// ProposeConfChange appends a configuration change to the leader's log.
// It takes effect on each node when that node learns it committed; only
// one change may be in progress. It returns ErrNotLeader on a follower
// (changes are not forwarded), ErrConfChangePending, ErrLearnerBehind, or
// an error wrapping ErrInvalidConfChange.
func (n *Node) ProposeConfChange(cc ConfChange) (Proposal, error) {
	if n.role != RoleLeader {
		return Proposal{Leader: n.lead}, ErrNotLeader
	}
	if n.transferee != 0 {
		return Proposal{}, ErrTransferring
	}
	if n.pendingConf > n.log.committed {
		return Proposal{}, ErrConfChangePending
	}
	next, err := n.changedMembers(cc)
	if err != nil {
		return Proposal{}, err
	}
	cc.Members = next
	last := n.log.lastIndex() + 1
	n.log.append(Entry{Term: n.term, Index: last, Type: EntryConfChange, Data: EncodeConfChange(cc)})
	n.pendingConf = last
	n.needBcast = true
	n.event(EventConfChangeProposed, cc.NodeID, last, "proposed "+cc.Type.String()+" of node "+u(cc.NodeID)+" at index "+u(last))
	return Proposal{Leader: n.id, Index: last, Term: n.term}, nil
}

func invalidChange(why string) error {
	return stepError{ErrInvalidConfChange, "raft: invalid configuration change: " + why}
}

// changedMembers returns the configuration cc makes of the current one.
func (n *Node) changedMembers(cc ConfChange) ([]Member, error) {
	if cc.NodeID == 0 {
		return nil, invalidChange("node id 0 is reserved")
	}
	ms := slices.Clone(n.members)
	i := n.slot(cc.NodeID)
	id := u(cc.NodeID)
	switch cc.Type {
	case ConfAddLearner, ConfAddVoter:
		if i >= 0 {
			return nil, invalidChange("node " + id + " is already a member")
		}
		ms = append(ms, Member{ID: cc.NodeID, Learner: cc.Type == ConfAddLearner, Addr: cc.Addr})
		slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	case ConfPromote:
		if i < 0 {
			return nil, invalidChange("node " + id + " is not a member")
		}
		if !ms[i].Learner {
			return nil, invalidChange("node " + id + " is already a voter")
		}
		if n.prs[i].match < n.log.committed {
			return nil, stepError{ErrLearnerBehind, "raft: learner " + id + " has not caught up (holds index " +
				u(n.prs[i].match) + " of " + u(n.log.committed) + " committed)"}
		}
		ms[i].Learner = false
	case ConfRemove:
		if i < 0 {
			return nil, invalidChange("node " + id + " is not a member")
		}
		if !ms[i].Learner && len(n.voters) == 1 {
			return nil, invalidChange("cannot remove the last voter")
		}
		ms = slices.Delete(ms, i, i+1)
	case ConfUpdateAddr:
		if i < 0 {
			return nil, invalidChange("node " + id + " is not a member")
		}
		if ms[i].Addr == cc.Addr {
			return nil, invalidChange("node " + id + " already has that address")
		}
		ms[i].Addr = cc.Addr
	default:
		return nil, invalidChange("the protocol does not propose " + cc.Type.String() + " changes")
	}
	return ms, nil
}

// applyCommittedConf adopts the configuration of every configuration
// change in the log in (from, to], in order.
func (n *Node) applyCommittedConf(from, to uint64) {
	for i := from + 1; i <= to; i++ {
		e, ok := n.log.entry(i)
		if !ok || e.Type != EntryConfChange {
			continue
		}
		cc, err := DecodeConfChange(e.Data)
		if err == nil && len(cc.Members) == 0 {
			err = errors.New("raft: configuration change without members")
		}
		if err != nil {
			n.event(EventMessageRejected, 0, i, "ignored committed configuration change at index "+u(i)+": "+err.Error())
			continue
		}
		n.setMembers(cc.Members)
		n.event(EventMembershipChanged, cc.NodeID, i, cc.Type.String()+" of node "+u(cc.NodeID)+
			" applied at index "+u(i)+": "+describeMembers(cc.Members))
	}
}

// commitTo raises the commit index to i and adopts the configuration
// changes it commits. It reports whether the commit index moved.
func (n *Node) commitTo(i uint64) bool {
	old := n.log.committed
	if !n.log.commitTo(i) {
		return false
	}
	n.applyCommittedConf(old, n.log.committed)
	return true
}

func describeMembers(ms []Member) string {
	s := "voters"
	sep := " "
	for _, m := range ms {
		if !m.Learner {
			s += sep + u(m.ID)
			sep = ","
		}
	}
	sep = " learners "
	for _, m := range ms {
		if m.Learner {
			s += sep + u(m.ID)
			sep = ","
		}
	}
	return s
}

// setMembers makes ms (sorted, valid) the configuration, keeping what the
// node knows of members that stay.
func (n *Node) setMembers(ms []Member) {
	ms = slices.Clone(ms)
	prs := make([]progress, len(ms))
	votes := make([]int8, len(ms))
	heard := make([]uint64, len(ms))
	acks := make([]uint64, len(ms))
	voters := make([]uint64, 0, len(ms))
	last := n.log.lastIndex()
	for k, m := range ms {
		if !m.Learner {
			voters = append(voters, m.ID)
		}
		if j := n.slot(m.ID); j >= 0 {
			prs[k], votes[k], heard[k], acks[k] = n.prs[j], n.votes[j], n.lastHeard[j], n.readAcks[j]
			continue
		}
		prs[k] = progress{next: last + 1}
		if m.ID == n.id {
			prs[k].match = n.log.stable
			prs[k].state = ProgressReplicate
		}
	}
	n.members, n.voters = ms, voters
	n.prs, n.votes, n.lastHeard, n.readAcks = prs, votes, heard, acks
	if n.transferee != 0 && !n.isVoter(n.transferee) {
		n.transferee = 0
	}
	if n.isVoter(n.id) || n.role == RoleFollower {
		return
	}
	// No longer a voter: a leader hands over to the most up-to-date voter
	// and steps down (thesis §4.2.2); a candidate gives up.
	if n.role == RoleLeader {
		best, bestMatch := uint64(0), uint64(0)
		for k, m := range n.members {
			if !m.Learner && m.ID != n.id && n.prs[k].match >= bestMatch && n.prs[k].match > 0 {
				best, bestMatch = m.ID, n.prs[k].match
			}
		}
		if best != 0 && bestMatch == n.log.lastIndex() {
			n.sendTimeoutNow(best)
		}
		n.event(EventSteppedDown, best, 0, "stepped down: this node is no longer a voter")
	}
	n.becomeFollower(n.term, 0)
}

// isVoter reports whether id votes in the current configuration.
func (n *Node) isVoter(id uint64) bool {
	i := n.slot(id)
	return i >= 0 && !n.members[i].Learner
}

// voterValues returns vals (one per member) restricted to the voters, in
// a scratch slice.
func (n *Node) voterValues(vals []uint64) []uint64 {
	out := n.scratch[:0]
	for i, m := range n.members {
		if !m.Learner {
			out = append(out, vals[i])
		}
	}
	n.scratch = out
	return out
}

// Members returns the current configuration, sorted by id.
func (n *Node) Members() []Member { return slices.Clone(n.members) }

// varint helpers: hand-written, since encoding/binary would pull reflect
// into raft.wasm.
func putUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func putString(b []byte, s string) []byte {
	b = putUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = errors.New(why)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if len(d.b) == 0 {
			d.fail("truncated")
			return 0
		}
		c := d.b[0]
		d.b = d.b[1:]
		if shift == 63 && c > 1 {
			break
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail("varint overflows 64 bits")
	return 0
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) || n > 1<<16 {
		d.fail("string length out of range")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) members() []Member {
	k := d.uvarint()
	if k > confChangeMaxMembers || k > uint64(len(d.b)) {
		d.fail("member count out of range")
		return nil
	}
	ms := make([]Member, 0, k)
	for range k {
		var m Member
		m.ID = d.uvarint()
		switch d.byte() {
		case 0:
		case 1:
			m.Learner = true
		default:
			d.fail("bad learner flag")
		}
		m.Addr = d.string()
		if d.err != nil {
			return nil
		}
		ms = append(ms, m)
	}
	return ms
}
