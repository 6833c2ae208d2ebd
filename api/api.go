// Package api holds the types of wraft's HTTP/JSON client API, shared by
// the daemon (package server) and its clients (package client).
package api

// Headers that carry a client session, so that a retried write applies at
// most once. Without them, each request is its own session.
const (
	HeaderClient = "X-Wraft-Client"
	HeaderSeq    = "X-Wraft-Seq"
)

// Reply is the API's answer to a key-value request.
type Reply struct {
	Code   string `json:"code"`
	OK     bool   `json:"ok"`
	Index  uint64 `json:"index,omitempty"`
	Term   uint64 `json:"term,omitempty"`
	Acks   int    `json:"acks,omitempty"`
	Voters int    `json:"voters"`
	Alive  int    `json:"alive"`
	Leader uint64 `json:"leader"`
	Found  bool   `json:"found"`
	Value  string `json:"value,omitempty"`
	Error  string `json:"error,omitempty"`
	// Waited reports that the request waited for an election first.
	Waited bool `json:"waited,omitempty"`
	// LeaderAPI is the leader's API URL, when the answering node knows it
	// (a follower that could not forward a membership change names it).
	LeaderAPI string `json:"leader_api,omitempty"`
}

// Status is a node's status as the API reports it.
type Status struct {
	ID          uint64   `json:"id"`
	Role        string   `json:"role"`
	Term        uint64   `json:"term"`
	Vote        uint64   `json:"vote"`
	Leader      uint64   `json:"leader"`
	Commit      uint64   `json:"commit"`
	Applied     uint64   `json:"applied"`
	LastIndex   uint64   `json:"last_index"`
	LastTerm    uint64   `json:"last_term"`
	Voters      []uint64 `json:"voters"`
	Alive       int      `json:"alive"`
	Quorum      int      `json:"quorum"`
	Keys        int      `json:"keys"`
	Pending     int      `json:"pending"`
	PreVote     bool     `json:"pre_vote"`
	CheckQuorum bool     `json:"check_quorum"`
	Transferee  uint64   `json:"transferee,omitempty"`
	// Snapshot is the index of the node's newest snapshot (0 if none);
	// its log starts at FirstIndex.
	Snapshot   uint64 `json:"snapshot"`
	FirstIndex uint64 `json:"first_index"`
	// Members is the configuration as this node knows it.
	Members  []Member   `json:"members,omitempty"`
	Progress []Progress `json:"progress,omitempty"`
	Core     string     `json:"core,omitempty"`
	API      string     `json:"api,omitempty"`
	Peer     string     `json:"peer,omitempty"`
	// PID is the node's process id, for tools on the same machine.
	PID int `json:"pid,omitempty"`
}

// Progress is the leader's view of one member.
type Progress struct {
	ID       uint64 `json:"id"`
	Learner  bool   `json:"learner,omitempty"`
	Match    uint64 `json:"match"`
	Next     uint64 `json:"next"`
	State    string `json:"state"`
	Active   bool   `json:"active"`
	Inflight int    `json:"inflight"`
}

// Event is one event on the /v1/events stream.
type Event struct {
	Type  string `json:"type"` // "event"
	Node  uint64 `json:"node"`
	Kind  string `json:"kind"`
	Term  uint64 `json:"term"`
	Peer  uint64 `json:"peer,omitempty"`
	Index uint64 `json:"index,omitempty"`
	Text  string `json:"text"`
}

// Faults is the body of POST /v1/admin/faults and the answer of every
// admin endpoint: the faults now in force on this node's peer links.
type Faults struct {
	// Blocked lists peers cut off in both directions.
	Blocked []uint64 `json:"blocked"`
	// DelayMS delays every outgoing message, JitterMS adds up to that much.
	DelayMS  int `json:"delay_ms"`
	JitterMS int `json:"jitter_ms"`
	// DropRate drops that fraction of outgoing messages (0 to 1).
	DropRate float64 `json:"drop_rate"`
}

// Member is one member of the cluster, as GET /v1/members lists it.
type Member struct {
	ID uint64 `json:"id"`
	// Role is "voter" or "learner".
	Role string `json:"role"`
	// Raft is the member's peer address (host:port); API its client API
	// URL, empty when unknown.
	Raft string `json:"raft,omitempty"`
	API  string `json:"api,omitempty"`
	// Match and State are the leader's replication progress to the
	// member, present when the answer comes from the leader.
	Match  uint64 `json:"match,omitempty"`
	State  string `json:"state,omitempty"`
	Active bool   `json:"active,omitempty"`
}

// Members is the answer of GET /v1/members and of every successful
// membership change: the configuration after it.
type Members struct {
	// Leader is the leader as the answering node knows it (0 if unknown);
	// From is the node that answered.
	Leader  uint64   `json:"leader"`
	From    uint64   `json:"from"`
	Members []Member `json:"members"`
	// Index is the log index of the change (changes only).
	Index uint64 `json:"index,omitempty"`
}

// AddMember is the body of POST /v1/members. Learner defaults to true:
// a new member should catch up as a learner before it is promoted.
type AddMember struct {
	ID      uint64 `json:"id"`
	Raft    string `json:"raft"`
	API     string `json:"api,omitempty"`
	Learner *bool  `json:"learner,omitempty"`
}
