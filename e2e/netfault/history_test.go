//go:build linux

package netfault

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/sim"
)

// opTimeout bounds one client operation. The client retries inside it
// (other nodes, elections); an operation that has no answer by then is
// recorded with an unknown outcome.
const opTimeout = 5 * time.Second

// workload is clients writing and reading through the Go client, each
// with every node's endpoint, until stopped. It records every operation
// for porcupine and every client's waits between successes.
type workload struct {
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup

	mu  sync.Mutex
	ops []porcupine.Operation
	// waits are, per client, the spans from one success (or the start) to
	// the next success.
	waits []span
	// acked is, per client, the highest n of an acknowledged write of
	// "ledger-<client>" = n.
	acked []int
}

// span is one client's wait between two successes: from the return of the
// previous success (or the workload's start) to the return of the next.
type span struct {
	client   int
	from, to time.Time
}

// keys are the shared keys the clients race on; each client also writes
// its own ledger key with a counter that only grows.
var keys = []string{"k0", "k1", "k2", "k3", "k4", "k5"}

func startWorkload(t *testing.T, endpoints []string, clients int) *workload {
	w := &workload{start: time.Now(), stop: make(chan struct{}), acked: make([]int, clients)}
	for i := range clients {
		i := i
		cl, err := client.New(endpoints)
		if err != nil {
			t.Fatal(err)
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.run(i, cl)
		}()
	}
	return w
}

func (w *workload) run(i int, cl *client.Client) {
	rng := rand.New(rand.NewPCG(uint64(i), 19))
	lastOK := w.start
	ledger := fmt.Sprintf("ledger-%d", i)
	for n := 1; ; n++ {
		select {
		case <-w.stop:
			return
		default:
		}
		in := sim.KVInput{Key: keys[rng.IntN(len(keys))]}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		call := time.Now()
		var out sim.KVOutput
		switch r := rng.IntN(10); {
		case r < 1:
			in.Key, in.Op, in.Value = ledger, kv.OpSet, strconv.Itoa(n)
			rep, err := cl.Set(ctx, in.Key, []byte(in.Value))
			out = sim.KVOutput{Unknown: err != nil || rep.Code != "ok", OK: rep.OK, Found: rep.Found}
		case r < 4:
			in.Op, in.Value = kv.OpSet, fmt.Sprintf("c%d-%d", i, n)
			rep, err := cl.Set(ctx, in.Key, []byte(in.Value))
			out = sim.KVOutput{Unknown: err != nil || rep.Code != "ok", OK: rep.OK, Found: rep.Found}
		case r < 5:
			in.Op, in.Expect, in.Value = kv.OpCAS, fmt.Sprintf("c%d-%d", i, n-1), fmt.Sprintf("c%d-%d", i, n)
			rep, err := cl.CAS(ctx, in.Key, []byte(in.Expect), []byte(in.Value))
			out = sim.KVOutput{Unknown: err != nil || rep.Code != "ok", OK: rep.OK, Found: rep.Found, Value: rep.Value}
		default:
			in.Op = kv.OpGet
			rep, err := cl.Get(ctx, in.Key, false)
			out = sim.KVOutput{Unknown: err != nil || rep.Code != "ok", OK: true, Found: rep.Found, Value: rep.Value}
		}
		cancel()
		ret := time.Now()
		w.mu.Lock()
		if !out.Unknown {
			w.waits = append(w.waits, span{client: i, from: lastOK, to: ret})
			lastOK = ret
			if in.Key == ledger && in.Op == kv.OpSet {
				w.acked[i] = n
			}
		}
		if !out.Unknown || in.Op != kv.OpGet { // a read that never answered constrains nothing
			op := porcupine.Operation{ClientId: i, Input: in, Output: out,
				Call: int64(call.Sub(w.start)), Return: int64(ret.Sub(w.start))}
			if out.Unknown {
				op.Return = 1 << 62 // it may take effect at any later time
			}
			w.ops = append(w.ops, op)
		}
		w.mu.Unlock()
		sleep := time.Duration(10+rng.IntN(20)) * time.Millisecond
		select {
		case <-w.stop:
			return
		case <-time.After(sleep):
		}
	}
}

