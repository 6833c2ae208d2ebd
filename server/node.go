package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/storage"
	"github.com/wraft/wraft/transport"
)

// Node is a running wraft daemon: core, storage, transport and API.
type Node struct {
	cfg Config
	log *slog.Logger

	wal *storage.WAL
	// durable is the hard state storage holds.
	durable raft.HardState
	core    engine.Core
	tr      *transport.Transport
	http    *http.Server
	api     *apiServer
	ln      net.Listener
	// apiURL is where other nodes reach this node's API.
	apiURL string
	// fwd forwards membership requests to the leader and joins.
	fwd *http.Client

	// members is the configuration the transport follows; peerSets
	// carries each new one's peer addresses to setPeers.
	members  []raft.Member
	peerSets chan map[uint64]string

	inbox chan raft.Message
	calls chan *call

	hub     *hub
	metrics *metrics

	mu     sync.RWMutex
	status engine.Status
	events []raft.Event // the newest last, bounded

	cancel context.CancelFunc
	done   chan struct{}
	err    error

	// snapshots counts the snapshots being written in the background, at
	// most one (snapshotting).
	snapshots    sync.WaitGroup
	snapshotting atomic.Bool
}

// call is a client request travelling to the loop and its answer back.
type call struct {
	in   engine.Input // Propose or Read, RequestID set by the loop
	done chan engine.Reply
	// reply is the final reply while carryOut holds it back.
	reply engine.Reply
	// pending is closed if the engine said the request waits (for an
	// election, say) before its final answer.
	pending chan struct{}
}

const maxEvents = 200

