package raft

// Malformed and foreign messages: Step returns an error wrapping
// ErrMalformed or ErrUnknownPeer, and the node is left exactly as it was.

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// nodeState is what a rejected message must not change.
type nodeState struct {
	Term, Vote, Lead          uint64
	Role                      Role
	Log                       []Entry
	Committed, Applied        uint64
	Stable, Unstable          uint64
	ElectionElapsed           int
	LastHeard                 []uint64
	Progress                  []progress
	Reads                     int
	Transferee                uint64
	HardStateChangedSinceLast bool
}

func stateOf(n *Node) nodeState {
	s := nodeState{
		Term: n.term, Vote: n.vote, Lead: n.lead, Role: n.role,
		Log:       slices.Clone(n.log.ents),
		Committed: n.log.committed, Applied: n.log.applied,
		Stable: n.log.stable, Unstable: n.log.unstable,
		ElectionElapsed: n.electionElapsed,
		LastHeard:       slices.Clone(n.lastHeard),
		Reads:           len(n.reads),
		Transferee:      n.transferee,

		HardStateChangedSinceLast: n.hardState() != n.lastHard,
	}
	for _, p := range n.prs {
		p.inflight = slices.Clone(p.inflight)
		s.Progress = append(s.Progress, p)
	}
	return s
}

// checkRejected steps m into n and checks that it is refused with an error
// wrapping want and that nothing changed or was sent.
func checkRejected(t *testing.T, n *Node, m Message, want error) {
	t.Helper()
	before := stateOf(n)
	err := n.Step(m)
	if !errors.Is(err, want) {
		t.Fatalf("Step: have error %v, want one wrapping %v", err, want)
	}
	if after := stateOf(n); !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed:\nbefore %+v\nafter  %+v", before, after)
	}
	rd := n.Ready()
	if len(rd.Messages) != 0 || rd.HardStateChanged || len(rd.Entries) != 0 || len(rd.Committed) != 0 || len(rd.ReadStates) != 0 {
		t.Fatalf("a rejected message produced %+v", rd)
	}
}

// malformedCases returns messages no correct member of cluster {1, 2, 3}
// sends to node 1 in term 2 whose log holds terms [1 1 2], all committed up
// to 2.
func malformedCases() []struct {
	name string
	m    Message
	want error
} {
	app := func(term, index, logTerm uint64, ents ...Entry) Message {
		return Message{Type: MsgApp, From: 2, To: 1, Term: term, Index: index, LogTerm: logTerm, Entries: ents}
	}
	return []struct {
		name string
		m    Message
		want error
	}{
		{"unknown sender's heartbeat response", Message{Type: MsgHeartbeatResp, From: 9, To: 1, Term: 2}, ErrUnknownPeer},
		{"unknown sender, later term", Message{Type: MsgVote, From: 9, To: 1, Term: 9, Index: 9, LogTerm: 9}, ErrUnknownPeer},
		{"sender 0", Message{Type: MsgHeartbeat, From: 0, To: 1, Term: 2}, ErrUnknownPeer},
		{"sender is the receiver", Message{Type: MsgApp, From: 1, To: 1, Term: 5}, ErrUnknownPeer},
		{"unknown sender's proposal", Message{Type: MsgProp, From: 9, To: 1, Entries: []Entry{{Data: []byte("x")}}}, ErrUnknownPeer},
		{"wrong To", Message{Type: MsgHeartbeat, From: 2, To: 3, Term: 2}, ErrMalformed},
		{"To 0", Message{Type: MsgApp, From: 2, To: 0, Term: 5}, ErrMalformed},
		{"unknown type 0", Message{Type: 0, From: 2, To: 1, Term: 2}, ErrMalformed},
		{"unknown type 200", Message{Type: 200, From: 2, To: 1, Term: 2}, ErrMalformed},
		{"no term", Message{Type: MsgVote, From: 2, To: 1}, ErrMalformed},
		{"heartbeat with entries", Message{Type: MsgHeartbeat, From: 2, To: 1, Term: 2, Entries: []Entry{{Term: 2, Index: 4}}}, ErrMalformed},
		{"vote with entries", Message{Type: MsgVote, From: 2, To: 1, Term: 3, Entries: []Entry{{Term: 3, Index: 4}}}, ErrMalformed},
		{"proposal of a no-op", Message{Type: MsgProp, From: 2, To: 1, Entries: []Entry{{Type: EntryNoop}}}, ErrMalformed},
		{"entries not contiguous: gap after prev", app(2, 3, 2, Entry{Term: 2, Index: 5}), ErrMalformed},
		{"entries not contiguous: gap inside", app(2, 3, 2, Entry{Term: 2, Index: 4}, Entry{Term: 2, Index: 6}), ErrMalformed},
		{"entries not contiguous: repeated", app(2, 3, 2, Entry{Term: 2, Index: 4}, Entry{Term: 2, Index: 4}), ErrMalformed},
		{"entries not contiguous: before prev", app(2, 3, 2, Entry{Term: 2, Index: 3}), ErrMalformed},
		{"entry term above message term", app(2, 3, 2, Entry{Term: 3, Index: 4}), ErrMalformed},
		{"entry term above message term, later term", app(5, 3, 2, Entry{Term: 6, Index: 4}), ErrMalformed},
		{"entry term 0", app(2, 3, 2, Entry{Term: 0, Index: 4}), ErrMalformed},
		{"entry terms decrease", app(2, 3, 1, Entry{Term: 2, Index: 4}, Entry{Term: 1, Index: 5}), ErrMalformed},
		{"first entry's term below prev's", app(2, 3, 2, Entry{Term: 1, Index: 4}), ErrMalformed},
		{"prev term above message term", app(2, 3, 3), ErrMalformed},
		{"unknown entry type", app(2, 3, 2, Entry{Term: 2, Index: 4, Type: 7}), ErrMalformed},
	}
}

