package raft

// Log replication: probe and replicate progress states, flow control, fast
// backtracking, retransmission, forwarding, and storage acknowledgements.

import (
	"errors"
	"slices"
	"testing"
)

// A new leader probes each follower with one MsgApp at a time until it
// learns where their logs agree, then streams (replicate state).
func TestProgressProbeThenReplicate(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	first := makeLeader(t, n)
	if p := progressOf(t, n, 2); p.State != ProgressProbe || p.Next != 1 || p.Match != 0 {
		t.Fatalf("after election: have %+v, want probe next 1 match 0", p)
	}
	// Probing: nothing more goes to 2 until it answers.
	for i := range 3 {
		if _, err := n.Propose([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if ms := to(2, sent(n, MsgApp)); len(ms) != 0 {
			t.Fatalf("proposal %d: sent %d MsgApp to a probing follower with a probe outstanding", i, len(ms))
		}
	}
	ackAll(t, n, to(2, first))
	p := progressOf(t, n, 2)
	if p.State != ProgressReplicate || p.Match != 1 {
		t.Fatalf("after the probe's ack: have %+v, want replicate match 1", p)
	}
	ms := to(2, sent(n, MsgApp))
	var got []uint64
	for _, m := range ms {
		for _, e := range m.Entries {
			got = append(got, e.Index)
		}
	}
	if !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("after the ack, entries sent to 2: %v, want [2 3 4]", got)
	}
	// Replicating: new entries go out at once, without waiting for acks.
	for i := range 3 {
		if _, err := n.Propose([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		ms := to(2, sent(n, MsgApp))
		if len(ms) != 1 || len(ms[0].Entries) != 1 || ms[0].Entries[0].Index != uint64(5+i) {
			t.Fatalf("replicating, proposal %d: have %+v, want one MsgApp carrying entry %d", i, ms, 5+i)
		}
	}
	if p := progressOf(t, n, 2); p.Next != 8 || p.Inflight < 3 {
		t.Errorf("have %+v, want next 8 and at least 3 in flight", p)
	}
}

// A rejection while replicating sends the follower back to probing, from
// the hinted index.
func TestProgressRejectWhileReplicatingProbes(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n)
	for i := range 5 {
		n.Propose([]byte{byte(i)})
	}
	flush(n) // entries 2..6 in flight to 2
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: 3, Reject: true, RejectHint: 1, LogTerm: 1})
	p := progressOf(t, n, 2)
	if p.State != ProgressProbe || p.Next != 2 || p.Inflight != 0 {
		t.Fatalf("have %+v, want probe next 2 nothing in flight", p)
	}
	ms := to(2, sent(n, MsgApp))
	if len(ms) != 1 || ms[0].Index != 1 || len(ms[0].Entries) != 5 {
		t.Fatalf("have %+v, want one probe from prev 1 carrying 2..6", ms)
	}
	// A stale rejection (for an index at or below match) changes nothing.
	mustStep(t, n, Message{Type: MsgAppResp, From: 3, To: 1, Term: 1, Index: 6})
	mustStep(t, n, Message{Type: MsgAppResp, From: 3, To: 1, Term: 1, Index: 4, Reject: true, RejectHint: 1, LogTerm: 1})
	if p := progressOf(t, n, 3); p.State != ProgressReplicate || p.Match != 6 {
		t.Errorf("stale rejection: have %+v, want replicate match 6", p)
	}
}

