package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/wraft/wraft/raft"
)

// ErrClosed is returned by SetPeers after Close.
var ErrClosed = errors.New("transport: closed")

// maxUnknownLogged bounds the set of unknown destinations Send has logged.
const maxUnknownLogged = 64

// Transport sends Raft messages to the members of a cluster and delivers
// the messages they send. Its methods are safe for concurrent use.
type Transport struct {
	cfg       Config // as withDefaults returned it; cfg.Peers is not used after New
	timing    timing // from cfg.ElectionTimeout
	deliver   func(raft.Message)
	log       *slog.Logger
	ln        net.Listener
	serverTLS *tls.Config // nil for plain TCP
	clientTLS *tls.Config // nil for plain TCP

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine t started

	faults     atomic.Pointer[faultState]
	refused    atomic.Uint64
	unroutable atomic.Uint64
	// inboundConns counts accepted connections not yet closed.
	// Invariant: inboundConns <= cfg.MaxInboundConns.
	inboundConns atomic.Int64
	// overCap counts connections closed for exceeding MaxInboundConns, to
	// log only some.
	overCap atomic.Uint64

	mu sync.RWMutex
	// closed is set by Close. Invariant: no goroutine is added to wg once
	// closed is set.
	closed bool
	// peers holds the members other than t itself.
	peers map[uint64]*peer
	// inbound holds the connection each member dialled to t, once its hello
	// was accepted; a new one from the same member replaces it.
	inbound map[uint64]net.Conn
	// apis holds the API URL each member's latest accepted hello
	// announced, if it announced one; a member removed by SetPeers is
	// forgotten.
	apis map[uint64]string
	// unknown holds the destinations of Send that were not members and have
	// been logged, so that each is logged once.
	unknown map[uint64]bool
	// peersChanged is closed, and replaced, when SetPeers changes peers.
	peersChanged chan struct{}
}

// New listens at cfg.Listen (or takes cfg.Listener), so that a port already
// in use is an error here, and starts accepting connections and dialling
// every peer. Deliver is called, from the Transport's goroutines and
// possibly from several at once, with every valid message a member sends;
// it must not block for long, since the member's connection waits for it.
// Deliver is never called after Close returns.
func New(cfg Config, deliver func(raft.Message)) (*Transport, error) {
	ln := cfg.Listener
	cfg, err := cfg.withDefaults()
	if err == nil && deliver == nil {
		err = errors.New("transport: nil deliver function")
	}
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return nil, err
	}
	t := newTransport(cfg, deliver)
	t.ln = cfg.Listener
	if t.ln == nil {
		if t.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			t.cancel()
			return nil, fmt.Errorf("transport: listen: %w", err)
		}
	}
	if cfg.TLS != nil {
		t.serverTLS = serverTLS(cfg.TLS)
		t.clientTLS = clientTLS(cfg.TLS)
	}
	t.log.Info("transport: listening", "addr", t.ln.Addr().String(), "tls", cfg.TLS != nil, "election_timeout", cfg.ElectionTimeout)
	// Peers first: a hello accepted at once must find its sender.
	t.mu.Lock()
	for id, addr := range cfg.Peers {
		t.startPeer(id, addr, &counters{})
	}
	t.mu.Unlock()
	t.wg.Add(1)
	go t.acceptLoop()
	return t, nil
}

