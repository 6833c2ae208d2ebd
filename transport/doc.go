// Package transport carries Raft messages between wraft daemons over TCP,
// optionally secured with mutual TLS, and injects faults (drops, delays,
// partitions) on request for chaos testing.
//
// # Connections
//
// A Transport listens at one address and keeps one outgoing connection to
// every other member. A connection carries messages one way only, from the
// node that dialled it: a message from node 1 to node 2 travels on node 1's
// connection to node 2, and node 2 answers on its own connection to node 1.
// An outgoing connection is dialled at once and again after any failure,
// with exponential backoff and jitter from 50 ms up to 1 s.
//
// Each peer has a bounded send queue (Config.QueueLen messages and
// Config.QueueBytes bytes). Send encodes the message and appends it to the
// queue without blocking; when the queue is full the message is dropped and
// counted, which Raft tolerates. Messages wait in the queue while the peer
// is unreachable, so a slow or dead peer costs at most its queue's bytes. A
// writer per peer drains the queue through a buffered writer that it
// flushes whenever the queue is empty, so a burst of small messages shares
// one system call. A write that makes no progress for 10 s breaks the
// connection, which is then redialled.
//
// # Wire format
//
// Everything on a connection is a frame: a 4-byte big-endian length n, then
// n bytes, with 0 < n <= the receiver's limit. The first frame from the
// dialler is a hello:
//
//	"wraft"   magic, 5 bytes
//	u8        protocol version, ProtocolVersion (1)
//	uvarint   sender id
//	uvarint   receiver id: the member the dialler means to reach
//
// (uvarint as package wire defines it, at most 64 bytes in all). The
// receiver checks the hello and answers with a hello of its own, its id as
// sender and the dialler's as receiver, or closes the connection. After
// that the dialler sends messages, one a frame, each encoded by
// wire.AppendMessage; the receiver sends nothing more.
//
// # Who is accepted
//
// The receiver refuses, logging at Warn with the remote address and the
// reason, a connection whose hello is malformed, has another version, names
// a sender that is not in its Peers (or is itself) or a receiver other than
// itself, or, with TLS, whose client certificate does not verify or does
// not name the sender. A frame longer than Config.MaxFrameBytes (checked
// before anything is allocated), a frame that is not a valid message, and a
// message whose From is not the hello's sender or whose To is not the
// receiver close the connection with a log line. Network input never causes
// a panic.
//
// Without TLS any process that can reach the port may claim to be a member:
// use plain TCP only on a trusted network.
//
// # Certificates
//
// With TLS, every node presents a certificate that names it by a DNS
// subject alternative name "node-<id>", such as "node-3" (see NodeName), and
// that is valid for both server and client authentication (extended key
// usages serverAuth and clientAuth, or none). The CommonName is ignored, as
// Go's host name verification ignores it. All certificates are issued by a
// CA that every node trusts (LoadTLS's caFile). A dialler verifies that the
// listener's certificate names the peer it meant to reach; a listener
// verifies that the dialler's certificate names the sender of its hello.
// Package transporttest creates such certificates.
//
// # Faults
//
// SetFaults injects faults for chaos testing, as the admin API asks:
// DropRate and Delay/Jitter act on outgoing messages, each peer having its
// own delay line, so delaying one peer never holds up another; Blocked cuts
// the listed peers both ways. Faults act on one node: to delay a link both
// ways, set them on both of its ends.
package transport