// halt stops the clients and waits for their last operations.
func (w *workload) halt() {
	close(w.stop)
	w.wg.Wait()
}

// writeWindow returns the first successful write that was called at or
// after from and returned before to, as its return's distance from from.
func (w *workload) firstWrite(from, to time.Time) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	best, ok := time.Duration(0), false
	f, e := int64(from.Sub(w.start)), int64(to.Sub(w.start))
	for _, op := range w.ops {
		in, out := op.Input.(sim.KVInput), op.Output.(sim.KVOutput)
		if in.Op == kv.OpGet || out.Unknown || op.Call < f || op.Return > e {
			continue
		}
		if d := time.Duration(op.Return - f); !ok || d < best {
			best, ok = d, true
		}
	}
	return best, ok
}

// longestWait returns the longest wait of any client that ended in
// [from, to), and that client; waits over slow are counted.
func (w *workload) longestWait(from, to time.Time, slow time.Duration) (longest time.Duration, who, over int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.waits {
		if s.to.Before(from) || !s.to.Before(to) {
			continue
		}
		d := s.to.Sub(s.from)
		if d > longest {
			longest, who = d, s.client
		}
		if d > slow {
			over++
		}
	}
	return longest, who, over
}

// waitsOver counts, per client, the waits over d that ended in
// [from, to).
func (w *workload) waitsOver(from, to time.Time, d time.Duration) map[int]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[int]int{}
	for _, s := range w.waits {
		if !s.to.Before(from) && s.to.Before(to) && s.to.Sub(s.from) > d {
			out[s.client]++
		}
	}
	return out
}

// finalReads reads every key through a fresh client and adds the reads
// to the history as one more client's; then it checks that no ledger
// lost an acknowledged write.
func (w *workload) finalReads(t *testing.T, endpoints []string) {
	t.Helper()
	cl, err := client.New(endpoints)
	if err != nil {
		t.Fatal(err)
	}
	id := len(w.acked)
	all := append([]string(nil), keys...)
	for i := range w.acked {
		all = append(all, fmt.Sprintf("ledger-%d", i))
	}
	for _, key := range all {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		call := time.Since(w.start)
		rep, err := cl.Get(ctx, key, false)
		ret := time.Since(w.start)
		cancel()
		if err != nil || rep.Code != "ok" {
			t.Errorf("final read of %s: %+v, %v", key, rep, err)
			continue
		}
		w.ops = append(w.ops, porcupine.Operation{ClientId: id, Input: sim.KVInput{Op: kv.OpGet, Key: key},
			Output: sim.KVOutput{OK: true, Found: rep.Found, Value: rep.Value}, Call: int64(call), Return: int64(ret)})
		var i int
		if _, err := fmt.Sscanf(key, "ledger-%d", &i); err != nil {
			continue
		}
		have, _ := strconv.Atoi(rep.Value)
		if w.acked[i] > 0 && (!rep.Found || have < w.acked[i]) {
			t.Errorf("acknowledged write lost: %s = %d was acknowledged, the cluster has %q (found %v)",
				key, w.acked[i], rep.Value, rep.Found)
		}
	}
}

// check runs porcupine over the history and fails the test if it is not
// linearizable (a visualization goes to the test's temp dir).
func (w *workload) check(t *testing.T) {
	t.Helper()
	known, unknownWrites := 0, 0
	for _, op := range w.ops {
		if op.Output.(sim.KVOutput).Unknown {
			unknownWrites++
		} else {
			known++
		}
	}
	res, info := porcupine.CheckOperationsVerbose(sim.KVModel(), w.ops, 90*time.Second)
	t.Logf("client history: %d operations (%d with a known outcome, %d writes with an unknown one): %v",
		len(w.ops), known, unknownWrites, res)
	if res == porcupine.Illegal {
		path := filepath.Join(t.TempDir(), "history.html")
		if f, err := os.Create(path); err == nil {
			porcupine.Visualize(sim.KVModel(), info, f)
			f.Close()
		}
		t.Fatalf("the client history is not linearizable (visualization: %s)", path)
	}
	if known == 0 {
		t.Fatal("no operation completed: the workload proved nothing")
	}
}
