package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"time"

	"github.com/wraft/wraft/wire"
)

// Defaults for the zero fields of a Config.
const (
	// DefaultMaxFrameBytes is the default limit on a frame's length: the
	// largest message package wire decodes.
	DefaultMaxFrameBytes = wire.MaxMessageBytes
	// DefaultQueueLen is the default number of messages a peer's send queue
	// holds.
	DefaultQueueLen = 1024
	// DefaultQueueBytes is the default number of encoded bytes a peer's send
	// queue holds (raised to MaxFrameBytes if that is larger).
	DefaultQueueBytes = 64 << 20
	// DefaultElectionTimeout is the default Config.ElectionTimeout.
	DefaultElectionTimeout = time.Second
	// DefaultMaxInboundConns is the default Config.MaxInboundConns.
	DefaultMaxInboundConns = 128
)

// Config configures a Transport.
type Config struct {
	// ID is this node's id; it must not be 0.
	ID uint64
	// Listen is the TCP address to listen at, such as "127.0.0.1:7001"; it
	// is ignored when Listener is set.
	Listen string
	// Listener, if set, is used instead of listening at Listen; New takes
	// ownership of it, closing it on Close or if New fails. Tests use it to
	// learn every node's address (listening at "127.0.0.1:0") before any
	// Transport exists, so that each Config's Peers can be filled in.
	Listener net.Listener
	// Peers maps every other member's id to its address. It may include ID
	// itself, which is ignored. No id may be 0 and no address empty. The
	// map is copied; SetPeers changes the members later.
	Peers map[uint64]string
	// TLS, if set, secures every connection with mutual TLS; nil means plain
	// TCP. It is used both to listen (with ClientAuth forced to
	// RequireAndVerifyClientCert) and to dial (with ServerName set to the
	// peer's NodeName). Certificates[0] must be this node's certificate and
	// name NodeName(ID); the CA pool is RootCAs or, if that is nil,
	// ClientCAs, and one of them must be set. LoadTLS builds such a config.
	TLS *tls.Config
	// MaxFrameBytes limits the length of a frame in both directions: a
	// longer message is not sent (it is dropped and counted) and a longer
	// incoming frame closes its connection. Zero means
	// DefaultMaxFrameBytes, which is also the maximum.
	MaxFrameBytes int
	// QueueLen is the number of messages each lane of each peer's send
	// queue holds (the delay line of Faults.Delay holds as many again; the
	// package documentation describes the lanes). Zero means
	// DefaultQueueLen. When a queue is full, new messages are dropped and
	// counted.
	QueueLen int
	// QueueBytes is the number of encoded bytes each peer's send queue and
	// delay line hold together. Zero means DefaultQueueBytes; it may not be
	// below MaxFrameBytes.
	QueueBytes int
	// ElectionTimeout is the Raft election timeout (the base, before
	// jitter), which sets how quickly the transport gives up on a silent
	// connection; see the package documentation. Zero means
	// DefaultElectionTimeout.
	ElectionTimeout time.Duration
	// HandshakeTimeout bounds an incoming connection's TLS handshake and
	// hello. Zero means twice ElectionTimeout, at least 1 s and at most
	// 5 s.
	HandshakeTimeout time.Duration
	// MaxInboundConns bounds the incoming connections open at once, those
	// still in their handshake included; one more is closed at once. Zero
	// means DefaultMaxInboundConns.
	MaxInboundConns int
	// APIURL is the URL of this node's HTTP API, which every hello this
	// node sends as a dialler announces to the peer it reaches (see
	// Transport.PeerAPIs). Empty announces none. It may be at most
	// wire.MaxAddrBytes long; the transport does not otherwise check it.
	APIURL string
	// Logger receives the transport's logs. Nil discards them.
	Logger *slog.Logger
}