// Malformed or foreign messages are refused with an error and change
// nothing — in every role, including the leader's progress and reads.
func TestStepRejectsMalformedAndForeign(t *testing.T) {
	roles := map[string]func(t *testing.T) *Node{
		"follower": func(t *testing.T) *Node {
			n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 2}, logOf(1, 1, 2))
			mustStep(t, n, Message{Type: MsgHeartbeat, From: 2, To: 1, Term: 2, Commit: 2})
			n.Tick()
			flush(n)
			return n
		},
		"candidate": func(t *testing.T) *Node {
			n := newTestNode(t, 1, 3, noPreVote, HardState{Term: 1, Commit: 2}, logOf(1, 1))
			n.Campaign()
			flush(n)
			return n
		},
		"leader": func(t *testing.T) *Node {
			n := newTestNode(t, 1, 3, nil, HardState{Term: 1, Commit: 2}, logOf(1, 1))
			makeLeader(t, n)
			n.ReadIndex([]byte("r"))
			flush(n)
			return n
		},
	}
	for role, mk := range roles {
		for _, tt := range malformedCases() {
			t.Run(role+"/"+tt.name, func(t *testing.T) {
				checkRejected(t, mk(t), tt.m, tt.want)
			})
		}
	}
}

// A MsgApp whose entries contradict committed entries cannot come from a
// correct leader (Leader Completeness, §5.4): it is refused as malformed,
// the term and leader untouched, and nothing is acknowledged.
func TestStepRejectsOverwriteOfCommittedEntries(t *testing.T) {
	// was skipped: BUG (fixed)
	tests := []struct {
		name string
		m    Message
	}{
		{"same term, prev below commit", Message{Term: 2, Index: 1, LogTerm: 1, Entries: []Entry{{Term: 2, Index: 2}}}},
		{"later term, prev below commit", Message{Term: 3, Index: 1, LogTerm: 1, Entries: []Entry{{Term: 3, Index: 2}, {Term: 3, Index: 3}}}},
		{"later term, whole log", Message{Term: 3, Index: 0, LogTerm: 0, Entries: []Entry{{Term: 3, Index: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 2}, logOf(1, 1, 2))
			flush(n)
			m := tt.m
			m.Type, m.From, m.To = MsgApp, 2, 1
			checkRejected(t, n, m, ErrMalformed)
		})
	}
}