// Flow control: a replicating leader has at most MaxInflightMsgs MsgApp
// unacknowledged to one follower; each ack frees room for more.
func TestMaxInflightMsgs(t *testing.T) {
	for _, limit := range []int{1, 2, 4} {
		n := newTestNode(t, 1, 3, func(c *Config) { c.MaxInflightMsgs = limit }, HardState{}, nil)
		ackAll(t, n, makeLeader(t, n))
		var inflight []Message
		inflight = append(inflight, to(2, sent(n, MsgApp))...) // may carry the commit index
		for i := range 10 {
			if _, err := n.Propose([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			inflight = append(inflight, to(2, sent(n, MsgApp))...)
			if len(inflight) > limit {
				t.Fatalf("limit %d: %d MsgApp unacknowledged to node 2 after proposal %d", limit, len(inflight), i)
			}
		}
		if len(inflight) != limit {
			t.Fatalf("limit %d: have %d MsgApp in flight, want the window full", limit, len(inflight))
		}
		if p := progressOf(t, n, 2); p.Inflight != limit {
			t.Errorf("limit %d: status says %d in flight", limit, p.Inflight)
		}
		// Acknowledging the oldest frees one slot; the leader fills it.
		ackAll(t, n, inflight[:1])
		inflight = inflight[1:]
		more := to(2, sent(n, MsgApp))
		if len(more) != 1 {
			t.Fatalf("limit %d: after one ack, have %d new MsgApp, want 1", limit, len(more))
		}
		// Acknowledging everything lets the rest flow, still within limits.
		for range 20 {
			if len(more) == 0 {
				break
			}
			inflight = append(inflight, more...)
			if len(inflight) > limit {
				t.Fatalf("limit %d: %d in flight", limit, len(inflight))
			}
			ackAll(t, n, inflight)
			inflight = nil
			more = to(2, sent(n, MsgApp))
		}
		if p := progressOf(t, n, 2); p.Match != n.log.lastIndex() {
			t.Errorf("limit %d: follower match %d, want %d", limit, p.Match, n.log.lastIndex())
		}
	}
}

// Flow control: MaxInflightBytes bounds the entry bytes in flight, and
// MaxMsgBytes the bytes of one MsgApp (a larger entry still goes alone).
func TestMaxInflightBytesAndMsgBytes(t *testing.T) {
	n := newTestNode(t, 1, 3, func(c *Config) { c.MaxInflightBytes = 10; c.MaxMsgBytes = 4 }, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n) // an empty MsgApp carries the commit index of the no-op
	for range 10 {
		n.Propose([]byte("abc")) // entries 2..11, 3 bytes each
	}
	ms := to(2, sent(n, MsgApp))
	// The ack of the no-op frees the window; the leader streams until the
	// bytes in flight reach the limit.
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: 1})
	ms = append(ms, to(2, sent(n, MsgApp))...)
	var bytes uint64
	for _, m := range ms {
		var b uint64
		for _, e := range m.Entries {
			b += uint64(len(e.Data))
		}
		if b > 4 && len(m.Entries) > 1 {
			t.Errorf("MsgApp of %d bytes in %d entries, want <= MaxMsgBytes (4)", b, len(m.Entries))
		}
		bytes += b
	}
	// The leader stops before the bytes in flight would pass 10: with
	// 3-byte entries, at 9.
	if bytes != 9 {
		t.Errorf("have %d bytes in flight, want 9 (the most 3-byte entries within 10)", bytes)
	}
	if p := progressOf(t, n, 2); p.Next > 11 {
		t.Errorf("have next %d: all entries sent despite the byte limit", p.Next)
	}
	n.Propose(make([]byte, 100)) // entry 12
	flush(n)
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: 11})
	ms = to(2, sent(n, MsgApp))
	if len(ms) != 1 || len(ms[0].Entries) != 1 || len(ms[0].Entries[0].Data) != 100 {
		t.Errorf("have %+v, want one MsgApp with the 100-byte entry alone", ms)
	}
}

