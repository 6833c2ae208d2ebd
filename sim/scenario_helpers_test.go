package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// scenario drives a Cluster through a scripted story. Under -v it prints
// the timeline as it happens: each step of the script, what the client is
// told, elections, role and term changes. A failure prints the last events
// of the run, messages included, and the command that replays it.
type scenario struct {
	t  *testing.T
	c  *Cluster
	cl *Client
}

func newScenario(t *testing.T, opts Options) *scenario {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	opts.Logf = func(format string, args ...any) { t.Logf(format, args...) }
	opts.Replay = fmt.Sprintf("go test ./sim -run '^%s$' -v", t.Name())
	opts.StoryLen = 120
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &scenario{t: t, c: c}
	s.cl = c.NewClient()
	return s
}

// fatalf stops the scenario with the story so far.
func (s *scenario) fatalf(format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if s.c.err != nil {
		s.t.Fatalf("%s\n%v", msg, s.c.err)
	}
	s.t.Fatalf("%s\nthe last %d events:\n  %s\nreplay: %s", msg, len(s.c.Story()),
		strings.Join(s.c.Story(), "\n  "), s.c.opts.Replay)
}

func (s *scenario) step(format string, args ...any) {
	s.c.Note("── "+format+" ──", args...)
}

func (s *scenario) check(err error) {
	s.t.Helper()
	if err != nil {
		s.fatalf("%v", err)
	}
}

// run lets ms milliseconds pass.
func (s *scenario) run(ms int64) {
	s.t.Helper()
	s.check(s.c.Run(ms))
}

// waitFor runs until cond holds, failing after limit milliseconds.
func (s *scenario) waitFor(what string, limit int64, cond func() bool) {
	s.t.Helper()
	ok, err := s.c.RunUntil(cond, limit)
	s.check(err)
	if !ok {
		s.fatalf("%s: not within %d ms", what, limit)
	}
}

// leader waits until the running nodes agree on one leader, and returns it.
func (s *scenario) leader() uint64 {
	s.t.Helper()
	var l uint64
	s.waitFor("a leader all running nodes follow", 3000, func() bool {
		l = s.c.Leader()
		if l == 0 {
			return false
		}
		lst, _ := s.c.Status(l)
		for _, id := range s.c.IDs() {
			if !slices.ContainsFunc(lst.Members, func(m raft.Member) bool { return m.ID == id }) {
				continue // not a member: it follows no one
			}
			st, ok := s.c.Status(id)
			if s.c.Up(id) && (!ok || st.Leader != l || st.Term != lst.Term) {
				return false
			}
		}
		return true
	})
	return l
}

func (s *scenario) status(id uint64) engine.Status {
	s.t.Helper()
	st, ok := s.c.Status(id)
	if !ok {
		s.fatalf("n%d has no status (down, or silent)", id)
	}
	return st
}

// followers returns the running nodes other than the leader l.
func (s *scenario) followers(l uint64) []uint64 {
	var out []uint64
	for _, id := range s.c.IDs() {
		if id != l && s.c.Up(id) {
			out = append(out, id)
		}
	}
	return out
}

// do waits for an operation to end and logs what the client was told.
func (s *scenario) do(op *Op) *Op {
	s.t.Helper()
	s.waitFor("client operation "+op.String(), 15_000, func() bool { return op.Done })
	s.c.Note("client (attempts: %d, the last at n%d): %s", len(op.Attempts), op.Last().Node, op)
	return op
}

// set writes key=value through node (0: wherever the client's retries
// lead) and requires success.
func (s *scenario) set(node uint64, key, value string) *Op {
	s.t.Helper()
	op := s.do(s.cl.Set(key, value, OpOptions{Node: node}))
	if !op.Known || !op.Reply.OK {
		s.fatalf("SET %s=%s: %s, want ok", key, value, op)
	}
	return op
}

// get reads key through node (with retries) and requires want ("" for
// missing).
func (s *scenario) get(node uint64, key, want string) {
	s.t.Helper()
	op := s.do(s.cl.Get(key, OpOptions{Node: node}))
	switch {
	case !op.Known:
		s.fatalf("GET %s at n%d: %s, want %q", key, node, op, want)
	case want == "" && op.Reply.Found:
		s.fatalf("GET %s at n%d: found %q, want missing", key, node, op.Reply.Value)
	case want != "" && string(op.Reply.Value) != want:
		s.fatalf("GET %s at n%d: %s, want %q", key, node, op, want)
	}
}

// converged waits until every running node has applied the same commit
// index and holds it on disk, and checks that the disks hold the same log
// up to it.
func (s *scenario) converged() {
	s.t.Helper()
	ok, err := s.c.RunUntil(func() bool {
		var commit uint64
		for i, id := range s.c.IDs() {
			st, ok := s.c.Status(id)
			if _, log := s.c.Disk(id); !ok || st.Applied != st.Commit || (i > 0 && st.Commit != commit) || uint64(len(log)) < st.Commit {
				return false
			}
			commit = st.Commit
		}
		return true
	}, 3000)
	s.check(err)
	if !ok {
		s.fatalf("the nodes did not converge within 3000 ms:%s", s.c.progress())
	}
	ids := s.c.IDs()
	commit := s.status(ids[0]).Commit
	_, want := s.c.Disk(ids[0])
	for _, id := range ids[1:] {
		_, log := s.c.Disk(id)
		if len(log) < int(commit) || len(want) < int(commit) {
			s.fatalf("n%d's disk holds %d entries, n%d's %d, below the commit index %d", id, len(log), ids[0], len(want), commit)
		}
		for i := range commit {
			if !sameEntry(log[i], want[i]) {
				s.fatalf("n%d's disk holds %s where n%d's holds %s, below the commit index %d", id, describe(log[i]), ids[0], describe(want[i]), commit)
			}
		}
	}
	s.c.Note("all %d nodes agree: commit %d, applied %d, logs identical", len(ids), commit, commit)
}

// finish checks the client history for linearizability and logs a summary.
func (s *scenario) finish() {
	s.t.Helper()
	lin := s.c.CheckLinearizable(10 * time.Second)
	if lin.Result != porcupine.Ok {
		s.fatalf("client history: %v, want linearizable:\n%s", lin.Result, s.c.HistoryString())
	}
	st := s.c.Stats()
	s.t.Logf("linearizable: %d operations (%d with unknown outcome); %d ticks, %d messages delivered, trace %x",
		lin.Ops, lin.Unknown, st.Ticks, st.Delivered, s.c.TraceHash())
}

// watch starts counting the events of a kind: the function it returns
// reports how many node emitted since (node 0: any node).
func (s *scenario) watch(kind raft.EventKind) func(node uint64) int {
	start := len(s.c.events)
	return func(node uint64) int {
		n := 0
		for _, e := range s.c.events[start:] {
			if (node == 0 || e.node == node) && e.kind == kind {
				n++
			}
		}
		return n
	}
}