// newTransport returns a Transport that neither listens nor dials.
func newTransport(cfg Config, deliver func(raft.Message)) *Transport {
	t := &Transport{
		cfg:          cfg,
		timing:       cfg.timing(),
		deliver:      deliver,
		log:          cfg.Logger,
		peers:        map[uint64]*peer{},
		inbound:      map[uint64]net.Conn{},
		apis:         map[uint64]string{},
		unknown:      map[uint64]bool{},
		peersChanged: make(chan struct{}),
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.faults.Store(newFaultState(Faults{}))
	return t
}

// Addr returns the address t listens at, useful after listening at port 0.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Send queues m for sending to member m.To and returns without blocking.
// The message is encoded at once, so the caller may reuse m afterwards. A
// message to t itself is ignored. A message to an id that is not a member,
// one longer than MaxFrameBytes and one that finds the peer's queue full
// are dropped and counted (see Stats); the first two are also logged, an
// unknown destination only once. A vote, pre-vote, heartbeat or answer to
// one may still be dropped as stale when its turn to be written comes (see
// the package documentation). Send after Close does nothing.
func (t *Transport) Send(m raft.Message) {
	if m.To == t.cfg.ID || t.ctx.Err() != nil {
		return
	}
	t.mu.RLock()
	p := t.peers[m.To]
	t.mu.RUnlock()
	if p == nil {
		t.unroutable.Add(1)
		t.logUnknown(m.To)
		return
	}
	f := t.faults.Load()
	if f.blocked[m.To] || f.drop() {
		p.c.faulted.Add(1)
		return
	}
	q := queued{frame: appendMessageFrame(make([]byte, 0, sizeHint(m)), m), typ: m.Type, term: m.Term}
	if n := len(q.frame) - frameHeaderBytes; n > t.cfg.MaxFrameBytes {
		p.c.dropped.Add(1)
		t.log.Warn("transport: message too large to send", "peer", m.To, "type", m.Type.String(), "bytes", n, "max", t.cfg.MaxFrameBytes)
		return
	}
	if d := f.delay(); d > 0 {
		p.delay(q, d)
		return
	}
	p.enqueue(q)
}

func (t *Transport) logUnknown(id uint64) {
	t.mu.Lock()
	first := !t.unknown[id] && len(t.unknown) < maxUnknownLogged
	if first {
		t.unknown[id] = true
	}
	t.mu.Unlock()
	if first {
		t.log.Warn("transport: dropping messages to unknown peer", "peer", id)
	}
}

// SetPeers replaces the members t talks to, as Config.Peers does: a new
// member is dialled, a removed one's queue, connections and counters are
// dropped, and one whose address changed is redialled (keeping its
// counters and its connection to t). It returns once removed members'
// goroutines have stopped. After Close it returns ErrClosed.
func (t *Transport) SetPeers(peers map[uint64]string) error {
	peers, err := clonePeers(peers, t.cfg.ID)
	if err != nil {
		return err
	}
	var stopped []*peer
	var conns []net.Conn
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	for id, p := range t.peers {
		addr, ok := peers[id]
		if ok && addr == p.addr {
			continue
		}
		stopped = append(stopped, p)
		delete(t.peers, id)
		if !ok {
			delete(t.apis, id)
			if c := t.inbound[id]; c != nil {
				conns = append(conns, c)
				delete(t.inbound, id)
			}
			continue
		}
		t.startPeer(id, addr, p.c)
	}
	for id, addr := range peers {
		if t.peers[id] == nil {
			t.startPeer(id, addr, &counters{})
		}
	}
	close(t.peersChanged)
	t.peersChanged = make(chan struct{})
	t.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	for _, p := range stopped {
		p.stop()
	}
	return nil
}

// PeerAPIs returns the API URL that each member announced in the hello
// of its latest connection to t that t accepted (Config.APIURL on its
// side), for the members that announced one. The transport checks only
// the sender's identity (with TLS, its certificate) and the URL's length:
// the caller must check that it is a URL. A member removed by SetPeers is
// left out; one whose node stops announcing keeps its last URL.
func (t *Transport) PeerAPIs() map[uint64]string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return maps.Clone(t.apis)
}

// Stats returns t's counters and the state of its connections.
func (t *Transport) Stats() Stats {
	t.mu.RLock()
	s := Stats{
		Peers:      make([]PeerStats, 0, len(t.peers)),
		Refused:    t.refused.Load(),
		Unroutable: t.unroutable.Load(),
	}
	for _, id := range slices.Sorted(maps.Keys(t.peers)) {
		s.Peers = append(s.Peers, t.peers[id].stats(t.inbound[id] != nil))
	}
	t.mu.RUnlock()
	return s
}

// Close stops t: it closes the listener and every connection, drops what
// is queued, and returns once all of t's goroutines have ended, which
// includes waiting for calls of deliver to return. Closing again does
// nothing and returns nil.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	err := t.ln.Close()
	t.wg.Wait()
	t.log.Info("transport: closed")
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("transport: close listener: %w", err)
	}
	return nil
}
