package raft

// TransferLeadership asks the leader to hand leadership to node to (thesis
// §3.10): it stops accepting proposals, brings to's log up to date and
// tells it to campaign at once. The transfer is abandoned after an
// election timeout. On a follower the request is forwarded to the leader.
// It returns ErrUnknownPeer if to is not a voter and ErrNoLeader when no
// leader is known.
func (n *Node) TransferLeadership(to uint64) error {
	i := n.slot(to)
	if i < 0 || n.members[i].Learner {
		return ErrUnknownPeer
	}
	if n.role != RoleLeader {
		if n.lead == 0 {
			return ErrNoLeader
		}
		n.send(Message{Type: MsgTransferLeader, To: n.lead, Index: to})
		return nil
	}
	if to == n.id || to == n.transferee {
		return nil
	}
	n.transferee = to
	n.electionElapsed = 0
	n.event(EventTransferStarted, to, 0, "handing leadership to node "+u(to))
	if n.prs[i].match == n.log.lastIndex() {
		n.sendTimeoutNow(to)
	} else {
		n.sendAppend(i, true)
	}
	return nil
}

func (n *Node) sendTimeoutNow(to uint64) {
	n.send(Message{Type: MsgTimeoutNow, To: to})
}
