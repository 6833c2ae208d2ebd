package engine

import (
	"slices"
	"testing"

	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// testCluster drives engines synchronously: effects are carried out at once
// and messages delivered in order.
type testCluster struct {
	t       *testing.T
	engines map[uint64]*Engine
	ids     []uint64
	inbox   map[uint64][]Input
	replies map[uint64]Reply
	down    map[uint64]bool
}

func newTestCluster(t *testing.T, n int) *testCluster {
	c := &testCluster{t: t, engines: map[uint64]*Engine{}, inbox: map[uint64][]Input{}, replies: map[uint64]Reply{}, down: map[uint64]bool{}}
	for i := 1; i <= n; i++ {
		c.ids = append(c.ids, uint64(i))
	}
	for _, id := range c.ids {
		e, err := New(Config{Raft: raft.Config{ID: id, Voters: c.ids, ElectionTicks: 10, HeartbeatTicks: 2, Seed: 7}}, Restored{})
		if err != nil {
			t.Fatal(err)
		}
		c.engines[id] = e
	}
	return c
}

func (c *testCluster) step(id uint64, in ...Input) {
	if c.down[id] {
		return
	}
	effects, err := c.engines[id].Handle(in)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ef := range effects {
		switch ef := ef.(type) {
		case Persist:
			if n := len(ef.Entries); n > 0 {
				c.inbox[id] = append(c.inbox[id], StorageAck{Index: ef.Entries[n-1].Index, Term: ef.Entries[n-1].Term})
			}
		case Send:
			c.inbox[ef.Message.To] = append(c.inbox[ef.Message.To], Receive(ef))
		case Reply:
			if ef.Code != ReplyPending {
				c.replies[ef.RequestID] = ef
			}
		}
	}
}

// run delivers everything pending, then ticks every node, k times.
func (c *testCluster) run(k int) {
	for range k {
		for range 100 {
			busy := false
			for _, id := range c.ids {
				in := c.inbox[id]
				c.inbox[id] = nil
				if len(in) > 0 {
					busy = true
					if !c.down[id] {
						c.step(id, in...)
					}
				}
			}
			if !busy {
				break
			}
		}
		for _, id := range c.ids {
			c.step(id, Tick{})
		}
	}
}

func (c *testCluster) leader() uint64 {
	for _, id := range c.ids {
		if !c.down[id] && c.engines[id].Status().Role == raft.RoleLeader {
			return id
		}
	}
	return 0
}

func TestEngineWriteThenRead(t *testing.T) {
	c := newTestCluster(t, 3)
	c.run(40)
	l := c.leader()
	if l == 0 {
		t.Fatal("no leader after 40 ticks")
	}
	follower := c.ids[slices.IndexFunc(c.ids, func(id uint64) bool { return id != l })]
	c.step(follower, Propose{RequestID: 1, Command: kv.Command{ClientID: 9, Seq: 1, Op: kv.OpSet, Key: "temperature", Value: []byte("72.5")}})
	c.run(5)
	r, ok := c.replies[1]
	if !ok || r.Code != ReplyOK || !r.OK {
		t.Fatalf("write reply: have %+v (present %v), want OK", r, ok)
	}
	c.step(follower, Read{RequestID: 2, Key: "temperature"})
	c.run(5)
	r, ok = c.replies[2]
	if !ok || r.Code != ReplyOK || !r.Found || string(r.Value) != "72.5" {
		t.Fatalf("read reply: have %+v (present %v), want 72.5", r, ok)
	}
	c.step(l, Propose{RequestID: 3, Command: kv.Command{ClientID: 9, Seq: 2, Op: kv.OpSet, Key: "pressure", Value: []byte("14.7")}})
	c.run(3)
	if r := c.replies[3]; r.Code != ReplyOK || r.Acks < 2 || r.Voters != 3 {
		t.Fatalf("leader write reply: have %+v, want OK with >= 2/3 acks", r)
	}
}

func TestEngineNoQuorum(t *testing.T) {
	c := newTestCluster(t, 3)
	c.run(40)
	l := c.leader()
	var survivor uint64
	for _, id := range c.ids {
		if id != l && survivor == 0 {
			survivor = id
		} else {
			c.down[id] = true
		}
	}
	c.run(30)
	c.step(survivor, Propose{RequestID: 1, Command: kv.Command{ClientID: 9, Seq: 1, Op: kv.OpSet, Key: "k", Value: []byte("v")}})
	c.run(60)
	if r := c.replies[1]; r.Code != ReplyNoQuorum {
		t.Fatalf("have %+v, want no-quorum", r)
	}
}
