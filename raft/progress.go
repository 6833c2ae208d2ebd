package raft

// progress is the leader's view of one follower's log.
//
// Invariants: match < next. In ProgressProbe at most one MsgApp is
// outstanding (probeSent); in ProgressReplicate, inflight holds the last
// index of every MsgApp sent and not yet acknowledged, in send order, and
// next is one past the last index sent.
type progress struct {
	match, next uint64
	state       ProgressState
	// probeSent pauses a probing follower until it answers or a heartbeat
	// interval passes.
	probeSent bool
	inflight  []inflight
	// inflightBytes sums the Data bytes of inflight.
	inflightBytes uint64
	// active records a message from the follower since the last CheckQuorum.
	active bool
	// In ProgressSnapshot: the index of the snapshot being sent, the offset
	// of the next chunk, and the tick the last chunk left (probeSent says
	// a chunk is unacknowledged).
	pendingSnapshot uint64
	snapOffset      uint64
	snapSentAt      uint64
}

type inflight struct {
	last  uint64
	bytes uint64
	// sentAt is the tick the MsgApp left.
	sentAt uint64
}

func (p *progress) becomeProbe() {
	p.state = ProgressProbe
	p.next = p.match + 1
	p.probeSent = false
	p.inflight = p.inflight[:0]
	p.inflightBytes = 0
}

// becomeSnapshot starts sending the snapshot at index to the follower.
func (p *progress) becomeSnapshot(index uint64) {
	p.state = ProgressSnapshot
	p.pendingSnapshot = index
	p.snapOffset = 0
	p.probeSent = false
	p.inflight = p.inflight[:0]
	p.inflightBytes = 0
}

func (p *progress) becomeReplicate() {
	p.state = ProgressReplicate
	p.next = p.match + 1
	p.probeSent = false
	p.inflight = p.inflight[:0]
	p.inflightBytes = 0
}

// paused reports whether the leader must not send more entries now.
func (p *progress) paused(maxMsgs int, maxBytes uint64) bool {
	if p.state != ProgressReplicate {
		return p.probeSent
	}
	return len(p.inflight) >= maxMsgs || p.inflightBytes >= maxBytes
}

// sent records a MsgApp carrying entries up to last, with bytes of Data,
// sent at tick now.
func (p *progress) sent(last, bytes, now uint64) {
	if p.state == ProgressProbe {
		p.probeSent = true
		return
	}
	p.next = last + 1
	p.inflight = append(p.inflight, inflight{last: last, bytes: bytes, sentAt: now})
	p.inflightBytes += bytes
}

// acked records that the follower holds everything up to i. It reports
// whether match advanced.
func (p *progress) acked(i uint64) bool {
	n := 0
	for n < len(p.inflight) && p.inflight[n].last <= i {
		p.inflightBytes -= p.inflight[n].bytes
		n++
	}
	p.inflight = append(p.inflight[:0], p.inflight[n:]...)
	if i <= p.match {
		return false
	}
	p.match = i
	p.next = max(p.next, i+1)
	p.probeSent = false
	return true
}

// rejected handles a MsgApp rejected at index rejected, with hint the
// highest index at which the logs may still agree. It reports whether the
// rejection was news (not a stale answer to an earlier probe), in which
// case next has moved back and the follower is probing.
func (p *progress) rejected(rejected, hint uint64) bool {
	if p.state == ProgressSnapshot {
		return false
	}
	if p.state == ProgressReplicate {
		if rejected <= p.match {
			return false
		}
		p.becomeProbe()
		p.next = max(min(rejected, hint+1), p.match+1)
		return true
	}
	if p.next-1 != rejected {
		return false
	}
	p.next = max(min(rejected, hint+1), p.match+1)
	p.probeSent = false
	return true
}

// oldestSentAt returns the tick the oldest in-flight MsgApp left; there
// must be one.
func (p *progress) oldestSentAt() uint64 { return p.inflight[0].sentAt }

// freeFirst forgets the oldest in-flight MsgApp.
func (p *progress) freeFirst() {
	if len(p.inflight) == 0 {
		return
	}
	p.inflightBytes -= p.inflight[0].bytes
	p.inflight = append(p.inflight[:0], p.inflight[1:]...)
}
