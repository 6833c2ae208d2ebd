package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// The memory mode (-memory-keys 100000) checks the issue's "a node holding
// 100,000 keys of 256 bytes stays under 100 MB resident": one system at a
// time, it writes that many distinct keys into a fresh three-node cluster,
// waits until every node has applied them, and reads each node's VmRSS
// and VmHWM. Then it goes on writing (overwrites of the same keys, so the
// store keeps the same size) until every node has taken a snapshot that
// covers the whole load, and reads them again.

// memLoaders is how many writers load the keys.
const memLoaders = 100

// Memory is one system's memory measurement.
type Memory struct {
	System     string  `json:"system"`
	Keys       int     `json:"keys"`
	ValueBytes int     `json:"value_bytes"`
	LoadS      float64 `json:"load_seconds"`
	Errors     int64   `json:"errors"`
	// Loaded is each node (in id order) once all keys are applied
	// everywhere; Snapshotted once every node's snapshot covers them
	// (for etcd, which does not report its snapshot index, after
	// snapshot-count+1 more writes: see SnapshotNote).
	Loaded       []MemNode `json:"loaded"`
	Snapshotted  []MemNode `json:"snapshotted,omitempty"`
	SnapshotNote string    `json:"snapshot_note,omitempty"`
	ExtraWrites  int64     `json:"extra_writes"`
	Error        string    `json:"error,omitempty"`
}

// MemNode is what one node's /proc/<pid>/status and status API said.
type MemNode struct {
	RSSMB    float64 `json:"rss_mb"`
	HWMMB    float64 `json:"hwm_mb"`
	Applied  uint64  `json:"applied"`
	Snapshot uint64  `json:"snapshot"`
	Keys     int     `json:"keys"` // -1 if the system does not report it
}

// MemResults is what the memory mode writes as JSON.
type MemResults struct {
	Started         string            `json:"started"`
	Machine         Machine           `json:"machine"`
	Versions        map[string]string `json:"versions"`
	SnapshotEntries int               `json:"wraft_snapshot_entries"`
	Memories        []Memory          `json:"memories"`
}

// memKey is the 8-byte key of the n-th distinct key.
func memKey(n int) string {
	s := strconv.Itoa(n)
	if len(s) >= 8 {
		return s
	}
	return "m0000000"[:8-len(s)] + s
}

// readMem reads VmRSS and VmHWM (in MB) from /proc/<pid>/status.
func readMem(pid int) (rss, hwm float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("memory of %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("memory of %d: %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			rss = float64(kb) / 1024
		} else {
			hwm = float64(kb) / 1024
		}
	}
	return rss, hwm, sc.Err()
}

// writeKeys writes keys first..first+count-1 (modulo keys) with
// memLoaders writers sent to the leader, and returns the number of
// writes that failed (after the writers' retries) and the first error.
func writeKeys(ctx context.Context, c *cluster, first, count, keys int, value []byte) (int64, error) {
	n, _, err := writeKeyList(ctx, c, count, func(i int) int { return (first + i) % keys }, value)
	return n, err
}

// writeKeyList writes memKey(at(i)) for i in [0, count) and also returns
// the key numbers whose writes failed.
func writeKeyList(ctx context.Context, c *cluster, count int, at func(int) int, value []byte) (int64, []int, error) {
	var failedMu sync.Mutex
	var failedKeys []int
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	lead, err := waitLeader(lctx, c.drv)
	cancel()
	if err != nil {
		return 0, nil, fmt.Errorf("%s: no leader: %w", c.name, err)
	}
	var next, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(memLoaders, count) {
		w, err := c.drv.writer(ctx, lead)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: writer: %w", c.name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			for ctx.Err() == nil {
				n := int(next.Add(1)) - 1
				if n >= count {
					return
				}
				kn := at(n)
				k := memKey(kn)
				var err error
				for try := 0; try < 3; try++ { // a session retry applies once
					rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					err = w.put(rctx, k, value)
					cancel()
					if err == nil || ctx.Err() != nil {
						break
					}
				}
				if err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
					failedMu.Lock()
					failedKeys = append(failedKeys, kn)
					failedMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return failed.Load(), failedKeys, err
	}
	return failed.Load(), failedKeys, firstErr
}

