package transport

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wraft/wraft/raft"
)

// peer is the sending side of the link to one member: a send queue of
// two lanes, a delay line feeding it, and the goroutines that dial the
// member and write the queue to it.
type peer struct {
	id    uint64
	addr  string
	c     *counters
	stale time.Duration // see timing.stale

	// ctrl and bulk are the lanes of the send queue. Bulk holds the
	// messages that carry entries or snapshots (MsgApp, MsgProp, MsgSnap),
	// in order; ctrl holds the others, which go first, so that a heartbeat
	// or a vote never waits behind megabytes of appends.
	ctrl, bulk chan queued
	// newestTerm is the highest term of the messages queued so far, but
	// pre-votes and their answers, whose terms are one ahead.
	newestTerm atomic.Uint64
	// queuedBytes counts the bytes of the frames in the lanes and in delayed.
	// Invariant: queuedBytes <= maxBytes, but for the moment between an
	// increment and its undo.
	queuedBytes atomic.Int64
	maxBytes    int64
	maxDelayed  int
	connected   atomic.Bool

	dmu sync.Mutex
	// delayed is the delay line, ordered by due time, then by seq.
	delayed []delayedFrame // guarded by dmu
	seq     uint64         // guarded by dmu
	wake    chan struct{}  // signals the delay goroutine; capacity 1
	// redial cuts a dial backoff short: the peer just connected to us.
	redial chan struct{} // capacity 1

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type delayedFrame struct {
	due time.Time
	seq uint64
	q   queued
}

// queued is an encoded message in a send queue.
type queued struct {
	frame []byte
	typ   raft.MessageType
	term  uint64
	at    time.Time // when it entered its lane
}

// bulky reports whether messages of type typ go in the bulk lane.
func bulky(typ raft.MessageType) bool {
	return typ == raft.MsgApp || typ == raft.MsgProp || typ == raft.MsgSnap
}

// perishable reports whether a message of type typ is worthless once it
// is stale: Raft sends newer ones in its place.
func perishable(typ raft.MessageType) bool {
	switch typ {
	case raft.MsgVote, raft.MsgVoteResp, raft.MsgPreVote, raft.MsgPreVoteResp, raft.MsgHeartbeat, raft.MsgHeartbeatResp:
		return true
	}
	return false
}

// isStale reports whether q should be dropped rather than written at now:
// a perishable message that waited longer than p.stale, or whose term is
// below that of a message queued after it.
func (p *peer) isStale(q queued, now time.Time) bool {
	return perishable(q.typ) && (now.Sub(q.at) > p.stale || q.term < p.newestTerm.Load())
}

// startPeer starts the goroutines of the link to member id. The caller
// holds t.mu, and t is not closed.
func (t *Transport) startPeer(id uint64, addr string, c *counters) {
	ctx, cancel := context.WithCancel(t.ctx)
	p := &peer{
		id:         id,
		addr:       addr,
		c:          c,
		stale:      t.timing.stale,
		ctrl:       make(chan queued, t.cfg.QueueLen),
		bulk:       make(chan queued, t.cfg.QueueLen),
		maxBytes:   int64(t.cfg.QueueBytes),
		maxDelayed: t.cfg.QueueLen,
		wake:       make(chan struct{}, 1),
		redial:     make(chan struct{}, 1),
		cancel:     cancel,
	}
	t.peers[id] = p
	t.wg.Add(2)
	p.wg.Add(2)
	go func() {
		defer t.wg.Done()
		defer p.wg.Done()
		t.runPeer(ctx, p)
	}()
	go func() {
		defer t.wg.Done()
		defer p.wg.Done()
		p.runDelay(ctx)
	}()
}

// stop stops p's goroutines and waits for them.
func (p *peer) stop() {
	p.cancel()
	p.wg.Wait()
}

func (p *peer) stats(inbound bool) PeerStats {
	p.dmu.Lock()
	delayed := len(p.delayed)
	p.dmu.Unlock()
	return PeerStats{
		ID:          p.id,
		Addr:        p.addr,
		Connected:   p.connected.Load(),
		Inbound:     inbound,
		Sent:        p.c.sent.Load(),
		Dropped:     p.c.dropped.Load(),
		Stale:       p.c.stale.Load(),
		Silent:      p.c.silent.Load(),
		Faulted:     p.c.faulted.Load(),
		Received:    p.c.received.Load(),
		Queued:      len(p.ctrl) + len(p.bulk) + delayed,
		QueuedBytes: int(p.queuedBytes.Load()),
	}
}

// reserve accounts for n more queued bytes, or counts a drop and returns
// false if they do not fit.
func (p *peer) reserve(n int) bool {
	if p.queuedBytes.Add(int64(n)) > p.maxBytes {
		p.release(n)
		p.c.dropped.Add(1)
		return false
	}
	return true
}

func (p *peer) release(n int) { p.queuedBytes.Add(-int64(n)) }

// enqueue appends q to its lane of the send queue, or drops it if the
// lane is full.
func (p *peer) enqueue(q queued) {
	if !p.reserve(len(q.frame)) {
		return
	}
	p.admit(q)
}

// admit appends q, whose bytes are reserved, to its lane.
func (p *peer) admit(q queued) {
	if q.typ != raft.MsgPreVote && q.typ != raft.MsgPreVoteResp {
		for {
			newest := p.newestTerm.Load()
			if q.term <= newest || p.newestTerm.CompareAndSwap(newest, q.term) {
				break
			}
		}
	}
	lane := p.ctrl
	if bulky(q.typ) {
		lane = p.bulk
	}
	q.at = time.Now()
	select {
	case lane <- q:
	default:
		p.release(len(q.frame))
		p.c.dropped.Add(1)
	}
}

// next returns the next queued message to write, if any: the control
// lane's first.
func (p *peer) next() (queued, bool) {
	select {
	case q := <-p.ctrl:
		return q, true
	default:
	}
	select {
	case q := <-p.ctrl:
		return q, true
	case q := <-p.bulk:
		return q, true
	default:
		return queued{}, false
	}
}

// delay puts q in the delay line for d, or drops it if the line is full.
func (p *peer) delay(q queued, d time.Duration) {
	if !p.reserve(len(q.frame)) {
		return
	}
	due := time.Now().Add(d)
	p.dmu.Lock()
	if len(p.delayed) >= p.maxDelayed {
		p.dmu.Unlock()
		p.release(len(q.frame))
		p.c.dropped.Add(1)
		return
	}
	p.seq++
	// Frames with equal due times keep their order: insert after them.
	i, _ := slices.BinarySearchFunc(p.delayed, due, func(f delayedFrame, due time.Time) int {
		if f.due.After(due) {
			return 1
		}
		return -1
	})
	p.delayed = slices.Insert(p.delayed, i, delayedFrame{due: due, seq: p.seq, q: q})
	p.dmu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// runDelay moves frames from the delay line to the send queue when they
// are due, until ctx is done.
func (p *peer) runDelay(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var ready []queued
	for {
		p.dmu.Lock()
		now := time.Now()
		n := 0
		for n < len(p.delayed) && !p.delayed[n].due.After(now) {
			ready = append(ready, p.delayed[n].q)
			n++
		}
		clear(p.delayed[:n])
		p.delayed = p.delayed[n:]
		var timerC <-chan time.Time
		if len(p.delayed) > 0 {
			timer.Reset(p.delayed[0].due.Sub(now))
			timerC = timer.C
		}
		p.dmu.Unlock()
		for _, q := range ready {
			p.admit(q) // its bytes stay reserved
		}
		clear(ready)
		ready = ready[:0]
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			timer.Stop()
		case <-timerC:
		}
	}
}