// The committed prefix of a follower's log is never rewritten, whatever a
// MsgApp says (the reply is the commit index, so the leader moves on).
func TestStepNeverRewritesCommittedEntries(t *testing.T) {
	n := newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 2}, logOf(1, 1, 2))
	flush(n)
	n.Step(Message{Type: MsgApp, From: 2, To: 1, Term: 3, Index: 0, LogTerm: 0,
		Entries: []Entry{{Term: 3, Index: 1}, {Term: 3, Index: 2}, {Term: 3, Index: 3}}})
	if have := termsOf(n)[:2]; !slices.Equal(have, []uint64{1, 1}) {
		t.Fatalf("committed entries rewritten: have terms %v, want [1 1]", have)
	}
	if n.log.committed != 2 {
		t.Fatalf("have commit %d, want 2", n.log.committed)
	}
}

// Step never panics, whatever the message: random messages from members
// and strangers, of every type, with random fields, into nodes of every
// role. A refused message changes nothing; committed entries never change.
func TestStepRandomMessagesDoNotPanic(t *testing.T) {
	rng := splitmix64(7)
	pick := func(n uint64) uint64 { return rng.next() % n }
	for round := range 300 {
		var n *Node
		switch round % 3 {
		case 0:
			n = newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 2}, logOf(1, 1, 2))
		case 1:
			n = newTestNode(t, 1, 3, noPreVote, HardState{Term: 2, Commit: 1}, logOf(1, 2))
			n.Campaign()
		case 2:
			n = newTestNode(t, 1, 3, nil, HardState{Term: 2, Commit: 1}, logOf(1, 2))
			makeLeader(t, n)
			n.ReadIndex([]byte("r"))
		}
		flush(n)
		for step := range 60 {
			m := Message{
				Type:       MessageType(pick(15)),
				From:       pick(5),
				To:         1 + pick(4)/3, // mostly 1
				Term:       pick(6),
				LogTerm:    pick(6),
				Index:      pick(8),
				Commit:     pick(9),
				Reject:     pick(2) == 0,
				RejectHint: pick(8),
			}
			if pick(4) == 0 {
				m.Index = ^uint64(0) - pick(3)
			}
			if pick(4) == 0 {
				m.RejectHint = ^uint64(0) - pick(3)
			}
			if pick(3) == 0 {
				m.Context = []byte{0, 0, 0, 0, 0, 0, 0, byte(pick(4))}
			}
			for k := range pick(4) {
				e := Entry{Term: pick(6), Index: m.Index + 1 + uint64(k), Type: EntryType(pick(3) / 2)}
				if pick(5) == 0 {
					e.Index = pick(8)
				}
				m.Entries = append(m.Entries, e)
			}
			before := stateOf(n)
			committed := slices.Clone(n.log.ents[1 : n.log.committed+1])
			err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("round %d step %d: Step(%+v) panicked: %v", round, step, m, r)
					}
				}()
				return n.Step(m)
			}()
			if err != nil {
				if after := stateOf(n); !reflect.DeepEqual(before, after) {
					t.Fatalf("round %d step %d: refused %+v (%v) but state changed", round, step, m, err)
				}
			}
			if n.term < before.Term {
				t.Fatalf("round %d step %d: term went back from %d to %d", round, step, before.Term, n.term)
			}
			if n.log.committed < before.Committed || n.log.committed > n.log.lastIndex() {
				t.Fatalf("round %d step %d: commit %d (was %d, last %d)", round, step, n.log.committed, before.Committed, n.log.lastIndex())
			}
			for i, e := range committed {
				if have := n.log.ents[i+1]; have.Term != e.Term || have.Type != e.Type || string(have.Data) != string(e.Data) {
					t.Fatalf("round %d step %d: %+v rewrote committed entry %d: %+v → %+v", round, step, m, e.Index, e, have)
				}
			}
			if pick(3) == 0 {
				n.Tick()
			}
			flush(n)
		}
	}
}