// Fast backtracking (§5.3, "the follower can include the term of the
// conflicting entry"): a follower whose log diverges for many entries is
// repaired in a few round trips, not one per entry. Round trips are
// counted as MsgApp sent to the follower until one is accepted.
func TestFastBacktracking(t *testing.T) {
	tests := []struct {
		name       string
		leader     []uint64 // log terms; the leader campaigns in a later term
		follower   []uint64
		maxRejects int
	}{
		{
			name:       "follower has a long tail of other terms",
			leader:     append([]uint64{1, 1, 1}, repeatTerm(4, 50)...),
			follower:   append(append([]uint64{1, 1, 1}, repeatTerm(2, 50)...), repeatTerm(3, 50)...),
			maxRejects: 1,
		},
		{
			name:       "follower is missing many entries",
			leader:     append([]uint64{1}, repeatTerm(2, 100)...),
			follower:   []uint64{1, 2},
			maxRejects: 1,
		},
		{
			name:       "follower has a longer log of a term the leader lacks, over several terms",
			leader:     append(append([]uint64{1}, repeatTerm(3, 30)...), repeatTerm(5, 30)...),
			follower:   append(append(append([]uint64{1}, repeatTerm(2, 30)...), repeatTerm(4, 30)...), repeatTerm(4, 60)...),
			maxRejects: 2,
		},
		{
			name:       "follower shares a prefix then diverges in the leader's old term",
			leader:     append(repeatTerm(1, 40), repeatTerm(3, 40)...),
			follower:   append(repeatTerm(1, 20), repeatTerm(2, 100)...),
			maxRejects: 2,
		},
		{
			name:       "follower's log is empty",
			leader:     repeatTerm(1, 100),
			follower:   nil,
			maxRejects: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lt := max(tt.leader[len(tt.leader)-1], lastOr0(tt.follower)) + 1
			l := newTestNode(t, 1, 3, nil, HardState{Term: lt}, logOf(tt.leader...))
			f := newTestNode(t, 2, 3, nil, HardState{Term: lt}, logOf(tt.follower...))
			ms := to(2, makeLeader(t, l))
			rejects, trips := 0, 0
			for len(ms) > 0 && trips < 200 {
				trips++
				for _, m := range ms {
					mustStep(t, f, m)
				}
				resp := sent(f, MsgAppResp)
				accepted := false
				for _, r := range resp {
					if r.Reject {
						rejects++
					} else {
						accepted = true
					}
					mustStep(t, l, r)
				}
				ms = to(2, sent(l, MsgApp))
				if accepted && len(ms) == 0 {
					break
				}
			}
			if !slices.Equal(termsOf(f), termsOf(l)) {
				t.Fatalf("follower's log not repaired after %d round trips: have %v, want %v", trips, termsOf(f), termsOf(l))
			}
			if rejects > tt.maxRejects {
				t.Errorf("have %d rejected MsgApp (%d round trips), want at most %d", rejects, trips, tt.maxRejects)
			}
		})
	}
}