// Start opens storage, starts the core, the peer transport, the API and
// the loop. Stop it with Stop. A node with Config.Join and an empty data
// directory first joins the cluster, which may take until JoinTimeout.
func Start(cfg Config) (*Node, error) {
	if err := cfg.check(); err != nil {
		closeListener(cfg.Listener)
		return nil, err
	}
	n := &Node{
		cfg:      cfg,
		log:      cfg.Logger.With("node", cfg.ID),
		inbox:    make(chan raft.Message, 4096),
		calls:    make(chan *call, 1024),
		hub:      newHub(),
		metrics:  newMetrics(cfg.ID),
		done:     make(chan struct{}),
		fwd:      &http.Client{Timeout: requestTimeout + 5*time.Second},
		peerSets: make(chan map[uint64]string, 1),
	}
	var err error
	n.ln, err = net.Listen("tcp", cfg.API)
	if err != nil {
		closeListener(cfg.Listener)
		return nil, fmt.Errorf("server: listen for the API on %s: %w", cfg.API, err)
	}
	n.apiURL = cfg.APIURL
	if n.apiURL == "" {
		n.apiURL = "http://" + n.ln.Addr().String()
	}
	fail := func(err error) (*Node, error) {
		n.ln.Close()
		closeListener(cfg.Listener)
		return nil, err
	}
	wal, st, err := storage.Open(storage.Options{Dir: cfg.DataDir, NoSync: cfg.NoSync, Logger: n.log})
	if err != nil {
		return fail(fmt.Errorf("server: open storage: %w", err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	members, err := n.initialMembers(ctx, st)
	if err != nil {
		cancel()
		wal.Close()
		return fail(err)
	}
	n.cfg.Engine.Raft.Members = members
	n.wal = wal
	if err := n.newCore(st); err != nil {
		cancel()
		wal.Close()
		return fail(err)
	}
	n.members = members
	electionTicks := cfg.Engine.Raft.ElectionTicks
	if electionTicks == 0 {
		electionTicks = raft.DefaultElectionTicks
	}
	n.tr, err = transport.New(transport.Config{
		ID: cfg.ID, Listen: cfg.Peers[cfg.ID], Listener: cfg.Listener, Peers: n.peerAddrs(members), TLS: cfg.TLS, Logger: n.log,
		ElectionTimeout: time.Duration(electionTicks) * cfg.Tick, APIURL: n.advertisedAPI(),
	}, n.deliver)
	if err != nil {
		cancel()
		n.closeCore()
		wal.Close()
		n.ln.Close()
		return nil, fmt.Errorf("server: start transport: %w", err)
	}
	n.api = n.newAPIServer()
	n.http = n.api.srv
	go func() {
		if err := n.http.Serve(n.api.limit(n.ln)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("API server stopped", "err", err)
		}
	}()
	go n.setPeers(ctx)
	go n.loop(ctx)
	go n.announce(ctx)
	if cfg.Join != "" {
		go n.promote(ctx)
	}
	var snap uint64
	if st.Snapshot != nil {
		snap = st.Snapshot.Meta.Index
	}
	n.log.Info("node started", "peer", cfg.Peers[cfg.ID], "api", n.apiURL, "core", cfg.CoreName,
		"snapshot", snap, "restored_entries", len(st.Entries), "term", st.HardState.Term, "members", describe(members))
	return n, nil
}

// peerAddrs returns the peer addresses of ms, this node's included: the
// address in a member's Addr, else the one in Config.Peers. A member with
// neither is left out (and logged): messages to it are dropped.
func (n *Node) peerAddrs(ms []raft.Member) map[uint64]string {
	peers := make(map[uint64]string, len(ms))
	for _, m := range ms {
		addr, _ := ParseAddr(m.Addr)
		if addr == "" {
			addr = n.cfg.Peers[m.ID]
		}
		if addr == "" {
			n.log.Warn("member has no known peer address; it cannot be reached", "member", m.ID)
			continue
		}
		peers[m.ID] = addr
	}
	delete(peers, n.cfg.ID)
	return peers
}

// setPeers hands the transport each new set of peers, off the loop:
// SetPeers waits for a removed peer's goroutines to stop.
func (n *Node) setPeers(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case peers := <-n.peerSets:
			if err := n.tr.SetPeers(peers); err != nil && !errors.Is(err, transport.ErrClosed) {
				n.log.Error("cannot update the peers", "err", err)
			}
		}
	}
}

// followMembers points the transport at a new configuration, on the loop.
func (n *Node) followMembers(ms []raft.Member) {
	if len(ms) == 0 || slices.Equal(ms, n.members) {
		return
	}
	n.members = slices.Clone(ms)
	peers := n.peerAddrs(ms)
	// Replace a set setPeers has not taken yet: only the newest counts.
	select {
	case <-n.peerSets:
	default:
	}
	n.peerSets <- peers
	n.log.Info("transport follows the configuration", "members", describe(ms))
}

// closeListener closes a peer listener that Start was given but could not
// hand to the transport.
func closeListener(ln net.Listener) {
	if ln != nil {
		ln.Close()
	}
}

// closeCore releases the core, if it holds resources (a wasm instance).
func (n *Node) closeCore() {
	if c, ok := n.core.(interface{ Close() error }); ok {
		c.Close()
	}
}

// newCore creates the core from what storage holds.
func (n *Node) newCore(st storage.State) error {
	core, err := n.cfg.NewCore(n.cfg.Engine, engine.Restored{HardState: st.HardState, Snapshot: st.Snapshot, Entries: st.Entries})
	if err != nil {
		return fmt.Errorf("server: start core: %w", err)
	}
	n.core = core
	n.durable = st.HardState
	return nil
}

// APIAddr returns the address the API listens on.
func (n *Node) APIAddr() string { return n.ln.Addr().String() }

// Done is closed when the node has stopped, by Stop or by a fatal error.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err returns the error that stopped the node, if any.
func (n *Node) Err() error {
	select {
	case <-n.done:
		return n.err
	default:
		return nil
	}
}

// Stop stops the node and releases its resources.
func (n *Node) Stop() error {
	n.cancel()
	<-n.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n.hub.close()
	_ = n.http.Shutdown(ctx)
	n.tr.Close()
	n.closeCore()
	n.snapshots.Wait()
	return n.wal.Close()
}

// deliver is called by the transport for every message from a peer.
func (n *Node) deliver(m raft.Message) {
	select {
	case n.inbox <- m:
	default:
		n.metrics.inboxDropped.Inc() // the loop is behind; Raft tolerates loss
	}
}

// Status returns the node's latest status.
func (n *Node) Status() engine.Status {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.status
}

// Events returns the most recent events, oldest first.
func (n *Node) Events() []raft.Event {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return append([]raft.Event(nil), n.events...)
}

// Submit hands a client request (an engine.Propose, Read or
// ChangeMembers; its RequestID is set by the node) straight to the core,
// without the checks of the HTTP API, and waits for the final reply or
// until ctx ends. The core answers a request that engine.Validate refuses
// with ReplyInvalid. Submit is what the API's handlers do after their own
// checks; it serves embedding programs and tests.
func (n *Node) Submit(ctx context.Context, in engine.Input) (engine.Reply, error) {
	switch in.(type) {
	case engine.Propose, engine.Read, engine.ChangeMembers:
	default:
		return engine.Reply{}, fmt.Errorf("server: submit: %T is not a client request", in)
	}
	r, _, err := n.submit(ctx, in)
	return r, err
}

// submit hands a request to the loop and waits for its final reply.
func (n *Node) submit(ctx context.Context, in engine.Input) (engine.Reply, bool, error) {
	c := &call{in: in, done: make(chan engine.Reply, 1), pending: make(chan struct{})}
	select {
	case n.calls <- c:
	case <-ctx.Done():
		return engine.Reply{}, false, ctx.Err()
	case <-n.done:
		return engine.Reply{}, false, errors.New("server: node stopped")
	}
	select {
	case r := <-c.done:
		waited := false
		select {
		case <-c.pending:
			waited = true
		default:
		}
		return r, waited, nil
	case <-ctx.Done():
		return engine.Reply{}, false, ctx.Err()
	case <-n.done:
		return engine.Reply{}, false, errors.New("server: node stopped")
	}
}

// loop is the node's one goroutine that touches the core: it gathers every
// input that arrived since the last batch, hands them over in one Handle
// call, and carries out the effects in order. While it waits on fsync,
// inputs queue up and go into the next batch together, so one fsync covers
// them all (group commit).
func (n *Node) loop(ctx context.Context) {
	defer close(n.done)
	ticker := time.NewTicker(n.cfg.Tick)
	defer ticker.Stop()
	waiting := map[uint64]*call{}
	nextID := rand.Uint64() >> 1 // request ids must not repeat across restarts
	var batch []engine.Input
	take := func(c *call) {
		switch in := c.in.(type) {
		case engine.Propose:
			nextID++
			in.RequestID = nextID
			c.in = in
			waiting[nextID] = c
		case engine.Read:
			nextID++
			in.RequestID = nextID
			c.in = in
			waiting[nextID] = c
		case engine.ChangeMembers:
			nextID++
			in.RequestID = nextID
			c.in = in
			waiting[nextID] = c
		}
		batch = append(batch, c.in)
	}
	const maxBatch = 8192
	for {
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				batch = append(batch, engine.Tick{})
			case m := <-n.inbox:
				batch = append(batch, engine.Receive{Message: m})
			case c := <-n.calls:
				take(c)
			}
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case <-ticker.C:
				batch = append(batch, engine.Tick{})
			case m := <-n.inbox:
				batch = append(batch, engine.Receive{Message: m})
			case c := <-n.calls:
				take(c)
			default:
				break drain
			}
		}
		start := time.Now()
		effects, err := n.core.Handle(batch)
		n.metrics.handle.Observe(time.Since(start).Seconds())
		n.metrics.batch.Observe(float64(len(batch)))
		if errors.Is(err, engine.ErrInputRejected) {
			// The core refused the batch's encoding and handled none of it;
			// it is intact, so it stays. Its requests get an error, its
			// storage acknowledgements go again; Raft tolerates the loss of
			// its messages and ticks.
			n.log.Error("core refused a batch of inputs; keeping the core", "inputs", len(batch), "cause", err)
			batch = n.refuseBatch(batch, waiting, err)
			continue
		}
		batch = batch[:0]
		if err != nil {
			// Only a real failure of the core (a trap, a panic inside
			// raft.wasm) gets here: bad requests are answered by the core.
			n.log.Error("core failed; recreating it from storage", "cause", err)
			if err := n.recreate(); err != nil {
				n.fail(err)
				return
			}
			// The old core's requests died with it; their outcome is unknown.
			for id, c := range waiting {
				c.done <- engine.Reply{RequestID: id, Code: engine.ReplyTimeout, Error: "server: core restarted"}
				delete(waiting, id)
			}
			continue
		}
		if err := n.carryOut(effects, waiting, &batch); err != nil {
			n.fail(err)
			return
		}
	}
}

