package sim

import (
	"fmt"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
)

// Client is a simulated kv client: it has a session (ClientID and Seq), it
// sends each operation to a node, follows leader hints and retries with the
// same Seq, as a real client would, and records every operation in the
// cluster's history for the linearizability check.
type Client struct {
	c *Cluster
	// index is the client's position in the history, from 0.
	index   int
	session uint64
	seq     uint64
	// hint is the node the client believes leads, or 0.
	hint uint64
}

// NewClient returns a client with a fresh session id.
func (c *Cluster) NewClient() *Client {
	c.clients++
	return &Client{c: c, index: c.clients - 1, session: uint64(c.clients)}
}

// Op is one client operation, with every attempt it took.
type Op struct {
	// Command is the operation; a GET with Read set goes through Read
	// (ReadIndex), any other through the log.
	Command kv.Command
	Read    bool
	// Done says the client stopped waiting: with Known, it learnt the
	// outcome, Reply; otherwise the outcome is unknown.
	Done, Known bool
	Reply       engine.Reply
	// Attempts lists the requests sent, the last one last.
	Attempts []*Call

	// Reuses is the earlier write whose session sequence number this one
	// reuses with a different command (see Client.Reuse), or nil.
	Reuses *Op
	// Refused says the cluster refused the write as reusing a sequence
	// number (ReplySessionConflict): it did not apply.
	Refused bool

	client   *Client
	opts     OpOptions
	call     int64 // history time of the call
	deadline int64
	onDone   func(*Op)
}

// OpOptions say how hard a client tries.
type OpOptions struct {
	// Node is the node to try first; 0 means the leader hint, or a random
	// node.
	Node uint64
	// NoRetry makes one attempt only: the first final reply is the
	// outcome (known if ReplyOK, unknown otherwise).
	NoRetry bool
	// Deadline is how long the client keeps retrying, in milliseconds.
	// Default 3000.
	Deadline int64
	// OnDone, if set, is called when the operation is done.
	OnDone func(*Op)
}

// Last returns the last attempt's call, or nil.
func (op *Op) Last() *Call {
	if len(op.Attempts) == 0 {
		return nil
	}
	return op.Attempts[len(op.Attempts)-1]
}

// String describes the operation and its outcome.
func (op *Op) String() string {
	s := commandString(op.Command)
	if op.Read {
		s = "READ " + op.Command.Key
	}
	switch {
	case !op.Done:
		return s + " (in progress)"
	case op.Refused:
		return s + " → refused: " + op.Last().Reply.Error
	case !op.Known:
		last := op.Last()
		if last != nil && last.Lost {
			return s + " → unknown (connection lost)"
		}
		if last != nil {
			return s + " → unknown (" + last.Reply.Code.String() + ")"
		}
		return s + " → unknown"
	}
	return s + " → " + resultString(op.Reply)
}

func resultString(r engine.Reply) string {
	s := "ok"
	if !r.OK {
		s = "ok, not applied: " + r.Error
	}
	switch {
	case r.Found && len(r.Value) > 0:
		s += fmt.Sprintf(", found %q", r.Value)
	case r.Found:
		s += ", found"
	default:
		s += ", missing"
	}
	return s + fmt.Sprintf(" (index %d)", r.Index)
}

// Do starts an operation. A write takes the session's next Seq, which
// every retry reuses, so that it applies at most once.
func (cl *Client) Do(cmd kv.Command, read bool, opts OpOptions) *Op {
	if opts.Deadline == 0 {
		opts.Deadline = 3000
	}
	c := cl.c
	if !read {
		cl.seq++
		cmd.ClientID, cmd.Seq = cl.session, cl.seq
	}
	op := &Op{Command: cmd, Read: read, client: cl, opts: opts,
		call: c.hist.tick(), deadline: c.now + opts.Deadline, onDone: opts.OnDone}
	target := opts.Node
	if target == 0 {
		target = cl.hint
	}
	if target == 0 {
		target = uint64(c.rng.IntN(len(c.nodes))) + 1
	}
	cl.attempt(op, target)
	return op
}

// Reuse starts a write that reuses the session's last sequence number,
// that of prev (the client's last write, done), with cmd, a different
// command: a client bug the cluster must refuse with
// ReplySessionConflict rather than answer with prev's result. It applies
// only if prev never did (an unknown outcome).
func (cl *Client) Reuse(prev *Op, cmd kv.Command, opts OpOptions) *Op {
	if opts.Deadline == 0 {
		opts.Deadline = 3000
	}
	c := cl.c
	for prev.Refused && prev.Reuses != nil {
		prev = prev.Reuses // the write that had the number first
	}
	cmd.ClientID, cmd.Seq = cl.session, prev.Command.Seq
	op := &Op{Command: cmd, Reuses: prev, client: cl, opts: opts,
		call: c.hist.tick(), deadline: c.now + opts.Deadline, onDone: opts.OnDone}
	target := cl.hint
	if target == 0 {
		target = uint64(c.rng.IntN(len(c.nodes))) + 1
	}
	cl.attempt(op, target)
	return op
}

// Set, Get, Del and CAS are shorthands for Do.

// Set stores value under key.
func (cl *Client) Set(key, value string, opts OpOptions) *Op {
	return cl.Do(kv.Command{Op: kv.OpSet, Key: key, Value: []byte(value)}, false, opts)
}

// Get reads key linearizably through Read (ReadIndex).
func (cl *Client) Get(key string, opts OpOptions) *Op {
	return cl.Do(kv.Command{Op: kv.OpGet, Key: key}, true, opts)
}