func lastOr0(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

// Paper §5.3: "If followers crash or run slowly, or if network packets are
// lost, the leader retries AppendEntries RPCs indefinitely until all
// followers eventually store all log entries." Here the MsgApp carrying an
// entry to a replicating follower is lost and no later proposal comes; the
// heartbeats that follow must lead the leader to send it again.
func TestLostAppendIsRetransmitted(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	c.propose(l, "a")
	down := l%3 + 1
	other := 6 - l - down
	c.stop(down) // without it the entry cannot commit
	lost := false
	c.drop = func(m Message) bool {
		if !lost && m.Type == MsgApp && m.To == other && len(m.Entries) > 0 {
			lost = true
			return true
		}
		return false
	}
	c.propose(l, "b")
	if !lost {
		t.Fatal("test setup: the MsgApp was not dropped")
	}
	c.tick(50)
	if have := c.appliedData(l); !slices.Equal(have, []string{"a", "b"}) {
		t.Fatalf("leader applied %q 50 ticks after one lost MsgApp, want [a b]", have)
	}
}

// Flow control must not stall a follower for good once MsgApp messages
// filling its window were lost: heartbeats keep it alive and answering, and
// the leader must find its way back to sending entries (§5.3, retry
// indefinitely). The MsgApp are lost on the way, or with a follower that
// restarts within an election timeout.
func TestLostAppendsDoNotStallFlowControl(t *testing.T) {
	// was skipped: BUG (fixed)
	for _, restart := range []bool{false, true} {
		for _, checkQuorum := range []bool{true, false} {
			c := newCluster(t, 3, func(cfg *Config) { cfg.MaxInflightMsgs = 2; cfg.DisableCheckQuorum = !checkQuorum })
			l := c.elect()
			c.propose(l, "a")
			f := l%3 + 1
			if restart {
				c.stop(f)
			} else {
				c.drop = func(m Message) bool { return m.Type == MsgApp && m.To == f }
			}
			for _, d := range []string{"b", "c", "d"} {
				c.propose(l, d)
			}
			if restart {
				c.start(f, nil) // it re-applies from index 1
			}
			c.drop = nil
			c.tick(50)
			want := []string{"a", "b", "c", "d"}
			if have := c.appliedData(f); !slices.Equal(have, want) {
				t.Errorf("restart %v, CheckQuorum %v: follower %d applied %q 50 ticks after the losses, want %q (progress %+v)",
					restart, checkQuorum, f, have, want, progressOf(t, c.nodes[l], f))
			}
		}
	}
}

// A replicating follower silent for a whole election timeout is probed
// again when it returns, even if its in-flight window was full of MsgApp
// it never received (CheckQuorum's check notices the silence).
func TestSilentFollowerIsProbedAgain(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.MaxInflightMsgs = 1 })
	l := c.elect()
	f := l%3 + 1
	c.propose(l, "a")
	c.stop(f)
	for _, d := range []string{"b", "c", "d"} {
		c.propose(l, d)
	}
	c.tick(25) // more than two election timeouts without a word from f
	if p := progressOf(t, c.nodes[l], f); p.State != ProgressProbe {
		t.Fatalf("progress of the silent follower: %+v, want probe", p)
	}
	c.start(f, nil)
	c.tick(10)
	if have, want := c.appliedData(f), []string{"a", "b", "c", "d"}; !slices.Equal(have, want) {
		t.Fatalf("returning follower applied %q, want %q", have, want)
	}
}

// A follower that missed entries while down is caught up after it returns.
func TestFollowerCatchesUpAfterRestart(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.elect()
	f := l%3 + 1
	c.propose(l, "a")
	c.stop(f)
	for _, d := range []string{"b", "c", "d"} {
		c.propose(l, d)
	}
	c.start(f, nil)
	c.tick(20)
	if have, want := c.appliedData(f), []string{"a", "b", "c", "d"}; !slices.Equal(have, want) {
		t.Fatalf("restarted follower applied %q, want %q", have, want)
	}
}

// Proposals on a follower are forwarded to the leader in a MsgProp; the
// leader appends them in its own term.
func TestProposalForwarding(t *testing.T) {
	f := newTestNode(t, 2, 3, nil, HardState{Term: 1}, nil)
	mustStep(t, f, Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 1})
	flush(f)
	p, err := f.Propose([]byte("x"), []byte("y"))
	if err != nil {
		t.Fatal(err)
	}
	if p != (Proposal{Forwarded: true, Leader: 1}) {
		t.Errorf("have %+v, want forwarded to 1", p)
	}
	ms := sent(f, MsgProp)
	if len(ms) != 1 || ms[0].To != 1 || len(ms[0].Entries) != 2 || string(ms[0].Entries[1].Data) != "y" {
		t.Fatalf("have %+v, want one MsgProp to 1 carrying x, y", ms)
	}
	if f.log.lastIndex() != 0 {
		t.Errorf("the follower appended the proposal to its own log")
	}

	l := newTestNode(t, 1, 3, nil, HardState{}, nil)
	makeLeader(t, l)
	mustStep(t, l, ms[0])
	if have := termsOf(l); !slices.Equal(have, []uint64{1, 1, 1}) {
		t.Fatalf("leader's log terms %v, want the no-op and both entries in term 1", have)
	}
	if string(l.log.ents[2].Data) != "x" || string(l.log.ents[3].Data) != "y" {
		t.Errorf("leader's entries %+v, want x then y", l.log.ents[2:])
	}
}

