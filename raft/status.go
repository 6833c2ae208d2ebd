package raft

// Role is what a node currently is in the protocol.
type Role uint8

// The roles. Values are part of the wire format: never renumber.
const (
	RoleFollower     Role = 0
	RolePreCandidate Role = 1
	RoleCandidate    Role = 2
	RoleLeader       Role = 3
)

// String returns the role in lower case, such as "pre-candidate".
func (r Role) String() string {
	switch r {
	case RoleFollower:
		return "follower"
	case RolePreCandidate:
		return "pre-candidate"
	case RoleCandidate:
		return "candidate"
	case RoleLeader:
		return "leader"
	}
	return "unknown"
}

// ProgressState is how a leader currently replicates to one follower.
type ProgressState uint8

// The progress states. Values are part of the wire format.
const (
	// ProgressProbe sends one MsgApp per heartbeat interval until the
	// follower's match index is found.
	ProgressProbe ProgressState = 0
	// ProgressReplicate streams entries optimistically, up to the in-flight
	// limits.
	ProgressReplicate ProgressState = 1
	// ProgressSnapshot sends the follower a snapshot, chunk by chunk: the
	// entries it needs are compacted away.
	ProgressSnapshot ProgressState = 2
)

// String returns "probe", "replicate" or "snapshot".
func (s ProgressState) String() string {
	switch s {
	case ProgressReplicate:
		return "replicate"
	case ProgressSnapshot:
		return "snapshot"
	}
	return "probe"
}

// PeerStatus is the leader's view of one member (itself included).
type PeerStatus struct {
	ID      uint64
	Learner bool
	Match   uint64
	Next    uint64
	State   ProgressState
	// Active reports whether the leader heard from the peer within the
	// longest election timeout (always true for the leader itself).
	Active bool
	// Inflight is the number of MsgApp sent and not yet acknowledged.
	Inflight int
}

// Status is a snapshot of a node's state, for hosts and dashboards. It
// shares no memory with the node.
type Status struct {
	ID        uint64
	Role      Role
	Term      uint64
	Vote      uint64
	Leader    uint64
	Commit    uint64
	LastIndex uint64
	LastTerm  uint64
	// Stable is the highest index acknowledged as durable by storage.
	Stable uint64
	// Snapshot is the index of the newest snapshot; entries up to
	// FirstIndex-1 are compacted away.
	Snapshot   uint64
	FirstIndex uint64
	Voters     []uint64
	// Members is the whole configuration (voters and learners) with
	// addresses, sorted by id.
	Members []Member
	// Alive counts voters (this node included) heard from within the
	// longest election timeout (2*ElectionTicks).
	Alive int
	// Progress is set only on the leader, one per member in Members order.
	Progress []PeerStatus
	// Transferee is the target of a leadership transfer in progress, or 0.
	Transferee  uint64
	PreVote     bool
	CheckQuorum bool
}

// Quorum returns the number of voters needed for a majority.
func (s Status) Quorum() int { return len(s.Voters)/2 + 1 }
