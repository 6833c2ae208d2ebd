package raft

// MessageType names one kind of message between Raft nodes.
type MessageType uint8

// The message types. Values are part of the wire format: never renumber.
const (
	// MsgVote asks for a vote (Figure 2's RequestVote). Index and LogTerm
	// carry the candidate's last log index and term.
	MsgVote MessageType = 1
	// MsgVoteResp answers MsgVote; Reject says whether the vote was refused.
	MsgVoteResp MessageType = 2
	// MsgPreVote asks whether the receiver would vote for the sender in
	// Term (thesis §9.6). It changes no state on the receiver.
	MsgPreVote MessageType = 3
	// MsgPreVoteResp answers MsgPreVote.
	MsgPreVoteResp MessageType = 4
	// MsgApp carries entries (AppendEntries). Index and LogTerm describe the
	// entry just before Entries; Commit is the leader's commit index.
	MsgApp MessageType = 5
	// MsgAppResp answers MsgApp. On success Index is the last index the
	// follower now matches. On reject Index echoes the rejected MsgApp's
	// Index, and RejectHint and LogTerm give the conflict hint: the follower
	// has no entry after RejectHint whose term is above LogTerm.
	MsgAppResp MessageType = 6
	// MsgHeartbeat keeps followers from campaigning and carries the commit
	// index (capped at what the follower is known to hold). Context carries
	// a ReadIndex round, if one is in progress.
	MsgHeartbeat MessageType = 7
	// MsgHeartbeatResp answers MsgHeartbeat, echoing its Context.
	MsgHeartbeatResp MessageType = 8
	// MsgProp carries client entries from a follower to the leader.
	MsgProp MessageType = 9
	// MsgReadIndex asks the leader for a read index on a follower's behalf;
	// Context identifies the request.
	MsgReadIndex MessageType = 10
	// MsgReadIndexResp answers MsgReadIndex. Index is the read index;
	// Reject says the leader could not serve it.
	MsgReadIndexResp MessageType = 11
	// MsgTimeoutNow tells the receiver to campaign at once, skipping
	// PreVote: the final step of a leadership transfer (thesis §3.10).
	MsgTimeoutNow MessageType = 12
	// MsgTransferLeader asks the leader to hand leadership to Index (the
	// target's id); a follower forwards it to the leader.
	MsgTransferLeader MessageType = 13
	// MsgSnap carries one chunk of a snapshot (InstallSnapshot) in
	// Snapshot, to a follower that needs entries the leader has compacted.
	// Index and LogTerm are the snapshot's; Commit is the leader's commit
	// index.
	MsgSnap MessageType = 14
	// MsgSnapResp acknowledges snapshot chunks: Index names the snapshot
	// and RejectHint is how many of its bytes the follower holds, where the
	// next chunk starts. Reject means the follower will not take it. Once
	// the whole snapshot is installed the follower answers with a MsgAppResp
	// for the snapshot's index instead.
	MsgSnapResp MessageType = 15
)

var messageTypeNames = [...]string{
	MsgVote:           "Vote",
	MsgVoteResp:       "VoteResp",
	MsgPreVote:        "PreVote",
	MsgPreVoteResp:    "PreVoteResp",
	MsgApp:            "App",
	MsgAppResp:        "AppResp",
	MsgHeartbeat:      "Heartbeat",
	MsgHeartbeatResp:  "HeartbeatResp",
	MsgProp:           "Prop",
	MsgReadIndex:      "ReadIndex",
	MsgReadIndexResp:  "ReadIndexResp",
	MsgTimeoutNow:     "TimeoutNow",
	MsgTransferLeader: "TransferLeader",
	MsgSnap:           "Snap",
	MsgSnapResp:       "SnapResp",
}

// String returns the type's name, such as "App", or "Unknown".
func (t MessageType) String() string {
	if int(t) < len(messageTypeNames) && messageTypeNames[t] != "" {
		return messageTypeNames[t]
	}
	return "Unknown"
}

// Valid reports whether t is a known message type.
func (t MessageType) Valid() bool { return t.String() != "Unknown" }

// EntryType says what an entry's Data holds.
type EntryType uint8

// The entry types. Values are part of the wire format: never renumber.
const (
	// EntryNormal holds an application command in Data.
	EntryNormal EntryType = 0
	// EntryNoop is appended by a new leader to commit entries of earlier
	// terms (paper §5.4.2); its Data is empty.
	EntryNoop EntryType = 1
	// EntryConfChange holds a configuration change, as EncodeConfChange
	// writes it. Nodes adopt its configuration once it commits.
	EntryConfChange EntryType = 2
)

// Valid reports whether t is a known entry type.
func (t EntryType) Valid() bool { return t <= EntryConfChange }

// Entry is one record of the replicated log.
type Entry struct {
	Term  uint64
	Index uint64
	Type  EntryType
	Data  []byte
}

// Message is one message between nodes. Which fields mean something depends
// on Type; unused fields are zero. A node never keeps a Message it was given
// beyond the call, but it may keep the Entries' Data slices: callers must not
// modify them afterwards.
type Message struct {
	Type       MessageType
	From       uint64
	To         uint64
	Term       uint64
	LogTerm    uint64
	Index      uint64
	Commit     uint64
	Reject     bool
	RejectHint uint64
	Entries    []Entry
	Context    []byte
	// Snapshot is the chunk a MsgSnap carries; nil in every other type.
	Snapshot *SnapshotChunk
}

// HardState is the state a node must persist before it sends any message
// that depends on it: the current term, the vote cast in it, and the
// highest index known to be committed.
type HardState struct {
	Term   uint64
	Vote   uint64
	Commit uint64
}

// IsZero reports whether h is the state of a node that never ran.
func (h HardState) IsZero() bool { return h == HardState{} }