// Proposals and reads fail with ErrNoLeader when the node knows no leader:
// a fresh node, a pre-candidate, a candidate.
func TestErrNoLeader(t *testing.T) {
	setups := map[string]func(n *Node){
		"fresh":         func(n *Node) {},
		"pre-candidate": func(n *Node) { n.Campaign() },
		"candidate":     func(n *Node) { n.cfg.DisablePreVote = true; n.Campaign() },
	}
	for name, setup := range setups {
		n := newTestNode(t, 1, 3, nil, HardState{}, nil)
		setup(n)
		if _, err := n.Propose([]byte("x")); !errors.Is(err, ErrNoLeader) {
			t.Errorf("%s: Propose: have %v, want ErrNoLeader", name, err)
		}
		if err := n.ReadIndex([]byte("r")); !errors.Is(err, ErrNoLeader) {
			t.Errorf("%s: ReadIndex: have %v, want ErrNoLeader", name, err)
		}
		if err := n.TransferLeadership(2); !errors.Is(err, ErrNoLeader) {
			t.Errorf("%s: TransferLeadership: have %v, want ErrNoLeader", name, err)
		}
		for _, m := range sent(n) {
			if m.Type == MsgProp || m.Type == MsgReadIndex || m.Type == MsgTransferLeader {
				t.Errorf("%s: sent %v with no leader", name, m.Type)
			}
		}
	}
}

// A MsgProp reaching a node that is not the leader goes one hop further to
// the leader it knows, never back to its sender.
func TestProposalForwardedOneMoreHop(t *testing.T) {
	n := newTestNode(t, 2, 3, nil, HardState{Term: 1}, nil)
	mustStep(t, n, Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 1})
	flush(n)
	mustStep(t, n, Message{Type: MsgProp, From: 3, To: 2, Entries: []Entry{{Data: []byte("x")}}})
	if ms := sent(n, MsgProp); len(ms) != 1 || ms[0].To != 1 {
		t.Fatalf("have %+v, want the MsgProp forwarded to 1", ms)
	}
	mustStep(t, n, Message{Type: MsgProp, From: 1, To: 2, Entries: []Entry{{Data: []byte("x")}}})
	if ms := sent(n, MsgProp); len(ms) != 0 {
		t.Fatalf("have %+v, want nothing sent back to the leader", ms)
	}
}

// StorageAck: the leader counts its own copy of an entry towards commit
// only once storage has acknowledged it.
func TestStorageAckLeaderCountsItselfOnlyWhenDurable(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n)
	p, _ := n.Propose([]byte("x"))
	rd := n.Ready() // entries handed to storage, not yet acknowledged
	if len(rd.Entries) != 1 || rd.Entries[0].Index != p.Index {
		t.Fatalf("Ready.Entries %+v, want entry %d", rd.Entries, p.Index)
	}
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: p.Index})
	if n.log.committed >= p.Index {
		t.Fatalf("committed %d with one follower's ack and no storage ack, want < %d", n.log.committed, p.Index)
	}
	if have := n.Acks(p.Index); have != 1 {
		t.Errorf("Acks(%d): have %d, want 1 (only node 2)", p.Index, have)
	}
	n.StorageAck(p.Index, p.Term)
	if n.log.committed != p.Index {
		t.Fatalf("after the storage ack: have commit %d, want %d", n.log.committed, p.Index)
	}
	if !n.HasReady() {
		t.Errorf("the commit made no Ready (followers must learn it)")
	}
}

// StorageAck: two followers suffice to commit even before the leader's own
// storage acknowledges (a majority holds the entry durably).
func TestStorageAckNotNeededWithMajorityOfFollowers(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{}, nil)
	ackAll(t, n, makeLeader(t, n))
	flush(n)
	p, _ := n.Propose([]byte("x"))
	n.Ready()
	mustStep(t, n, Message{Type: MsgAppResp, From: 2, To: 1, Term: 1, Index: p.Index})
	mustStep(t, n, Message{Type: MsgAppResp, From: 3, To: 1, Term: 1, Index: p.Index})
	if n.log.committed != p.Index {
		t.Fatalf("have commit %d, want %d", n.log.committed, p.Index)
	}
}

