package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
)

// keySpace is how many distinct 8-byte keys the writers cycle through.
const keySpace = 1_000_000

// Load is the outcome of one closed-loop workload: Clients writers, each
// with one write outstanding, for Seconds.
type Load struct {
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	Writes     int64   `json:"writes"`
	Errors     int64   `json:"errors"`
	Throughput float64 `json:"writes_per_sec"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	Maxms      float64 `json:"max_ms"`
	// CPUs is each node's CPU time (user+system) during the run, in id
	// order; RSSMB each node's peak resident set since it started.
	CPUs  []float64 `json:"cpu_seconds"`
	RSSMB []float64 `json:"max_rss_mb"`
}

// key returns the 8-byte key of writer i's n-th write.
func key(i, n int) string {
	s := strconv.Itoa((i*7919 + n) % keySpace)
	return "k0000000"[:8-len(s)] + s
}

// runLoad runs clients writers against c for dur and measures them.
func runLoad(ctx context.Context, c *cluster, clients int, dur time.Duration, value []byte) (Load, error) {
	ws := make([]writer, clients)
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.close()
			}
		}
	}()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	lead, err := waitLeader(lctx, c.drv)
	cancel()
	if err != nil {
		return Load{}, fmt.Errorf("%s: no leader: %w", c.name, err)
	}
	for i := range ws {
		w, err := c.drv.writer(ctx, lead)
		if err != nil {
			return Load{}, fmt.Errorf("%s: writer %d: %w", c.name, i, err)
		}
		ws[i] = w
	}
	pids := c.pids()
	before := usages(pids)
	lats := make([][]time.Duration, clients)
	errs := make([]int64, clients)
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				if t0.After(deadline) {
					break
				}
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := w.put(rctx, key(i, n), value)
				cancel()
				if err != nil {
					errs[i]++
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			lats[i] = lat
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Load{}, err
	}
	l := Load{Clients: clients, Seconds: elapsed.Seconds()}
	var all []time.Duration
	for i := range lats {
		all = append(all, lats[i]...)
		l.Errors += errs[i]
	}
	slices.Sort(all)
	l.Writes = int64(len(all))
	l.Throughput = float64(l.Writes) / elapsed.Seconds()
	l.P50ms, l.P99ms, l.Maxms = ms(pct(all, 0.50)), ms(pct(all, 0.99)), ms(pct(all, 1))
	l.CPUs, l.RSSMB = usageSince(pids, before)
	if l.Errors > 0 {
		slog.Warn("writes failed", "system", c.name, "clients", clients, "errors", l.Errors, "first", firstErr)
	}
	if l.Writes == 0 {
		return l, fmt.Errorf("%s: no write succeeded with %d clients: %w", c.name, clients, firstErr)
	}
	return l, nil
}

// pct returns the p-th quantile of sorted durations (0 if none).
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Failover is the outcome of killing the leader again and again: each
// sample is the time from kill -9 of the leader to the next acknowledged
// write.
type Failover struct {
	Kills     int       `json:"kills"`
	SamplesMs []float64 `json:"samples_ms"`
	MedianMs  float64   `json:"median_ms"`
	MaxMs     float64   `json:"max_ms"`
}

// runFailover kills c's leader kills times. After each kill, one writer
// per surviving node writes (each attempt bounded by attemptTimeout, so the
// measurement resolves to about that) until one write is acknowledged,
// which ends the sample; then the killed node is restarted and the next
// kill waits until it answers and a write commits.
func runFailover(ctx context.Context, c *cluster, kills int, value []byte) (Failover, error) {
	f := Failover{Kills: kills}
	var samples []time.Duration
	for k := range kills {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		lead, err := waitLeader(lctx, c.drv)
		cancel()
		if err != nil {
			return f, fmt.Errorf("%s: kill %d: no leader: %w", c.name, k+1, err)
		}
		if err := firstWrite(ctx, c, []uint64{lead}, value, 30*time.Second); err != nil {
			return f, fmt.Errorf("%s: kill %d: write before the kill: %w", c.name, k+1, err)
		}
		var rest []uint64
		for _, n := range c.nodes {
			if n.id != lead {
				rest = append(rest, n.id)
			}
		}
		victim := c.nodes[lead-1]
		t0 := time.Now()
		victim.kill()
		if err := firstWrite(ctx, c, rest, value, 60*time.Second); err != nil {
			return f, fmt.Errorf("%s: kill %d: no write within 60s of killing node %d: %w", c.name, k+1, lead, err)
		}
		d := time.Since(t0)
		samples = append(samples, d)
		slog.Info("failover", "system", c.name, "kill", k+1, "of", kills, "node", lead, "ms", fmt.Sprintf("%.0f", ms(d)))
		if err := victim.start(); err != nil {
			return f, fmt.Errorf("%s: restart node %d: %w", c.name, lead, err)
		}
		// Wait (bounded) until the restarted node has rejoined: a kill
		// while it is still starting (the wasm core compiles first) would
		// leave one node of three.
		rejoined := false
		for i := 0; i < 3000 && ctx.Err() == nil; i++ {
			if rejoined = c.drv.up(ctx, lead); rejoined {
				break
			}
			pause(ctx, 20*time.Millisecond)
		}
		if !rejoined && ctx.Err() == nil {
			return f, fmt.Errorf("%s: node %d did not rejoin within 60s of its restart", c.name, lead)
		}
		// Give the restarted node time to catch up and settle, so the
		// next kill finds three healthy members.
		pause(ctx, 500*time.Millisecond)
		if ctx.Err() != nil {
			return f, ctx.Err()
		}
	}
	f.SamplesMs = make([]float64, len(samples))
	for i, s := range samples {
		f.SamplesMs[i] = ms(s)
	}
	slices.Sort(samples)
	if len(samples) > 0 {
		f.MedianMs = ms(samples[len(samples)/2])
		f.MaxMs = ms(samples[len(samples)-1])
	}
	return f, nil
}

// attemptTimeout bounds one write attempt during failover.
const attemptTimeout = 100 * time.Millisecond

// firstWrite writes through every node in ids at once, attempt after
// attempt, and returns when the first write is acknowledged, or an error
// once limit has passed.
func firstWrite(ctx context.Context, c *cluster, ids []uint64, value []byte, limit time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	done := make(chan error, len(ids))
	for _, id := range ids {
		w, err := c.drv.writer(wctx, id)
		if err != nil {
			return err
		}
		go func() {
			defer w.close()
			var last error
			for wctx.Err() == nil {
				actx, acancel := context.WithTimeout(wctx, attemptTimeout)
				err := w.put(actx, "failover", value)
				acancel()
				if err == nil {
					done <- nil
					return
				}
				last = err
			}
			done <- errors.Join(wctx.Err(), last)
		}()
	}
	var errs []error
	for range ids {
		err := <-done
		if err == nil {
			return nil // the deferred cancel stops the other writers
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
