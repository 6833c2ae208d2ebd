package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/sim"
)

// workload runs clients against the cluster until stopped and records
// every operation for porcupine.
type workload struct {
	mu    sync.Mutex
	ops   []porcupine.Operation
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startWorkload(t *testing.T, endpoints []string, clients int) *workload {
	w := &workload{start: time.Now(), stop: make(chan struct{})}
	keys := []string{"a", "b", "c", "d"}
	for i := range clients {
		cl, err := client.New(endpoints)
		if err != nil {
			t.Fatal(err)
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; ; n++ {
				select {
				case <-w.stop:
					return
				default:
				}
				key := keys[rng.IntN(len(keys))]
				in := sim.KVInput{Key: key}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				call := time.Since(w.start)
				var out sim.KVOutput
				switch r := rng.IntN(10); {
				case r < 4:
					in.Op, in.Value = kv.OpSet, fmt.Sprintf("c%d-%d", i, n)
					rep, err := cl.Set(ctx, key, []byte(in.Value))
					out = sim.KVOutput{Unknown: err != nil || rep.Code != "ok", OK: rep.OK, Found: rep.Found}
				case r < 5:
					in.Op, in.Expect, in.Value = kv.OpCAS, fmt.Sprintf("c%d-%d", i, n-1), fmt.Sprintf("c%d-%d", i, n)
					rep, err := cl.CAS(ctx, key, []byte(in.Expect), []byte(in.Value))
					out = sim.KVOutput{Unknown: err != nil || rep.Code != "ok", OK: rep.OK, Found: rep.Found, Value: rep.Value}
				default:
					in.Op = kv.OpGet
					rep, err := cl.Get(ctx, key, false)
					out = sim.KVOutput{Unknown: err != nil || rep.Code != "ok", OK: true, Found: rep.Found, Value: rep.Value}
				}
				cancel()
				ret := time.Since(w.start)
				if out.Unknown && in.Op == kv.OpGet {
					continue // a read that never answered constrains nothing
				}
				op := porcupine.Operation{ClientId: i, Input: in, Call: int64(call), Output: out, Return: int64(ret)}
				if out.Unknown {
					op.Return = 1 << 62 // it may take effect at any later time
				}
				w.mu.Lock()
				w.ops = append(w.ops, op)
				w.mu.Unlock()
				time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
			}
		}()
	}
	return w
}

// check stops the workload and checks its history.
func (w *workload) check(t *testing.T) {
	close(w.stop)
	w.wg.Wait()
	known := 0
	for _, op := range w.ops {
		if !op.Output.(sim.KVOutput).Unknown {
			known++
		}
	}
	res, info := porcupine.CheckOperationsVerbose(sim.KVModel(), w.ops, 60*time.Second)
	t.Logf("client history: %d operations (%d with a known outcome): %v", len(w.ops), known, res)
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

func (c *cluster) endpoints() []string {
	var eps []string
	for _, a := range c.apis {
		eps = append(eps, "http://"+a)
	}
	return eps
}

// TestProcessScenarios runs the seed's scenarios against three real wraft
// node processes hosting raft.wasm, with clients writing and reading
// throughout, and checks the whole history with porcupine.
func TestProcessScenarios(t *testing.T) {
	c := newCluster(t, "wasm")
	l := c.leader(0)
	c.set("temperature", "72.5")
	c.get("temperature", "72.5")
	w := startWorkload(t, c.endpoints(), 3)

	// Kill the leader: a new one is elected and writes go on.
	c.kill9(l)
	l2 := c.leader(l)
	t.Logf("kill -9 leader %d: node %d leads now", l, l2)
	c.set("pressure", "14.7")

	// Restart it: it catches up from its own storage and the leader.
	c.start(l)
	c.converged()
	c.get("pressure", "14.7")

	// SIGSTOP the leader: the others elect a new one; SIGCONT: it rejoins.
	l3 := c.leader(0)
	c.signal(l3, syscall.SIGSTOP)
	l4 := c.leader(l3)
	t.Logf("SIGSTOP leader %d: node %d leads now", l3, l4)
	c.set("humidity", "40")
	c.signal(l3, syscall.SIGCONT)
	c.converged()

	// Partition the leader from the others: the majority goes on, the
	// minority cannot commit; after healing all converge.
	l5 := c.leader(0)
	var others []uint64
	for id := 1; id <= 3; id++ {
		if id != l5 {
			others = append(others, uint64(id))
			c.admin(id, "faults", map[string]any{"blocked": []uint64{uint64(l5)}})
		}
	}
	c.admin(l5, "faults", map[string]any{"blocked": others})
	l6 := c.leader(l5)
	t.Logf("partition %d | %v: node %d leads the majority", l5, others, l6)
	c.set("wind", "12")
	minority, err := client.New([]string{"http://" + c.apis[l5-1]})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	rep, err := minority.Set(ctx, "wind", []byte("99"))
	cancel()
	if !errIs(err, client.ErrNoQuorum) {
		t.Fatalf("a write to the minority side: have %+v, %v; want no quorum", rep, err)
	}
	for id := 1; id <= 3; id++ {
		c.admin(id, "heal", nil)
	}
	c.converged()
	c.get("wind", "12")

	w.check(t)
}

// TestProcessQuorumLoss kills two of three nodes: writes fail with "no
// quorum" and nothing acknowledged is lost once they return.
func TestProcessQuorumLoss(t *testing.T) {
	c := newCluster(t, "native")
	l := c.leader(0)
	for i := range 20 {
		c.set(fmt.Sprintf("k%d", i), fmt.Sprint(i))
	}
	var dead []int
	for id := 1; id <= 3 && len(dead) < 2; id++ {
		if id != l {
			dead = append(dead, id)
		}
	}
	dead[1] = l // kill the leader and one follower
	for _, id := range dead {
		c.kill9(id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	rep, err := c.cl.Set(ctx, "lost", []byte("?"))
	cancel()
	if !errIs(err, client.ErrNoQuorum) || rep.Alive != 1 || rep.Voters != 3 {
		t.Fatalf("a write with 1/3 alive: have %+v, %v; want no quorum (only 1/3 alive)", rep, err)
	}
	for _, id := range dead {
		c.start(id)
	}
	c.leader(0)
	for i := range 20 {
		c.get(fmt.Sprintf("k%d", i), fmt.Sprint(i))
	}
	c.converged()
}
