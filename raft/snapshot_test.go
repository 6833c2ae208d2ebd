package raft

import (
	"slices"
	"strconv"
	"testing"
)

// A follower that missed entries the leader compacted away catches up by
// snapshot, sent in chunks, and then from the log.
func TestSnapshotCatchUp(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.MaxSnapshotChunkBytes = 3 })
	l := c.elect()
	f := c.ids[0]
	if f == l {
		f = c.ids[1]
	}
	c.isolate(f)
	for i := range 30 {
		c.propose(l, "v"+strconv.Itoa(i))
	}
	idx := c.compact(l, 2)
	if first := c.nodes[l].log.firstIndex(); first != idx-1 {
		t.Fatalf("after compaction the log starts at %d, want %d (2 retained)", first, idx-1)
	}
	for i := 30; i < 35; i++ {
		c.propose(l, "v"+strconv.Itoa(i))
	}
	chunks := 0
	c.drop = func(m Message) bool {
		if m.Type == MsgSnap {
			chunks++
		}
		return false
	}
	c.heal()
	c.tick(3)
	if !slices.Equal(c.appliedData(f), c.appliedData(l)) {
		t.Fatalf("follower applied %v\nleader applied %v", c.appliedData(f), c.appliedData(l))
	}
	if got := c.nodes[f].SnapshotIndex(); got != idx {
		t.Fatalf("follower's snapshot index %d, want %d", got, idx)
	}
	if want := len("state@" + u(idx)); chunks < want/3 {
		t.Fatalf("snapshot went in %d chunks, want at least %d of 3 bytes", chunks, want/3)
	}
	// It restarts from its snapshot and the entries after it.
	c.stop(f)
	c.start(f, func(cfg *Config) { cfg.MaxSnapshotChunkBytes = 3 })
	c.tick(3)
	if !slices.Equal(c.appliedData(f), c.appliedData(l)) {
		t.Fatalf("after restart the follower applied %v\nleader applied %v", c.appliedData(f), c.appliedData(l))
	}
}

// Lost chunks are sent again, from where the follower's answers left off.
func TestSnapshotChunksSurviveLoss(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.MaxSnapshotChunkBytes = 2 })
	l := c.elect()
	f := c.ids[0]
	if f == l {
		f = c.ids[1]
	}
	c.isolate(f)
	for i := range 20 {
		c.propose(l, "v"+strconv.Itoa(i))
	}
	c.compact(l, 0)
	c.heal()
	k := 0
	c.drop = func(m Message) bool {
		if m.Type == MsgSnap || m.Type == MsgSnapResp {
			k++
			return k%3 == 0
		}
		return false
	}
	c.tick(200)
	if !slices.Equal(c.appliedData(f), c.appliedData(l)) {
		t.Fatalf("follower applied %v\nleader applied %v", c.appliedData(f), c.appliedData(l))
	}
}

// snapMsg is a whole snapshot at (index, term) in one MsgSnap from the
// leader of term 5, node 2.
func snapMsg(index, term uint64) Message {
	data := []byte("s")
	return Message{Type: MsgSnap, From: 2, To: 1, Term: 5, Index: index, LogTerm: term,
		Snapshot: &SnapshotChunk{Meta: SnapshotMeta{Index: index, Term: term, Members: []Member{{ID: 1}, {ID: 2}, {ID: 3}}},
			Size: uint64(len(data)), Data: data}}
}

// A follower keeps the entries after a snapshot only if its log holds the
// snapshot's last entry; otherwise they may conflict with the leader's log
// and it drops them all (the rule hashicorp/raft#697 broke).
func TestSnapshotKeepsOnlyAMatchingSuffix(t *testing.T) {
	for _, tt := range []struct {
		name     string
		term     uint64
		keep     bool
		wantLast uint64
	}{
		{"matching", 2, true, 5},
		{"conflicting", 3, false, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 1}, logOf(1, 2, 2, 2, 2))
			mustStep(t, n, snapMsg(3, tt.term))
			rd := flush(n)
			if rd.Snapshot == nil || rd.SnapshotKeepLog != tt.keep {
				t.Fatalf("Ready snapshot %v keep %v, want keep %v", rd.Snapshot != nil, rd.SnapshotKeepLog, tt.keep)
			}
			if last := n.log.lastIndex(); last != tt.wantLast {
				t.Fatalf("last index %d, want %d", last, tt.wantLast)
			}
			if n.log.committed != 3 || n.log.firstIndex() != 4 {
				t.Fatalf("commit %d first %d, want 3 and 4", n.log.committed, n.log.firstIndex())
			}
			acks := to(2, sent2(rd, MsgAppResp))
			if len(acks) != 1 || acks[0].Index != 3 || acks[0].Reject {
				t.Fatalf("answer %+v, want an ack of index 3", acks)
			}
		})
	}
}

