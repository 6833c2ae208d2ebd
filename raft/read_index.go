package raft

import "github.com/wraft/wraft/raft/quorum"

// readRequest is a ReadIndex request waiting on the leader: from this node
// (from == the leader's id) or forwarded by a follower.
type readRequest struct {
	from uint64
	ctx  []byte
	// round is the heartbeat round that confirms the request, 0 until one
	// starts; index is the commit index when that round started.
	round uint64
	index uint64
}

// ReadIndex asks for a read index for a linearizable read identified by
// ctx (thesis §6.4). The answer arrives in a later Ready's ReadStates. On
// the leader, it is the commit index once a heartbeat round has confirmed
// that no newer leader exists; a follower forwards the request to the
// leader. It returns ErrNoLeader when no leader is known.
func (n *Node) ReadIndex(ctx []byte) error {
	switch {
	case n.role == RoleLeader:
		n.reads = append(n.reads, readRequest{from: n.id, ctx: ctx})
	case n.lead == 0:
		return ErrNoLeader
	default:
		n.send(Message{Type: MsgReadIndex, To: n.lead, Context: ctx})
	}
	return nil
}

// committedInTerm reports whether the leader has committed an entry of its
// own term; until then its commit index may lag the true one.
func (n *Node) committedInTerm() bool {
	t, _ := n.log.term(n.log.committed)
	return t == n.term
}

// readsToStart reports whether some read waits for a heartbeat round that
// can start now.
func (n *Node) readsToStart() bool {
	if !n.committedInTerm() {
		return false
	}
	for i := range n.reads {
		if n.reads[i].round == 0 {
			return true
		}
	}
	return false
}

// startReadRound gives every read that has no round yet a new one and
// broadcasts it, so the reads of one batch share one heartbeat round.
func (n *Node) startReadRound() {
	if !n.readsToStart() {
		return
	}
	n.readRound++
	for i := range n.reads {
		if n.reads[i].round == 0 {
			n.reads[i].round = n.readRound
			n.reads[i].index = n.log.committed
		}
	}
	n.readAcks[n.slot(n.id)] = n.readRound
	n.bcastHeartbeat(n.readContext())
	n.releaseReads()
}

// readContext is the heartbeat context naming the newest read round, or
// nil when no read waits.
func (n *Node) readContext() []byte {
	if len(n.reads) == 0 || n.readRound == 0 {
		return nil
	}
	return appendU64(nil, n.readRound)
}

// readAcked records a heartbeat answer from voter slot i echoing ctx.
func (n *Node) readAcked(i int, ctx []byte) {
	if len(ctx) != 8 {
		return
	}
	r := u64(ctx)
	if r > n.readRound || r <= n.readAcks[i] {
		return
	}
	n.readAcks[i] = r
	n.releaseReads()
}

// releaseReads answers every read whose round a majority has confirmed.
// An answer to round r confirms every earlier round too: it was sent later.
func (n *Node) releaseReads() {
	confirmed := quorum.CommittedIndex(n.voterValues(n.readAcks))
	k := 0
	for k < len(n.reads) && n.reads[k].round != 0 && n.reads[k].round <= confirmed {
		rq := n.reads[k]
		if rq.from == n.id {
			n.out.ReadStates = append(n.out.ReadStates, ReadState{Index: rq.index, Context: rq.ctx})
		} else {
			n.send(Message{Type: MsgReadIndexResp, To: rq.from, Index: rq.index, Context: rq.ctx})
		}
		k++
	}
	n.reads = append(n.reads[:0], n.reads[k:]...)
}

// abortReads refuses every waiting read: leadership is gone.
func (n *Node) abortReads() {
	for _, rq := range n.reads {
		if rq.from == n.id {
			n.out.ReadStates = append(n.out.ReadStates, ReadState{Context: rq.ctx, Rejected: true})
		} else {
			n.send(Message{Type: MsgReadIndexResp, To: rq.from, Context: rq.ctx, Reject: true})
		}
	}
	n.reads = n.reads[:0]
}

// appendU64 and u64 encode a read round as 8 big-endian bytes. (Not
// encoding/binary: it would pull reflect into raft.wasm.)
func appendU64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func u64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}