// refuseBatch answers the requests of a batch the core refused with
// ReplyInvalid and returns the next batch: the refused one's storage
// acknowledgements, which cannot be what broke it.
func (n *Node) refuseBatch(batch []engine.Input, waiting map[uint64]*call, why error) []engine.Input {
	next := batch[:0]
	for _, in := range batch {
		var id uint64
		switch in := in.(type) {
		case engine.Propose:
			id = in.RequestID
		case engine.Read:
			id = in.RequestID
		case engine.ChangeMembers:
			id = in.RequestID
		case engine.StorageAck:
			next = append(next, in)
			continue
		default:
			continue
		}
		if c := waiting[id]; c != nil {
			delete(waiting, id)
			n.metrics.replies.WithLabelValues(engine.ReplyInvalid.String()).Inc()
			c.done <- engine.Reply{RequestID: id, Code: engine.ReplyInvalid, Error: "server: " + why.Error()}
		}
	}
	return next
}

// carryOut performs effects in order, except that final replies go out
// last: once the batch's status and events are published, a client that
// has its answer finds them in /v1/status and /v1/events. Storage
// acknowledgements go into the next batch.
func (n *Node) carryOut(effects []engine.Effect, waiting map[uint64]*call, next *[]engine.Input) error {
	var final []*call
	defer func() {
		for _, c := range final {
			c.done <- c.reply
		}
	}()
	early := n.sendEarly(effects)
	for i, ef := range effects {
		switch ef := ef.(type) {
		case engine.Persist:
			if len(ef.Entries) == 0 && n.sameVote(ef.HardState) {
				// Only the commit index moved. Raft keeps it in volatile
				// state (Figure 2): a node that restarts with an older one
				// learns it again from the leader, and nothing it sent
				// depends on it. So it is written without waiting for the
				// disk (the next fsync carries it), and the replies and
				// messages after it need not wait: one fsync less on the
				// path of every write.
				if _, err := n.wal.Enqueue(ef.HardState, nil); err != nil {
					return fmt.Errorf("server: persist: %w", err)
				}
				continue
			}
			start := time.Now()
			if err := n.wal.Save(ef.HardState, ef.Entries); err != nil {
				return fmt.Errorf("server: persist: %w", err)
			}
			n.durable = ef.HardState
			n.metrics.persist.Observe(time.Since(start).Seconds())
			if k := len(ef.Entries); k > 0 {
				*next = append(*next, engine.StorageAck{Index: ef.Entries[k-1].Index, Term: ef.Entries[k-1].Term})
			}
		case engine.SaveSnapshot:
			if ef.KeepLog {
				// The log still holds every entry this snapshot covers, so
				// nothing after it waits for it: it is written in the
				// background, and writing a large store's snapshot cannot
				// stall the heartbeats of this loop. Its mark lets the WAL
				// drop those entries once it is durable.
				n.saveSnapshotInBackground(ef.Snapshot)
				continue
			}
			// A snapshot from the leader that replaces the log: synchronous,
			// in effect order, so no later Persist or Send of the batch
			// goes before it is durable (sendEarly sends none after a
			// SaveSnapshot); after any background snapshot.
			n.snapshots.Wait()
			start := time.Now()
			if err := n.wal.SaveSnapshot(ef.Snapshot, ef.KeepLog); err != nil {
				return fmt.Errorf("server: save the snapshot at index %d: %w", ef.Snapshot.Meta.Index, err)
			}
			n.metrics.persist.Observe(time.Since(start).Seconds())
			n.log.Info("snapshot saved", "index", ef.Snapshot.Meta.Index, "term", ef.Snapshot.Meta.Term,
				"bytes", len(ef.Snapshot.Data), "keep_log", ef.KeepLog)
		case engine.Send:
			if i < len(early) && early[i] {
				continue
			}
			n.metrics.sent.WithLabelValues(ef.Message.Type.String()).Inc()
			n.tr.Send(ef.Message)
		case engine.Reply:
			c := waiting[ef.RequestID]
			if c == nil {
				continue
			}
			if ef.Code == engine.ReplyPending {
				close(c.pending)
				continue
			}
			delete(waiting, ef.RequestID)
			n.metrics.replies.WithLabelValues(ef.Code.String()).Inc()
			c.reply = ef
			final = append(final, c)
		case engine.Emit:
			n.event(ef.Event)
		case engine.StatusReport:
			n.setStatus(ef.Status)
		}
	}
	return nil
}

