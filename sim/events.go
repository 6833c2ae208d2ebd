package sim

import (
	"container/heap"

	"github.com/wraft/wraft/raft"
)

// eventKind says what an event does when it fires.
type eventKind uint8

const (
	evTick        eventKind = iota + 1 // a node's clock ticks
	evDeliver                          // a message arrives at a node
	evProcess                          // a node handles its inbox
	evPersistDone                      // a node's disk finishes a Persist
	evFunc                             // a callback (clients, schedules)
)

// event is one thing that happens at a simulated time. Events fire in order
// of (at, seq): seq, assigned when the event is scheduled, breaks ties in
// the order of scheduling, so the order never depends on anything but the
// run itself.
type event struct {
	at   int64
	seq  uint64
	kind eventKind
	// node is the index of the node concerned (the receiver, for evDeliver).
	node int
	// inc is the node's incarnation when the event was scheduled; an event
	// of an earlier incarnation (before a crash or restart) is void.
	inc uint64
	// msg is the message of an evDeliver.
	msg raft.Message
	// fn is the callback of an evFunc.
	fn func()
}

// eventQueue is a min-heap of events by (at, seq).
type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }

func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

func (q *eventQueue) Push(x any) { *q = append(*q, x.(*event)) }

func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// scheduler hands out events in time order.
type scheduler struct {
	q   eventQueue
	seq uint64
	// free holds fired events for reuse: a run schedules millions.
	free []*event
}

// alloc returns a zeroed event, reusing a fired one when it can.
func (s *scheduler) alloc() *event {
	if k := len(s.free); k > 0 {
		e := s.free[k-1]
		s.free = s.free[:k-1]
		return e
	}
	return new(event)
}

// release takes back an event that has fired.
func (s *scheduler) release(e *event) {
	*e = event{}
	s.free = append(s.free, e)
}

// push schedules e; it assigns e.seq.
func (s *scheduler) push(e *event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.q, e)
}

// peek returns the next event without removing it, or nil.
func (s *scheduler) peek() *event {
	if len(s.q) == 0 {
		return nil
	}
	return s.q[0]
}

// pop removes and returns the next event, or nil.
func (s *scheduler) pop() *event {
	if len(s.q) == 0 {
		return nil
	}
	return heap.Pop(&s.q).(*event)
}
