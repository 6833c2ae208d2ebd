package raft

import "strconv"

// EventKind classifies an Event. Values are part of the wire format.
type EventKind uint8

// The event kinds.
const (
	EventElectionStarted  EventKind = 1  // became candidate for a new term
	EventPreVoteStarted   EventKind = 2  // became pre-candidate
	EventElected          EventKind = 3  // won an election
	EventSteppedDown      EventKind = 4  // leader or candidate became follower
	EventTermChanged      EventKind = 5  // saw a higher term
	EventVoteGranted      EventKind = 6  // granted a vote (or pre-vote)
	EventVoteRejected     EventKind = 7  // refused a vote (or pre-vote)
	EventLeaderChanged    EventKind = 8  // learned of a new leader
	EventQuorumLost       EventKind = 9  // CheckQuorum: leader lost its majority
	EventTransferStarted  EventKind = 10 // leadership transfer began
	EventTransferAborted  EventKind = 11 // leadership transfer gave up
	EventLogTruncated     EventKind = 12 // conflicting entries were removed
	EventCommitted        EventKind = 13 // commit index advanced
	EventMessageRejected  EventKind = 14 // a malformed or foreign message was dropped
	EventProposalDropped  EventKind = 15 // a proposal could not be accepted
	EventPreVoteCancelled EventKind = 16 // pre-vote did not reach a majority
	// EventCoreError reports that the core itself failed: a panic inside
	// raft.wasm, or no engine to run. The host must discard the core and
	// recreate it from storage.
	EventCoreError EventKind = 17
	// EventConfChangeProposed: the leader appended a configuration change.
	EventConfChangeProposed EventKind = 18
	// EventMembershipChanged: a committed configuration change took effect.
	EventMembershipChanged EventKind = 19
	// EventSnapshotSending: a leader began sending a snapshot (or a
	// follower refused one).
	EventSnapshotSending EventKind = 20
	// EventSnapshotInstalled: a follower installed a leader's snapshot.
	EventSnapshotInstalled EventKind = 21
	// EventLogCompacted: a snapshot was taken and the log before it dropped.
	EventLogCompacted EventKind = 22
	// EventInputsRejected reports that raft.wasm refused a batch of inputs
	// whose framing is broken (see abi.DecodeInputs) and handled none of
	// it. The core is intact: the host answers the batch's requests with
	// an error and keeps it.
	EventInputsRejected EventKind = 23
)

var eventKindNames = [...]string{
	EventElectionStarted:    "election-started",
	EventPreVoteStarted:     "pre-vote-started",
	EventElected:            "elected",
	EventSteppedDown:        "stepped-down",
	EventTermChanged:        "term-changed",
	EventVoteGranted:        "vote-granted",
	EventVoteRejected:       "vote-rejected",
	EventLeaderChanged:      "leader-changed",
	EventQuorumLost:         "quorum-lost",
	EventTransferStarted:    "transfer-started",
	EventTransferAborted:    "transfer-aborted",
	EventLogTruncated:       "log-truncated",
	EventCommitted:          "committed",
	EventMessageRejected:    "message-rejected",
	EventProposalDropped:    "proposal-dropped",
	EventPreVoteCancelled:   "pre-vote-cancelled",
	EventCoreError:          "core-error",
	EventConfChangeProposed: "conf-change-proposed",
	EventMembershipChanged:  "membership-changed",
	EventSnapshotSending:    "snapshot-sending",
	EventSnapshotInstalled:  "snapshot-installed",
	EventLogCompacted:       "log-compacted",
	EventInputsRejected:     "inputs-rejected",
}

// String returns the kind's name, such as "elected", or "unknown".
func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && eventKindNames[k] != "" {
		return eventKindNames[k]
	}
	return "unknown"
}

// Event is a structured, human-readable fact about a node, such as "elected
// leader for term 4". Events are the raw material of logs and dashboards; no
// decision depends on them.
type Event struct {
	Kind EventKind
	Term uint64
	// Peer is the other node involved, or 0.
	Peer uint64
	// Index is the log index involved, or 0.
	Index uint64
	Text  string
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// event records an event for the next Ready.
func (n *Node) event(kind EventKind, peer, index uint64, text string) {
	n.out.Events = append(n.out.Events, Event{Kind: kind, Term: n.term, Peer: peer, Index: index, Text: text})
}