// sameVote reports whether hs has the term and vote already durable: a
// Persist of it then changes at most the commit index and the log.
func (n *Node) sameVote(hs raft.HardState) bool {
	return hs.Term == n.durable.Term && hs.Vote == n.durable.Vote
}

// sendEarly sends, before the batch's Persist, the messages that do not
// depend on it (see earlySends), and reports which effects it sent.
func (n *Node) sendEarly(effects []engine.Effect) []bool {
	early := earlySends(effects, n.durable)
	for i, e := range early {
		if e {
			m := effects[i].(engine.Send).Message
			n.metrics.sent.WithLabelValues(m.Type.String()).Inc()
			n.tr.Send(m)
		}
	}
	return early
}

// earlySends reports which effects are messages that may leave before the
// batch's first Persist, given the hard state storage holds. The effect
// order asks for every Send to wait for the Persist before it, but when
// the Persist keeps the durable term and vote (it carries only entries and
// the commit index), some messages depend on neither. A leader's appends
// and heartbeats depend only on its term: so its disk write overlaps
// replication (Raft thesis §10.2.1), and it counts its own copy only once
// StorageAck says it is durable. A follower's heartbeat response promises
// only that it knows the leader's term, which is durable: so it never
// waits behind the fsync of a large append, and a follower busy writing
// does not look dead to CheckQuorum. A follower's acknowledgement
// (MsgAppResp) and every vote still wait, and so does every Send after a
// SaveSnapshot (nothing overtakes a snapshot). It returns nil when nothing
// may go early.
func earlySends(effects []engine.Effect, durable raft.HardState) []bool {
	if len(effects) == 0 {
		return nil
	}
	p, ok := effects[0].(engine.Persist)
	if !ok || p.HardState.Term != durable.Term || p.HardState.Vote != durable.Vote {
		return nil
	}
	early := make([]bool, len(effects))
	for i, ef := range effects {
		if _, ok := ef.(engine.SaveSnapshot); ok {
			break
		}
		if s, ok := ef.(engine.Send); ok {
			switch s.Message.Type {
			case raft.MsgApp, raft.MsgHeartbeat, raft.MsgHeartbeatResp:
				early[i] = true
			}
		}
	}
	return early
}

