package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/wraft/wraft/kv"
)

// KVInput is one client operation as the linearizability model sees it.
type KVInput struct {
	Op            kv.Op
	Key           string
	Value         string
	Expect        string
	ExpectMissing bool
}

// KVOutput is what the client was told. Unknown means the client never
// learnt the outcome (no quorum, timeout, crash, gave up): the operation
// may have taken effect at any time after it was called, or never.
type KVOutput struct {
	Unknown bool
	OK      bool
	Found   bool
	Value   string
}

// kvState is one key's state in the model.
type kvState struct {
	exists bool
	value  string
}

// KVModel returns the porcupine model of the kv store, partitioned by key.
//
// An operation with an Unknown output is accepted whatever the state, and
// changes it as the operation would have: since such an operation's return
// time is the end of the history, porcupine may also linearize it last,
// which is the same as its never having happened.
func KVModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range h {
				k := op.Input.(KVInput).Key
				if _, ok := byKey[k]; !ok {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			slices.Sort(keys)
			out := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
		Init: func() any { return kvState{} },
		Step: func(state, input, output any) (bool, any) {
			return kvStep(state.(kvState), input.(KVInput), output.(KVOutput))
		},
		Equal: func(a, b any) bool { return a.(kvState) == b.(kvState) },
		DescribeOperation: func(input, output any) string {
			return describeOp(input.(KVInput), output.(KVOutput))
		},
		DescribeState: func(state any) string {
			s := state.(kvState)
			if !s.exists {
				return "(missing)"
			}
			return strconv.Quote(s.value)
		},
	}
}

// kvStep is the sequential specification of one key, as kv.Store.Apply
// documents it.
func kvStep(s kvState, in KVInput, out KVOutput) (bool, kvState) {
	switch in.Op {
	case kv.OpGet:
		if out.Unknown {
			return true, s
		}
		return out.OK && out.Found == s.exists && (!s.exists || out.Value == s.value), s
	case kv.OpSet:
		next := kvState{exists: true, value: in.Value}
		return out.Unknown || (out.OK && out.Found == s.exists), next
	case kv.OpDel:
		return out.Unknown || (out.OK && out.Found == s.exists), kvState{}
	case kv.OpCAS:
		applies := !s.exists && in.ExpectMissing || s.exists && !in.ExpectMissing && s.value == in.Expect
		next := s
		if applies {
			next = kvState{exists: true, value: in.Value}
		}
		if out.Unknown {
			return true, next
		}
		ok := out.OK == applies && out.Found == s.exists
		if !applies && s.exists {
			ok = ok && out.Value == s.value
		}
		return ok, next
	}
	return false, s
}

func describeOp(in KVInput, out KVOutput) string {
	var s string
	switch in.Op {
	case kv.OpGet:
		s = "GET " + in.Key
	case kv.OpSet:
		s = "SET " + in.Key + "=" + in.Value
	case kv.OpDel:
		s = "DEL " + in.Key
	case kv.OpCAS:
		if in.ExpectMissing {
			s = "CAS " + in.Key + " missing→" + in.Value
		} else {
			s = "CAS " + in.Key + " " + in.Expect + "→" + in.Value
		}
	default:
		s = in.Op.String()
	}
	switch {
	case out.Unknown:
		return s + " → ?"
	case !out.OK:
		return s + " → failed, " + foundString(out)
	default:
		return s + " → " + foundString(out)
	}
}

func foundString(out KVOutput) string {
	if !out.Found {
		return "missing"
	}
	if out.Value == "" {
		return "found"
	}
	return strconv.Quote(out.Value)
}

// history is the client operations of a run, for porcupine. Times are
// positions in one sequence of calls and returns, in simulation order, so
// that an operation called after another returned, even within the same
// simulated millisecond, is ordered after it.
type history struct {
	clock   int64
	ops     []porcupine.Operation
	unknown []porcupine.Operation
}

func (h *history) tick() int64 {
	h.clock++
	return h.clock
}

// add records an operation with a known outcome.
func (h *history) add(client int, in KVInput, call int64, out KVOutput, meta string) {
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: h.tick(), Metadata: meta})
}

// addUnknown records an operation whose outcome is unknown; it returns at
// the end of the history.
func (h *history) addUnknown(client int, in KVInput, call int64, meta string) {
	h.unknown = append(h.unknown, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: KVOutput{Unknown: true}, Metadata: meta})
}

// operations returns the history, unknown operations returning after
// everything else.
func (h *history) operations() []porcupine.Operation {
	end := h.clock + 1
	out := slices.Clone(h.ops)
	for _, op := range h.unknown {
		op.Return = end
		out = append(out, op)
	}
	return out
}

// LinearizabilityResult is the outcome of checking a run's history.
type LinearizabilityResult struct {
	// Result is porcupine's verdict: Ok, Illegal, or Unknown (timed out).
	Result porcupine.CheckResult
	// Ops and Unknown count the operations checked and those among them
	// whose outcome the client never learnt.
	Ops, Unknown int
	// Info lets a caller draw the history with porcupine.Visualize.
	Info porcupine.LinearizationInfo
}

// CheckLinearizable checks the history of every client operation that
// ended so far, or is still unknown, with porcupine, giving up after
// timeout (0: no limit).
func (c *Cluster) CheckLinearizable(timeout time.Duration) LinearizabilityResult {
	ops := c.hist.operations()
	res, info := porcupine.CheckOperationsVerbose(KVModel(), ops, timeout)
	return LinearizabilityResult{Result: res, Ops: len(ops), Unknown: len(c.hist.unknown), Info: info}
}

// HistoryString returns the client history, one operation a line, in call
// order: for a failure's report.
func (c *Cluster) HistoryString() string {
	ops := c.hist.operations()
	slices.SortStableFunc(ops, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
	var b strings.Builder
	for _, op := range ops {
		ret := strconv.FormatInt(op.Return, 10)
		if op.Output.(KVOutput).Unknown {
			ret = "∞"
		}
		fmt.Fprintf(&b, "  [%d,%s] client %d: %s  (%v)\n", op.Call, ret, op.ClientId,
			describeOp(op.Input.(KVInput), op.Output.(KVOutput)), op.Metadata)
	}
	return b.String()
}
