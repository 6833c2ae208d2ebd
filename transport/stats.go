package transport

import "sync/atomic"

// Stats is a snapshot of a Transport's counters, for metrics and status.
// Counters only grow, except that a peer removed by SetPeers loses its own.
type Stats struct {
	// Peers holds one entry a member, by ascending ID.
	Peers []PeerStats
	// Refused counts incoming connections refused at the handshake, and
	// those closed at once for exceeding Config.MaxInboundConns.
	Refused uint64
	// Unroutable counts messages dropped because their To was not a member.
	Unroutable uint64
}

// PeerStats describes the traffic with one member.
type PeerStats struct {
	ID   uint64
	Addr string
	// Connected says the connection to the peer is up, its hello answered.
	Connected bool
	// Inbound says the peer's connection to this node is up.
	Inbound bool
	// Sent counts messages written to the peer's connection.
	Sent uint64
	// Dropped counts outgoing messages lost: found the queue full, were
	// larger than MaxFrameBytes, or were being written when the
	// connection broke.
	Dropped uint64
	// Stale counts outgoing votes, pre-votes, heartbeats and their
	// answers dropped because they waited in the queue for longer than an
	// election timeout or behind a message of a newer term.
	Stale uint64
	// Silent counts connections to the peer closed because the peer
	// acknowledged nothing for an election timeout while messages or
	// pings waited (see the package documentation).
	Silent uint64
	// Faulted counts messages that injected faults discarded, both ways.
	Faulted uint64
	// Received counts messages delivered from the peer.
	Received uint64
	// Queued and QueuedBytes measure what waits in the peer's send queue
	// and delay line.
	Queued      int
	QueuedBytes int
}

// counters are a member's counters; they survive a change of its address.
type counters struct {
	sent, dropped, stale, silent, faulted, received atomic.Uint64
}