func (n *Node) event(ev raft.Event) {
	switch ev.Kind {
	case raft.EventCommitted:
		// Too frequent for the log; the status carries the commit index.
	case raft.EventMessageRejected, raft.EventCoreError, raft.EventQuorumLost:
		n.log.Warn(ev.Text, "term", ev.Term, "peer", ev.Peer)
	default:
		n.log.Info(ev.Text, "event", ev.Kind.String(), "term", ev.Term, "peer", ev.Peer)
	}
	// Record and publish under one lock, so that a new subscriber (see
	// subscribe) sees every event exactly once.
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, ev)
	if len(n.events) > maxEvents {
		n.events = append(n.events[:0], n.events[len(n.events)-maxEvents:]...)
	}
	n.hub.publish(eventJSON(n.cfg.ID, ev))
}

func (n *Node) setStatus(s engine.Status) {
	n.followMembers(s.Members)
	n.mu.Lock()
	n.status = s
	n.hub.publish(statusJSON(s))
	n.mu.Unlock()
	n.metrics.observe(s)
	if n.cfg.OnStatus != nil {
		n.cfg.OnStatus(s)
	}
}

// recreate replaces a failed core with a new one built from storage.
func (n *Node) recreate() error {
	n.closeCore()
	n.snapshots.Wait()
	if err := n.wal.Close(); err != nil {
		return fmt.Errorf("server: close storage to recover the core: %w", err)
	}
	wal, st, err := storage.Open(storage.Options{Dir: n.cfg.DataDir, NoSync: n.cfg.NoSync, Logger: n.log})
	if err != nil {
		return fmt.Errorf("server: reopen storage to recover the core: %w", err)
	}
	n.wal = wal
	return n.newCore(st)
}

// saveSnapshotInBackground writes a snapshot the log still covers, unless
// the previous one is still being written (the next will do).
func (n *Node) saveSnapshotInBackground(s raft.Snapshot) {
	if !n.snapshotting.CompareAndSwap(false, true) {
		n.log.Info("snapshot skipped: the previous one is still being written", "index", s.Meta.Index)
		return
	}
	n.snapshots.Add(1)
	wal := n.wal
	go func() {
		defer n.snapshots.Done()
		defer n.snapshotting.Store(false)
		start := time.Now()
		if err := wal.SaveSnapshot(s, true); err != nil {
			// Not fatal: the WAL still holds what it covers. A broken disk
			// fails the next save of the loop.
			n.log.Error("cannot save the snapshot", "index", s.Meta.Index, "err", err)
			return
		}
		n.metrics.persist.Observe(time.Since(start).Seconds())
		n.log.Info("snapshot saved", "index", s.Meta.Index, "term", s.Meta.Term, "bytes", len(s.Data),
			"took", time.Since(start).Round(time.Millisecond))
	}()
}

func (n *Node) fail(err error) {
	n.log.Error("node stopping", "err", err)
	n.err = err
}