func sent2(rd Ready, typ MessageType) []Message {
	var out []Message
	for _, m := range rd.Messages {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// A snapshot a follower already covers is answered with its commit index.
func TestSnapshotBehindCommitIsAcknowledged(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 4}, logOf(1, 2, 2, 2))
	mustStep(t, n, snapMsg(3, 2))
	rd := flush(n)
	if rd.Snapshot != nil {
		t.Fatal("installed a snapshot behind the commit index")
	}
	if acks := sent2(rd, MsgAppResp); len(acks) != 1 || acks[0].Index != 4 {
		t.Fatalf("answer %+v, want an ack of index 4", acks)
	}
}

// A snapshot over the size limit is refused, not buffered.
func TestSnapshotTooLargeIsRefused(t *testing.T) {
	n := newTestNode(t, 1, 3, func(c *Config) { c.MaxSnapshotBytes = 10 }, HardState{Term: 2}, nil)
	m := snapMsg(3, 2)
	m.Snapshot.Size = 11
	mustStep(t, n, m)
	rd := flush(n)
	if r := sent2(rd, MsgSnapResp); len(r) != 1 || !r[0].Reject {
		t.Fatalf("answer %+v, want a refusal", r)
	}
	if n.recv != nil {
		t.Fatal("buffered a refused snapshot")
	}
}

// Malformed snapshot messages are refused by Step.
func TestSnapshotMalformed(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*Message)
	}{
		{"no chunk", func(m *Message) { m.Snapshot = nil }},
		{"chunk past size", func(m *Message) { m.Snapshot.Offset = 1 }},
		{"meta disagrees", func(m *Message) { m.Index = 4 }},
		{"term above message", func(m *Message) { m.Snapshot.Meta.Term, m.LogTerm = 6, 6 }},
		{"no voters", func(m *Message) { m.Snapshot.Meta.Members = []Member{{ID: 1, Learner: true}} }},
		{"chunk on MsgApp", func(m *Message) { m.Type = MsgApp }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, 1, 3, nil, HardState{Term: 2}, nil)
			m := snapMsg(3, 2)
			tt.mod(&m)
			if err := n.Step(m); err == nil {
				t.Fatal("Step accepted it")
			}
		})
	}
}

// Compact refuses indexes it cannot cover.
func TestCompactChecks(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 2}, logOf(1, 2, 2))
	flush(n)
	if err := n.Compact(Snapshot{Meta: SnapshotMeta{Index: 3, Term: 2}}, 0); err == nil {
		t.Fatal("compacted past the applied index")
	}
	if err := n.Compact(Snapshot{Meta: SnapshotMeta{Index: 2, Term: 1}}, 0); err == nil {
		t.Fatal("compacted with the wrong term")
	}
	if err := n.Compact(Snapshot{Meta: SnapshotMeta{Index: 2, Term: 2, Members: n.Members()}}, 0); err != nil {
		t.Fatal(err)
	}
	if n.log.firstIndex() != 3 || n.SnapshotIndex() != 2 {
		t.Fatalf("first %d snapshot %d, want 3 and 2", n.log.firstIndex(), n.SnapshotIndex())
	}
}

// A snapshot installed right after an append that replaced stored entries
// at or below its index: storage's entries after the snapshot may be the
// replaced ones' followers, so the host must drop them and the log hands
// over every entry after the snapshot again (found by sim seed 2173).
func TestSnapshotAfterUnpersistedTruncation(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 2}, logOf(1, 2, 2, 2, 2, 2, 2))
	mustStep(t, n, Message{Type: MsgApp, From: 2, To: 1, Term: 5, Index: 2, LogTerm: 2, Commit: 2,
		Entries: []Entry{{Term: 5, Index: 3}, {Term: 5, Index: 4}, {Term: 5, Index: 5}}})
	m := snapMsg(4, 5)
	mustStep(t, n, m)
	rd := flush(n)
	if rd.Snapshot == nil || rd.SnapshotKeepLog {
		t.Fatalf("snapshot %v keep %v: the host must drop its stored entries after index 4", rd.Snapshot != nil, rd.SnapshotKeepLog)
	}
	if len(rd.Entries) != 1 || rd.Entries[0].Index != 5 || rd.Entries[0].Term != 5 {
		t.Fatalf("Entries %+v, want 5/t5 handed over again", rd.Entries)
	}
}