// withDefaults checks c and returns it with its zero fields set and Peers
// copied, less ID.
func (c Config) withDefaults() (Config, error) {
	if c.ID == 0 {
		return c, errors.New("transport: node id 0 is reserved")
	}
	if c.Listener == nil && c.Listen == "" {
		return c, errors.New("transport: no listen address")
	}
	peers, err := clonePeers(c.Peers, c.ID)
	if err != nil {
		return c, err
	}
	c.Peers = peers
	if len(c.APIURL) > wire.MaxAddrBytes {
		return c, fmt.Errorf("transport: API URL of %d bytes is longer than %d", len(c.APIURL), wire.MaxAddrBytes)
	}
	switch {
	case c.MaxFrameBytes == 0:
		c.MaxFrameBytes = DefaultMaxFrameBytes
	case c.MaxFrameBytes < 0 || c.MaxFrameBytes > wire.MaxMessageBytes:
		return c, fmt.Errorf("transport: max frame bytes %d out of range (1 to %d)", c.MaxFrameBytes, wire.MaxMessageBytes)
	}
	switch {
	case c.QueueLen == 0:
		c.QueueLen = DefaultQueueLen
	case c.QueueLen < 0:
		return c, fmt.Errorf("transport: negative queue length %d", c.QueueLen)
	}
	switch {
	case c.QueueBytes == 0:
		c.QueueBytes = max(DefaultQueueBytes, c.MaxFrameBytes+frameHeaderBytes)
	case c.QueueBytes < c.MaxFrameBytes+frameHeaderBytes:
		return c, fmt.Errorf("transport: queue bytes %d below max frame bytes %d (+%d for the header)", c.QueueBytes, c.MaxFrameBytes, frameHeaderBytes)
	}
	if c.TLS != nil {
		if err := checkTLS(c.TLS, c.ID); err != nil {
			return c, err
		}
	}
	switch {
	case c.ElectionTimeout == 0:
		c.ElectionTimeout = DefaultElectionTimeout
	case c.ElectionTimeout < minElectionTimeout:
		return c, fmt.Errorf("transport: election timeout %v too short (minimum %v)", c.ElectionTimeout, minElectionTimeout)
	}
	switch {
	case c.HandshakeTimeout == 0:
		c.HandshakeTimeout = min(max(2*c.ElectionTimeout, time.Second), 5*time.Second)
	case c.HandshakeTimeout < 0:
		return c, fmt.Errorf("transport: negative handshake timeout %v", c.HandshakeTimeout)
	}
	switch {
	case c.MaxInboundConns == 0:
		c.MaxInboundConns = DefaultMaxInboundConns
	case c.MaxInboundConns < 0:
		return c, fmt.Errorf("transport: negative inbound connection limit %d", c.MaxInboundConns)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// minElectionTimeout is the shortest Config.ElectionTimeout.
const minElectionTimeout = 10 * time.Millisecond

// timing holds the durations that follow from a Config's election timeout
// (T); the package documentation explains them.
type timing struct {
	// silence closes an outgoing connection that has acknowledged nothing
	// for this long while something was sent on it: T.
	silence time.Duration
	// ackEvery is how often a receiver acknowledges what arrived: T/4.
	ackEvery time.Duration
	// pingEvery is how long an outgoing connection may stay idle before it
	// carries a ping: T/2.
	pingEvery time.Duration
	// idle closes an incoming connection on which nothing arrived for this
	// long: 4T.
	idle time.Duration
	// stale is how long a vote, pre-vote, heartbeat or answer to one may
	// wait in a send queue: T.
	stale time.Duration
	// dial bounds a dial, TLS handshake and hello exchange: 2T, at least
	// 1 s and at most 5 s.
	dial time.Duration
	// stagger is how often a dial whose TCP connect is pending starts
	// another: T/2, at least minBackoff.
	stagger time.Duration
	// maxBackoff caps the wait between dials: T/2, at least minBackoff and
	// at most 1 s.
	maxBackoff time.Duration
	// userTimeout is TCP_USER_TIMEOUT, where supported: 2T, at least 1 s.
	userTimeout time.Duration
	// keepAlive is the idle time before TCP keepalive probes: T, at least
	// 1 s (the kernel counts in seconds).
	keepAlive time.Duration
}

func (c Config) timing() timing {
	t := c.ElectionTimeout
	return timing{
		silence:     t,
		ackEvery:    t / 4,
		pingEvery:   t / 2,
		idle:        4 * t,
		stale:       t,
		dial:        min(max(2*t, time.Second), 5*time.Second),
		stagger:     max(t/2, minBackoff),
		maxBackoff:  min(max(t/2, minBackoff), time.Second),
		userTimeout: max(2*t, time.Second),
		keepAlive:   max(t, time.Second),
	}
}

func checkPeer(id uint64, addr string) error {
	if id == 0 {
		return errors.New("transport: peer id 0 is reserved")
	}
	if addr == "" {
		return fmt.Errorf("transport: peer %d has no address", id)
	}
	return nil
}

// clonePeers copies peers less self, checking every entry.
func clonePeers(peers map[uint64]string, self uint64) (map[uint64]string, error) {
	out := maps.Clone(peers)
	if out == nil {
		out = map[uint64]string{}
	}
	delete(out, self)
	for id, addr := range out {
		if err := checkPeer(id, addr); err != nil {
			return nil, err
		}
	}
	return out, nil
}
