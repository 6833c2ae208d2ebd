// Package transport carries Raft messages between wraft daemons over TCP,
// optionally secured with mutual TLS, notices dead connections within
// about an election timeout, and injects faults (drops, delays,
// partitions, stalls) on request for chaos testing.
//
// # Connections
//
// A Transport listens at one address and keeps one outgoing connection to
// every other member. A connection carries messages one way only, from the
// node that dialled it: a message from node 1 to node 2 travels on node 1's
// connection to node 2, and node 2 answers on its own connection to node 1.
// The receiver writes back only acknowledgements, which tell the dialler
// that the connection still works.
//
// Each peer has a bounded send queue (Config.QueueLen messages in each of
// its two lanes, and Config.QueueBytes bytes). Send encodes the message and
// appends it to the queue without blocking; when the queue is full the
// message is dropped and counted, which Raft tolerates. Messages wait in
// the queue while the peer is unreachable, so a slow or dead peer costs at
// most its queue's bytes. Appends, proposals and snapshots (MsgApp,
// MsgProp, MsgSnap) go in the bulk lane, in order; every other message goes
// in the control lane, which is written first, so that a heartbeat or a
// vote never waits behind queued appends (it may still wait behind a frame
// being written and what the kernel holds). A writer per peer drains the
// queue through a buffered writer that it flushes whenever the queue is
// empty, so a burst of small messages shares one system call.
//
// # Noticing a dead connection
//
// A TCP connection whose packets are silently dropped (a pulled cable, a
// firewall, a peer that lost power) raises no error: writes fill the
// kernel's buffer, retransmissions back off to seconds apart, and a link
// that heals stays silent until the next one. So the transport watches its
// connections itself, with times that follow from Config.ElectionTimeout
// (T; the Raft election timeout before jitter, DefaultElectionTimeout if
// zero):
//
//   - The dialler writes a ping when its connection has been idle for T/2.
//     The receiver acknowledges a ping at once and otherwise, every T/4,
//     the frames it has read, pings included, if any frame or byte came
//     since its last acknowledgement (or a delivery blocks its reader: it
//     is slow, not gone).
//   - A dialler whose connection has acknowledged nothing for T while
//     frames waited for it closes the connection (counted in
//     PeerStats.Silent, logged as "no acknowledgement from peer") and
//     redials. On a link whose round trip is long the limit is longer:
//     twice the smoothed round trip (first measured by the hello, then by
//     acknowledgements) plus T/4. A dialler that was itself starved of CPU
//     for more than T/2 restarts the wait instead.
//   - Dials are retried with exponential backoff and jitter from 20 ms up
//     to T/2 (at most 1 s). The TCP connect of a dial may take 2T (at
//     least 1 s, at most 5 s); while it is pending, a fresh connect starts
//     every T/2 (at most three pending at once, the first kept throughout)
//     and the first to succeed wins, so that a connect whose SYN a cut
//     network lost, which the kernel resends only after a second, does
//     not hold up the dial after the network heals. The TLS handshake and
//     hello exchange then may take 2T again, or four times the connect's
//     time if that is longer, so that a slow link is not refused. When a
//     peer's connection to us is accepted, our dial to it is retried at
//     once.
//   - A vote, pre-vote, heartbeat or answer to one that waited in the queue
//     for longer than T, or whose term is below that of a message queued
//     after it (pre-votes and their answers, whose terms run one ahead, do
//     not count as newer), is dropped when its turn comes instead of
//     written (counted in PeerStats.Stale): Raft has sent newer ones.
//     Appends and everything else are kept.
//   - The receiver closes a connection on which nothing arrived for 4T.
//   - A write that makes no progress for 10 s breaks the connection.
//   - Every connection has TCP keepalives (after max(T, 1 s) idle, then a
//     probe a second for three) and, on Linux, TCP_USER_TIMEOUT of
//     max(2T, 1 s), so that the kernel too gives up on a dead peer.
//
// # Wire format
//
// Everything on a connection is a frame: a 4-byte big-endian length n, then
// n bytes, with 0 < n <= the receiver's limit. The first frame from the
// dialler is a hello:
//
//	"wraft"   magic, 5 bytes
//	u8        protocol version, ProtocolVersion (2)
//	uvarint   sender id
//	uvarint   receiver id: the member the dialler means to reach
//	string    optional: the dialler's API URL (Config.APIURL), a uvarint
//	          length (1 to wire.MaxAddrBytes) and its bytes; version 2 only
//
// (uvarint as package wire defines it, at most 64+wire.MaxAddrBytes bytes
// in all). The receiver checks the hello and answers with a hello of its
// own, of the same version, its id as sender and the dialler's as
// receiver and no API URL, or closes the connection. It remembers the API
// URL of an accepted hello as its sender's (Transport.PeerAPIs): that is
// how every member's API URL reaches the leader, over the cluster's own,
// identity-checked channel, without any HTTP credential. After that the dialler sends frames of two kinds:
//
//	message   encoded by wire.AppendMessage, whose first byte is wire.Version (never 0)
//	ping      one byte, 0
//
// and the receiver sends acknowledgements, each a 0 byte and then a
// uvarint: the number of frames it has read from the connection so far,
// pings included (at most 16 bytes).
//
// A receiver also accepts a hello of version 1, the protocol before pings
// and acknowledgements: it answers with version 1 and sends nothing more.
// A dialler sends version 2 and wants a version-2 answer, so a node of
// this version cannot reach one of the previous version: upgrade a whole
// cluster together. A receiver accepts a version-2 hello with or without
// an API URL; a receiver of a release before the API URL refuses a hello
// that carries one, so such a release too must be upgraded cluster-wide.
//
// # Who is accepted
//
// The receiver refuses, logging at Warn with the remote address and the
// reason, a connection whose hello is malformed, has another version, names
// a sender that is not in its Peers (or is itself) or a receiver other than
// itself, or, with TLS, whose client certificate does not verify or does
// not name the sender. A sender that is not a member yet is first waited
// for, for half of Config.HandshakeTimeout, since it may know of a new
// configuration before the receiver does (or the receiver may be
// restarting): if SetPeers adds it meanwhile, it is accepted. Peers are
// registered before the listener accepts anything. The TLS handshake and
// the hello must be done within Config.HandshakeTimeout (2T, at least 1 s
// and at most 5 s, by default). At most Config.MaxInboundConns accepted
// connections are open at once, those in their handshake included; the
// listener closes any more at once, counting them as refused and logging
// the first and every hundredth. A frame longer than Config.MaxFrameBytes
// (checked before anything is allocated), a frame that is not a valid
// message (or ping), and a message whose From is not the hello's sender
// or whose To is not the receiver close the connection with a log line.
// Network input never causes a panic.
//
// Without TLS any process that can reach the port may claim to be a member:
// use plain TCP only on a trusted network.
//
// # Certificates
//
// With TLS, every node presents a certificate that names it by a DNS
// subject alternative name "node-<id>", such as "node-3" (see NodeName),
// and no other node (matched exactly, so a wildcard names none: see
// CertIdentity), and
// that is valid for both server and client authentication (extended key
// usages serverAuth and clientAuth, or none). The CommonName is ignored, as
// Go's host name verification ignores it. All certificates are issued by a
// CA that every node trusts (LoadTLS's caFile). A dialler verifies that the
// listener's certificate names the peer it meant to reach; a listener
// verifies that the dialler's certificate names the sender of its hello.
// `wraft certs` (package internal/certs) and package transporttest create
// such certificates.
//
// # Faults
//
// SetFaults injects faults for chaos testing, as the admin API asks:
// DropRate and Delay/Jitter act on outgoing messages, each peer having its
// own delay line, so delaying one peer never holds up another; Blocked cuts
// the listed peers both ways, dropping messages but keeping connections
// up; Stalled holds the listed peers' connections both ways as a
// blackholed TCP connection is held, and lets them go only at their next
// retransmission after the stall ends, so that tests see what the
// transport's own liveness checks do about it without network namespaces.
// Faults act on one node: to delay a link both ways, set them on both of
// its ends (a stall, which holds both connections of the link, needs one).
package transport