// StorageAck: stale or impossible acknowledgements are ignored — an index
// not yet handed to storage, one already acknowledged, and one whose entry
// has since been replaced by another term's.
func TestStorageAckStaleIgnored(t *testing.T) {
	t.Run("leader", func(t *testing.T) {
		n := newTestNode(t, 1, 1, nil, HardState{}, nil)
		n.Campaign()
		flush(n) // elected alone, no-op 1 durable and committed
		p, _ := n.Propose([]byte("x"))
		n.StorageAck(p.Index, p.Term) // not handed to storage yet
		if n.log.stable != 1 || n.log.committed != 1 {
			t.Fatalf("ack before Ready: have stable %d commit %d, want 1, 1", n.log.stable, n.log.committed)
		}
		n.Ready()
		n.StorageAck(p.Index, p.Term+1) // wrong term
		if n.log.stable != 1 || n.log.committed != 1 {
			t.Fatalf("ack with the wrong term: have stable %d commit %d, want 1, 1", n.log.stable, n.log.committed)
		}
		n.StorageAck(p.Index, p.Term)
		if n.log.stable != 2 || n.log.committed != 2 {
			t.Fatalf("good ack: have stable %d commit %d, want 2, 2", n.log.stable, n.log.committed)
		}
		n.StorageAck(1, 1) // already acknowledged
		if n.log.stable != 2 {
			t.Fatalf("old ack: have stable %d, want 2", n.log.stable)
		}
	})
	t.Run("follower, entries replaced", func(t *testing.T) {
		n := newTestNode(t, 1, 3, nil, HardState{Term: 1, Commit: 1}, logOf(1))
		mustStep(t, n, Message{Type: MsgApp, From: 2, To: 1, Term: 1, Index: 1, LogTerm: 1,
			Entries: []Entry{{Term: 1, Index: 2}, {Term: 1, Index: 3}}})
		rd := n.Ready() // 2 and 3 of term 1 go to storage
		if len(rd.Entries) != 2 {
			t.Fatalf("Ready.Entries %+v, want 2 and 3", rd.Entries)
		}
		// A new leader replaces 2 and 3 before storage acknowledges them.
		mustStep(t, n, Message{Type: MsgApp, From: 3, To: 1, Term: 2, Index: 1, LogTerm: 1,
			Entries: []Entry{{Term: 2, Index: 2}, {Term: 2, Index: 3}}})
		rd = n.Ready()
		if len(rd.Entries) != 2 || rd.Entries[0].Term != 2 {
			t.Fatalf("Ready.Entries %+v, want the term-2 entries 2 and 3", rd.Entries)
		}
		n.StorageAck(3, 1) // for the replaced write
		if n.log.stable != 1 {
			t.Fatalf("stale ack for (3, term 1): have stable %d, want 1", n.log.stable)
		}
		n.StorageAck(3, 2)
		if n.log.stable != 3 {
			t.Fatalf("ack for (3, term 2): have stable %d, want 3", n.log.stable)
		}
	})
}

// The Ready contract: entries handed out once are not handed out again,
// committed entries are applied once, and a Ready shares no memory with the
// node.
func TestReadyHandsOutEachEntryOnce(t *testing.T) {
	n := newTestNode(t, 1, 1, nil, HardState{}, nil)
	n.Campaign()
	flush(n)
	n.Propose([]byte("a"))
	rd := n.Ready()
	if len(rd.Entries) != 1 {
		t.Fatalf("have %d entries, want 1", len(rd.Entries))
	}
	if rd2 := n.Ready(); len(rd2.Entries) != 0 {
		t.Fatalf("entries handed out twice: %+v", rd2.Entries)
	}
	rd.Entries[0].Term = 99
	if n.log.ents[2].Term == 99 {
		t.Fatal("Ready.Entries aliases the node's log")
	}
	n.StorageAck(2, 1)
	rd = n.Ready()
	if len(rd.Committed) != 1 || rd.Committed[0].Index != 2 {
		t.Fatalf("Committed %+v, want entry 2", rd.Committed)
	}
	if n.HasReady() {
		t.Errorf("HasReady after everything was handed out: %+v", n.Ready())
	}
}