// clusterStates returns every node's state.
func clusterStates(ctx context.Context, c *cluster) ([]nodeState, error) {
	out := make([]nodeState, len(c.nodes))
	for i := range c.nodes {
		st, err := c.drv.state(ctx, uint64(i+1))
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// waitApplied waits (up to limit) until every node has applied the
// leader's commit index as it is now, and done (if not nil) holds for
// every node's state.
func waitApplied(ctx context.Context, c *cluster, limit time.Duration, done func(nodeState) bool) ([]nodeState, error) {
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	lead, err := waitLeader(wctx, c.drv)
	if err != nil {
		return nil, fmt.Errorf("%s: no leader: %w", c.name, err)
	}
	ls, err := c.drv.state(wctx, lead)
	if err != nil {
		return nil, err
	}
	target := ls.Commit
	var last error
	for {
		sts, err := clusterStates(wctx, c)
		if err == nil {
			ok := true
			for _, st := range sts {
				ok = ok && st.Applied >= target && (done == nil || done(st))
			}
			if ok {
				return sts, nil
			}
			last = fmt.Errorf("applied %v, want %d everywhere", appliedOf(sts), target)
		} else {
			last = err
		}
		select {
		case <-wctx.Done():
			return nil, fmt.Errorf("%s: %w", c.name, errors.Join(wctx.Err(), last))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func appliedOf(sts []nodeState) []uint64 {
	var out []uint64
	for _, st := range sts {
		out = append(out, st.Applied)
	}
	return out
}

// memSettle is how long the nodes idle before their memory is read.
const memSettle = 3 * time.Second

// readNodes reads every node's memory together with its state.
func readNodes(c *cluster, sts []nodeState) ([]MemNode, error) {
	var out []MemNode
	for i, pid := range c.pids() {
		rss, hwm, err := readMem(pid)
		if err != nil {
			return nil, err
		}
		out = append(out, MemNode{RSSMB: rss, HWMMB: hwm, Applied: sts[i].Applied, Snapshot: sts[i].Snapshot,
			Keys: sts[i].Keys})
	}
	return out, nil
}

// runMemory measures one system.
func runMemory(ctx context.Context, c *cluster, keys int, value []byte, etcdSnapshotCount int) (Memory, error) {
	m := Memory{System: c.name, Keys: keys, ValueBytes: len(value)}
	t0 := time.Now()
	failed, retry, err := writeKeyList(ctx, c, keys, func(i int) int { return i }, value)
	m.Errors = failed
	// Writes that failed (a stalled or re-electing cluster) are written
	// again, up to twice, so that every key is there when memory is read.
	for pass := 0; pass < 2 && len(retry) > 0 && ctx.Err() == nil; pass++ {
		slog.Warn("memory: writing failed keys again", "system", c.name, "keys", len(retry), "first error", err)
		todo := retry
		var f int64
		f, retry, err = writeKeyList(ctx, c, len(todo), func(i int) int { return todo[i] }, value)
		m.Errors += f
	}
	m.LoadS = time.Since(t0).Seconds()
	if err != nil {
		return m, fmt.Errorf("%s: load: %d writes failed (%d after retries): %w", c.name, m.Errors, len(retry), err)
	}
	slog.Info("memory: loaded", "system", c.name, "keys", keys, "seconds", fmt.Sprintf("%.1f", m.LoadS))
	hasKeys := func(st nodeState) bool { return st.Keys < 0 || st.Keys >= keys }
	sts, err := waitApplied(ctx, c, 2*time.Minute, hasKeys)
	if err != nil {
		return m, err
	}
	loadEnd := sts[0].Applied
	pause(ctx, memSettle)
	if m.Loaded, err = readNodes(c, sts); err != nil {
		return m, err
	}
	// Snapshot phase: overwrite keys in rounds of chunk writes until
	// every node's newest snapshot covers the load (or, for etcd, until
	// snapshot-count+1 writes have passed).
	const chunk = 2000
	deadline := time.Now().Add(6 * time.Minute)
	for next := 0; ; next += chunk {
		if ctx.Err() != nil {
			return m, ctx.Err()
		}
		sts, err := clusterStates(ctx, c)
		if err != nil {
			// A busy node may miss the status call's 1 s limit: retry
			// until the deadline.
			if time.Now().After(deadline) {
				return m, fmt.Errorf("%s: snapshot phase: %w", c.name, err)
			}
			slog.Warn("memory: status", "system", c.name, "err", err)
			pause(ctx, time.Second)
			next -= chunk
			continue
		}
		covered := true
		for _, st := range sts {
			if !st.SnapshotKnown {
				covered = m.ExtraWrites > int64(etcdSnapshotCount)
				m.SnapshotNote = fmt.Sprintf("etcd does not report its snapshot index; measured after %d more writes "+
					"(its --snapshot-count is %d)", m.ExtraWrites, etcdSnapshotCount)
				break
			}
			covered = covered && st.Snapshot >= loadEnd
		}
		if covered {
			break
		}
		if time.Now().After(deadline) {
			return m, fmt.Errorf("%s: no snapshot covering index %d within 6 minutes (snapshots %v)", c.name, loadEnd,
				snapshotsOf(sts))
		}
		f, err := writeKeys(ctx, c, next, chunk, keys, value)
		m.ExtraWrites += chunk
		m.Errors += f
		if err != nil {
			return m, fmt.Errorf("%s: snapshot phase: %w", c.name, err)
		}
		if c.name == "hashicorp-raft" {
			// hashicorp/raft checks for a snapshot every 120 s or so,
			// whatever the write rate: write slowly while it waits.
			pause(ctx, 2*time.Second)
		}
	}
	if sts, err = waitApplied(ctx, c, 2*time.Minute, hasKeys); err != nil {
		return m, err
	}
	pause(ctx, memSettle)
	if m.Snapshotted, err = readNodes(c, sts); err != nil {
		return m, err
	}
	return m, nil
}

func snapshotsOf(sts []nodeState) []uint64 {
	var out []uint64
	for _, st := range sts {
		out = append(out, st.Snapshot)
	}
	return out
}

// memoryMode runs the memory measurement for every system in o.systems,
// one at a time.
func memoryMode(ctx context.Context, specs map[string]spec, tmp string, o options, value []byte, res *MemResults) error {
	for _, name := range o.systems {
		slog.Info("memory: starting", "system", name, "keys", o.memoryKeys)
		c, err := startCluster(ctx, specs[name], tmp)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted: %w", ctx.Err())
			}
			res.Memories = append(res.Memories, Memory{System: name, Keys: o.memoryKeys, Error: err.Error()})
			slog.Error("system failed", "system", name, "err", err)
			continue
		}
		m, err := runMemory(ctx, c, o.memoryKeys, value, etcdSnapshotCount)
		c.stop()
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		if err != nil {
			m.Error = err.Error()
			slog.Error("memory failed", "system", name, "err", err)
		}
		res.Memories = append(res.Memories, m)
	}
	return nil
}

// etcdSnapshotCount is etcd v3.7's default --snapshot-count.
const etcdSnapshotCount = 10000

// printMemory prints one row per system and phase.
func printMemory(w io.Writer, res *MemResults) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tphase\tkeys\tload s\tVmRSS MB per node\tVmHWM MB per node\tapplied\tsnapshot\terrors\t")
	row := func(m Memory, phase string, ns []MemNode) {
		var rss, hwm, app, snap []string
		for _, n := range ns {
			rss = append(rss, fmt.Sprintf("%.0f", n.RSSMB))
			hwm = append(hwm, fmt.Sprintf("%.0f", n.HWMMB))
			app = append(app, strconv.FormatUint(n.Applied, 10))
			snap = append(snap, strconv.FormatUint(n.Snapshot, 10))
		}
		keys := "?"
		if len(ns) > 0 && ns[0].Keys >= 0 {
			keys = strconv.Itoa(ns[0].Keys)
		}
		if m.System == "etcd" {
			snap = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%d\t\n", m.System, phase, keys, m.LoadS,
			strings.Join(rss, "/"), strings.Join(hwm, "/"), app[0], strings.Join(snap, "/"), m.Errors)
	}
	for _, m := range res.Memories {
		if m.Error != "" && m.Loaded == nil {
			fmt.Fprintf(tw, "%s\terror\t\t\t\t\t\t\t\t\n", m.System)
			continue
		}
		row(m, "loaded", m.Loaded)
		if m.Snapshotted != nil {
			row(m, fmt.Sprintf("snapshot (+%d writes)", m.ExtraWrites), m.Snapshotted)
		}
	}
	tw.Flush()
	for _, m := range res.Memories {
		if m.Error != "" {
			fmt.Fprintf(w, "%s: error: %s\n", m.System, m.Error)
		}
		if m.SnapshotNote != "" {
			fmt.Fprintf(w, "%s: %s\n", m.System, m.SnapshotNote)
		}
	}
	for _, m := range res.Memories {
		rss, hwm := 0.0, 0.0
		for _, ns := range [][]MemNode{m.Loaded, m.Snapshotted} {
			for _, n := range ns {
				rss, hwm = max(rss, n.RSSMB), max(hwm, n.HWMMB)
			}
		}
		if m.Loaded != nil {
			fmt.Fprintf(w, "memory-result %s: keys=%d max-rss-mb=%.0f max-hwm-mb=%.0f under-100MB=%v\n",
				m.System, m.Keys, rss, hwm, hwm < 100)
		}
	}
}