// Del removes key.
func (cl *Client) Del(key string, opts OpOptions) *Op {
	return cl.Do(kv.Command{Op: kv.OpDel, Key: key}, false, opts)
}

// CAS stores value under key if the key holds expect; with expect nil, if
// the key is missing.
func (cl *Client) CAS(key string, expect *string, value string, opts OpOptions) *Op {
	cmd := kv.Command{Op: kv.OpCAS, Key: key, Value: []byte(value), ExpectMissing: expect == nil}
	if expect != nil {
		cmd.Expect = []byte(*expect)
	}
	return cl.Do(cmd, false, opts)
}

// guardMillis is how long a node may take to answer a request before the
// client calls it a broken promise: well past the engine's own request
// timeout (three times it, at the slowest tick) and any disk stall.
func (c *Cluster) guardMillis() int64 {
	ticks := int64(c.opts.RequestTimeoutTicks)
	if ticks == 0 {
		ticks = 5 * int64(c.opts.ElectionTicks)
	}
	slowest := c.opts.TickMillis
	for _, n := range c.nodes {
		slowest = max(slowest, n.tickEvery)
	}
	return 3*ticks*slowest + 2000
}

func (cl *Client) attempt(op *Op, target uint64) {
	c := cl.c
	var cmd *kv.Command
	if !op.Read {
		cmd = &op.Command
	}
	call, err := c.request(target, cmd, op.Command.Key, func(call *Call) { cl.answered(op, call) })
	if err != nil {
		c.fail(breachf(RuleHostContract, "client %d: %v", cl.session, err))
		return
	}
	op.Attempts = append(op.Attempts, call)
	guard := c.guardMillis()
	c.after(guard, func() {
		if !call.Done && c.nodes[call.Node-1].up {
			c.fail(breachf(RuleHostContract, "n%d never answered request %d (%s), sent %d ms ago: every request gets one final reply",
				call.Node, call.ID, op, guard))
		}
	})
}

// answered handles the final reply (or loss) of one attempt.
func (cl *Client) answered(op *Op, call *Call) {
	c := cl.c
	if op.Done || call != op.Last() {
		return // a late answer to an attempt the client gave up on
	}
	r := call.Reply
	if !call.Lost {
		switch r.Code {
		case engine.ReplyOK:
			if prev := op.Reuses; prev != nil && prev.Known {
				c.fail(breachf(RuleHostContract, "n%d answers %s with success, but it reuses the sequence number of %s, "+
					"which applied: exactly-once turned silently wrong", call.Node, op, prev))
				return
			}
			cl.finish(op, true)
			return
		case engine.ReplySessionConflict:
			if op.Reuses == nil {
				c.fail(breachf(RuleHostContract, "n%d refuses %s as reusing a sequence number, which it does not: %s",
					call.Node, op, r.Error))
				return
			}
			op.Refused = true
			cl.finish(op, false)
			return
		case engine.ReplyInvalid:
			c.fail(breachf(RuleHostContract, "n%d refuses a valid request as invalid: %s: %s", call.Node, op, r.Error))
			return
		case engine.ReplyNotLeader:
			cl.hint = r.Leader
		case engine.ReplyNoQuorum, engine.ReplyTimeout, engine.ReplyOverloaded:
		default:
			c.fail(breachf(RuleHostContract, "n%d answers request %d with reply code %d", call.Node, call.ID, r.Code))
			return
		}
	} else if cl.hint == call.Node {
		cl.hint = 0
	}
	if op.opts.NoRetry || c.now >= op.deadline {
		cl.finish(op, false)
		return
	}
	// Retry: at once to a named leader, after a pause to anyone else.
	next, wait := cl.hint, int64(1)
	if next == 0 || next == call.Node {
		next = uint64(c.rng.IntN(len(c.nodes))) + 1
		if next == call.Node {
			next = next%uint64(len(c.nodes)) + 1
		}
		wait = 10 + c.rng.Int64N(40)
	}
	c.after(wait, func() {
		if !op.Done {
			cl.attempt(op, next)
		}
	})
}

// finish ends op and records it in the history.
func (cl *Client) finish(op *Op, known bool) {
	c := cl.c
	op.Done, op.Known = true, known
	last := op.Last()
	in := KVInput{Op: op.Command.Op, Key: op.Command.Key, Value: string(op.Command.Value),
		Expect: string(op.Command.Expect), ExpectMissing: op.Command.ExpectMissing}
	meta := fmt.Sprintf("%d attempts, from %d ms to %d ms", len(op.Attempts), op.Attempts[0].Sent, c.now)
	switch {
	case op.Refused:
		// Refused, so it did not apply: nothing for the history.
	case known:
		op.Reply = last.Reply
		r := last.Reply
		out := KVOutput{OK: r.OK, Found: r.Found, Value: string(r.Value)}
		if op.Read {
			out.OK = true // a read's OK reply serves it; kv.Result's OK is for commands
		}
		if !op.Read && !r.OK && op.Command.Op != kv.OpCAS {
			c.fail(breachf(RuleHostContract, "n%d acknowledges %s but did not apply it: %q", last.Node, commandString(op.Command), r.Error))
			return
		}
		c.hist.add(cl.index, in, op.call, out, meta)
	case op.Command.Op == kv.OpGet:
		// A read that never returned constrains nothing.
	default:
		c.hist.addUnknown(cl.index, in, op.call, meta)
	}
	if op.onDone != nil {
		op.onDone(op)
	}
}
