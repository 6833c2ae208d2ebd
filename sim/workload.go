package sim

import (
	"strconv"

	"github.com/wraft/wraft/kv"
)

// workload runs concurrent clients that issue random operations on a
// handful of keys until told to stop: SET, DEL and CAS through the log,
// GET mostly through Read and sometimes through the log.
type workload struct {
	c       *Cluster
	clients []*Client
	keys    []string
	// last is the last value the workload wrote to each key, for CAS
	// expectations that sometimes hold.
	last   map[string]string
	stopAt int64
	// busy counts operations in progress.
	busy   int
	values int
	ops    int
	// lastWrite is each client's last write through the log.
	lastWrite map[*Client]*Op
	// reused counts the writes that reused a sequence number, and refused
	// those the cluster refused for it.
	reused, refused int
}

// startWorkload starts n clients on keys; they stop starting operations at
// stopAt.
func startWorkload(c *Cluster, n int, keys []string, stopAt int64) *workload {
	w := &workload{c: c, keys: keys, last: make(map[string]string), stopAt: stopAt, lastWrite: make(map[*Client]*Op)}
	for range n {
		cl := c.NewClient()
		w.clients = append(w.clients, cl)
		c.after(c.rng.Int64N(50), func() { w.next(cl) })
	}
	return w
}

// idle reports whether no operation is in progress.
func (w *workload) idle() bool { return w.busy == 0 }

// next starts cl's next operation, unless the workload has stopped.
func (w *workload) next(cl *Client) {
	c := w.c
	if c.now >= w.stopAt || c.err != nil {
		return
	}
	rng := c.rng
	key := w.keys[rng.IntN(len(w.keys))]
	w.busy++
	w.ops++
	opts := OpOptions{
		Deadline: 2000 + rng.Int64N(2000),
		OnDone: func(op *Op) {
			w.busy--
			if !op.Read {
				w.lastWrite[cl] = op
			}
			if op.Refused {
				w.refused++
			}
			c.after(rng.Int64N(40), func() { w.next(cl) })
		},
	}
	switch r := rng.IntN(100); {
	case r < 35:
		cl.Get(key, opts)
	case r < 40:
		cl.Do(kv.Command{Op: kv.OpGet, Key: key}, false, opts)
	case r < 67:
		cl.Set(key, w.value(key), opts)
	case r < 70 && w.lastWrite[cl] != nil:
		// A client bug: the last write's sequence number again, with a
		// SET of a value never written (so surely another command). The
		// cluster must refuse it, unless the last write never applied.
		w.reused++
		cl.Reuse(w.lastWrite[cl], kv.Command{Op: kv.OpSet, Key: key, Value: []byte(w.value(key))}, opts)
	case r < 80:
		cl.Del(key, opts)
	default:
		var expect *string
		if v, ok := w.last[key]; ok && rng.IntN(4) != 0 {
			expect = &v
		}
		cl.CAS(key, expect, w.value(key), opts)
	}
}

// value returns a value never written before, and remembers it as key's
// latest.
func (w *workload) value(key string) string {
	w.values++
	v := "v" + strconv.Itoa(w.values)
	w.last[key] = v
	return v
}
