package sim

import (
	"slices"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// ChangeMembers asks node via to change the cluster's membership. The
// Call ends with the node's final reply (a follower refuses it as not the
// leader), or Lost.
func (c *Cluster) ChangeMembers(via uint64, cc raft.ConfChange) (*Call, error) {
	n, err := c.node(via)
	if err != nil {
		return nil, err
	}
	c.lastReq++
	call := &Call{ID: c.lastReq, Node: via, Sent: c.now, Change: &cc}
	c.notef(via, "asked to %s n%d", cc.Type, cc.NodeID)
	if !c.input(n, engine.ChangeMembers{RequestID: call.ID, Change: cc}) {
		c.after(1, func() { c.finish(call, engine.Reply{RequestID: call.ID}, true) })
		return call, nil
	}
	c.calls[call.ID] = call
	n.pending = append(n.pending, call)
	return call, nil
}

// Members returns the configuration the current leader holds (or, with
// no leader, the one of the up node with the highest commit index).
func (c *Cluster) Members() []raft.Member {
	var best *node
	for _, n := range c.nodes {
		if !n.up || !n.hasStatus {
			continue
		}
		if n.status.Role == raft.RoleLeader {
			return slices.Clone(n.status.Members)
		}
		if best == nil || n.status.Commit > best.status.Commit {
			best = n
		}
	}
	if best == nil {
		return nil
	}
	return slices.Clone(best.status.Members)
}

// randomMembershipChange asks the leader (as the cluster's statuses tell)
// for one change drawn from what the configuration allows: bring in a
// spare as a learner, promote a learner, remove a learner, or remove a
// voter while at least three remain. A removed node never comes back.
func (c *Cluster) randomMembershipChange() error {
	leader := c.Leader()
	if leader == 0 {
		return nil
	}
	ms := c.Members()
	var voters, learners, spares []uint64
	for _, m := range ms {
		if m.Learner {
			learners = append(learners, m.ID)
		} else {
			voters = append(voters, m.ID)
		}
	}
	for _, n := range c.nodes {
		if !slices.ContainsFunc(ms, func(m raft.Member) bool { return m.ID == n.id }) && !c.removed[n.id] && n.idx >= c.opts.Nodes {
			spares = append(spares, n.id)
		}
	}
	var choices []raft.ConfChange
	for _, id := range spares {
		choices = append(choices, raft.ConfChange{Type: raft.ConfAddLearner, NodeID: id})
	}
	for _, id := range learners {
		choices = append(choices, raft.ConfChange{Type: raft.ConfPromote, NodeID: id}, raft.ConfChange{Type: raft.ConfPromote, NodeID: id})
		choices = append(choices, raft.ConfChange{Type: raft.ConfRemove, NodeID: id})
	}
	if len(voters) > 3 {
		for _, id := range voters {
			choices = append(choices, raft.ConfChange{Type: raft.ConfRemove, NodeID: id})
		}
	}
	if len(choices) == 0 {
		return nil
	}
	cc := choices[c.rng.IntN(len(choices))]
	if cc.Type == raft.ConfRemove {
		c.removed[cc.NodeID] = true
	}
	_, err := c.ChangeMembers(leader, cc)
	return err
}
