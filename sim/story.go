package sim

import (
	"fmt"
	"strings"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
)

// recordKind says what a record describes.
type recordKind uint8

const (
	recNote      recordKind = iota + 1 // text: a fault, a client action, a phase
	recDeliver                         // msg arrived at node
	recCut                             // msg reached a cut link and was lost
	recDown                            // msg reached a node that is down
	recLost                            // msg was lost by the network when sent
	recPersist                         // node began a Persist of entries first..last with hs
	recDurable                         // node's Persist became durable
	recEvent                           // node emitted ev
	recStatus                          // node's role, term, leader or commit changed
	recViolation                       // text: the broken rule
	recRequest                         // a client sent request id (cmd, or a read of text) to node
	recReply                           // node answered request reply.RequestID
)

// record is one entry of the run's story. Records are kept as structures
// and formatted only when a story is told, so recording stays cheap.
type record struct {
	at          int64
	step        uint64
	node        uint64
	kind        recordKind
	msg         raft.Message
	ev          raft.Event
	hs          raft.HardState
	first, last uint64
	role        raft.Role
	text        string
	cmd         *kv.Command
	reply       engine.Reply
}

// story keeps the last records of a run in a ring.
type story struct {
	recs []record
	next int
	full bool
}

func newStory(n int) *story { return &story{recs: make([]record, n)} }

func (s *story) add(r record) {
	s.recs[s.next] = r
	s.next++
	if s.next == len(s.recs) {
		s.next, s.full = 0, true
	}
}

// lines returns the kept records, oldest first, formatted.
func (s *story) lines(tickMillis int64) []string {
	var out []string
	if s.full {
		for _, r := range s.recs[s.next:] {
			out = append(out, r.format(tickMillis))
		}
	}
	for _, r := range s.recs[:s.next] {
		out = append(out, r.format(tickMillis))
	}
	return out
}

// stamp formats a simulated time as seconds and ticks.
func stamp(at, tickMillis int64) string {
	return fmt.Sprintf("%3d.%03ds (tick %4d)", at/1000, at%1000, at/tickMillis)
}

func (r record) format(tickMillis int64) string {
	who := "    "
	if r.node != 0 {
		who = fmt.Sprintf("n%-3d", r.node)
	}
	return stamp(r.at, tickMillis) + " " + who + " " + r.describe()
}

func (r record) describe() string {
	switch r.kind {
	case recNote, recViolation:
		return r.text
	case recDeliver:
		return "← " + messageString(r.msg)
	case recCut:
		return "✂ link cut, lost " + messageString(r.msg)
	case recDown:
		return "✝ node down, lost " + messageString(r.msg)
	case recLost:
		return "✗ network lost " + messageString(r.msg)
	case recPersist:
		return "persist " + persistString(r.hs, r.first, r.last)
	case recDurable:
		return "durable " + persistString(r.hs, r.first, r.last)
	case recEvent:
		return "event: " + r.ev.Text
	case recRequest:
		if r.cmd != nil {
			return fmt.Sprintf("client request %d: %s", r.first, commandString(*r.cmd))
		}
		return fmt.Sprintf("client request %d: READ %s", r.first, r.text)
	case recReply:
		s := fmt.Sprintf("reply to request %d: %s", r.reply.RequestID, r.reply.Code)
		if r.reply.Code == engine.ReplyOK {
			s += ", " + resultString(r.reply)
		} else if r.reply.Error != "" {
			s += " (" + r.reply.Error + ")"
		}
		if r.reply.Leader != 0 {
			s += fmt.Sprintf(", leader hint n%d", r.reply.Leader)
		}
		return s
	case recStatus:
		// For a status record, hs.Term is the term, first the leader and
		// last the commit index.
		return fmt.Sprintf("status: %s, term %d, leader n%d, commit %d", r.role, r.hs.Term, r.first, r.last)
	}
	return "?"
}

func persistString(hs raft.HardState, first, last uint64) string {
	s := fmt.Sprintf("term %d vote n%d commit %d", hs.Term, hs.Vote, hs.Commit)
	if first != 0 {
		s += fmt.Sprintf(", entries %d..%d", first, last)
	}
	return s
}

// messageString describes a message in one line, such as
// "n1→n2 App t3 prev 4/t2 commit 4 [5/t3 SET a=x]".
func messageString(m raft.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "n%d→n%d %s t%d", m.From, m.To, m.Type, m.Term)
	switch m.Type {
	case raft.MsgVote, raft.MsgPreVote:
		fmt.Fprintf(&b, " last %d/t%d", m.Index, m.LogTerm)
	case raft.MsgVoteResp, raft.MsgPreVoteResp, raft.MsgReadIndexResp:
		if m.Reject {
			b.WriteString(" rejected")
		} else {
			b.WriteString(" granted")
		}
		if m.Type == raft.MsgReadIndexResp {
			fmt.Fprintf(&b, " index %d", m.Index)
		}
	case raft.MsgApp:
		fmt.Fprintf(&b, " prev %d/t%d commit %d", m.Index, m.LogTerm, m.Commit)
	case raft.MsgAppResp:
		if m.Reject {
			fmt.Fprintf(&b, " rejected %d hint %d/t%d", m.Index, m.RejectHint, m.LogTerm)
		} else {
			fmt.Fprintf(&b, " match %d", m.Index)
		}
	case raft.MsgHeartbeat:
		fmt.Fprintf(&b, " commit %d", m.Commit)
	}
	if len(m.Entries) > 0 {
		b.WriteString(" [")
		for i, e := range m.Entries {
			if i == 3 {
				fmt.Fprintf(&b, " …+%d", len(m.Entries)-3)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(describe(e))
		}
		b.WriteString("]")
	}
	if len(m.Context) > 0 {
		fmt.Fprintf(&b, " ctx %x", m.Context)
	}
	return b.String()
}

// Violation is a broken invariant or a failed check, with what a reader
// needs to understand and replay it.
type Violation struct {
	// Rule is the rule broken, one of the Rule constants.
	Rule string
	// Detail says how, naming nodes, terms and entries.
	Detail string
	// Seed is the run's seed; Step and Time (simulated milliseconds) say
	// when the violation was found.
	Seed uint64
	Step uint64
	Time int64
	// Story is the run's last events before the violation, oldest first.
	Story []string
	// Replay is the command that replays the run.
	Replay string

	tickMillis int64
}

// Error tells the violation as a story: the rule, the detail, the last
// events, and the command that replays it.
func (v *Violation) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sim: %s violated at step %d, %s, seed %d\n  %s\n",
		v.Rule, v.Step, stamp(v.Time, max(v.tickMillis, 1)), v.Seed, v.Detail)
	if len(v.Story) > 0 {
		fmt.Fprintf(&b, "the last %d events:\n", len(v.Story))
		for _, l := range v.Story {
			b.WriteString("  " + l + "\n")
		}
	}
	if v.Replay != "" {
		fmt.Fprintf(&b, "replay: %s\n", v.Replay)
	}
	return b.String()
}
