package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// The soak mode (-soak 10m) checks the issue's "no spurious election
// during a 10-minute full-load run": one system at a time, a three-node
// cluster runs the closed-loop workload with -soak-clients writers for
// the whole duration, while every node's status is polled every
// pollEvery. It reports every leader change and term change it saw, the
// errors, and the throughput and latency minute by minute.

// pollEvery is how often the soak polls each node's status.
const pollEvery = 200 * time.Millisecond

// Soak is the outcome of one system's soak run.
type Soak struct {
	System     string  `json:"system"`
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	Writes     int64   `json:"writes"`
	Errors     int64   `json:"errors"`
	Throughput float64 `json:"writes_per_sec"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	Maxms      float64 `json:"max_ms"`
	// FirstTerm and LastTerm are the highest term any node reported at
	// the first and the last poll; TermChanges counts the polls at which
	// the highest term rose. LeaderChanges counts the times the leader
	// that the nodes reported became a different node; Leaders lists
	// every change with its time.
	FirstTerm     uint64         `json:"first_term"`
	LastTerm      uint64         `json:"last_term"`
	TermChanges   int            `json:"term_changes"`
	LeaderChanges int            `json:"leader_changes"`
	Changes       []LeaderChange `json:"changes,omitempty"`
	// Polls is the number of status polls of all nodes; PollErrors those
	// that failed (a node that did not answer within 1 s); NoLeader the
	// node polls that answered without knowing a leader.
	Polls      int        `json:"polls"`
	PollErrors int        `json:"poll_errors"`
	NoLeader   int        `json:"no_leader"`
	Minutes    []SoakSpan `json:"minutes"`
	CPUs       []float64  `json:"cpu_seconds"`
	RSSMB      []float64  `json:"max_rss_mb"`
	Error      string     `json:"error,omitempty"`
}

// LeaderChange is one change of leader seen by the poller.
type LeaderChange struct {
	AtSeconds float64 `json:"at_s"`
	From      uint64  `json:"from"`
	To        uint64  `json:"to"`
	Term      uint64  `json:"term"`
}

// SoakSpan is one minute (or the last, shorter span) of a soak.
type SoakSpan struct {
	FromS      float64 `json:"from_s"`
	ToS        float64 `json:"to_s"`
	Writes     int64   `json:"writes"`
	Errors     int64   `json:"errors"`
	Throughput float64 `json:"writes_per_sec"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	Maxms      float64 `json:"max_ms"`
}

// SoakResults is what the soak mode writes as JSON.
type SoakResults struct {
	Started  string            `json:"started"`
	Machine  Machine           `json:"machine"`
	Versions map[string]string `json:"versions"`
	Duration float64           `json:"duration_s"`
	Soaks    []Soak            `json:"soaks"`
}

// soakSpan is the length of one row of the per-minute table.
const soakSpan = time.Minute

// runSoak soaks c with clients writers for dur.
func runSoak(ctx context.Context, c *cluster, clients int, dur time.Duration, value []byte) (Soak, error) {
	s := Soak{System: c.name, Clients: clients}
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
		return s, fmt.Errorf("%s: no leader: %w", c.name, err)
	}
	for i := range ws {
		if ws[i], err = c.drv.writer(ctx, lead); err != nil {
			return s, fmt.Errorf("%s: writer %d: %w", c.name, i, err)
		}
	}
	pids := c.pids()
	before := usages(pids)
	spans := int((dur + soakSpan - 1) / soakSpan)
	// lats[w][m] holds writer w's latencies in minute m; errs likewise.
	lats := make([][][]time.Duration, clients)
	errs := make([][]int64, clients)
	start := time.Now()
	deadline := start.Add(dur)
	pctx, stopPoll := context.WithCancel(ctx)
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		pollStates(pctx, c, start, &s)
	}()
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for i, w := range ws {
		lats[i] = make([][]time.Duration, spans)
		errs[i] = make([]int64, spans)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				if t0.After(deadline) {
					break
				}
				m := min(spans-1, int(t0.Sub(start)/soakSpan))
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := w.put(rctx, key(i, n), value)
				cancel()
				if err != nil {
					errs[i][m]++
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lats[i][m] = append(lats[i][m], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopPoll()
	<-pollDone
	if err := ctx.Err(); err != nil {
		return s, err
	}
	s.Seconds = elapsed.Seconds()
	var all []time.Duration
	for m := range spans {
		var span []time.Duration
		var e int64
		for i := range clients {
			span = append(span, lats[i][m]...)
			e += errs[i][m]
		}
		slices.Sort(span)
		from := time.Duration(m) * soakSpan
		to := min(elapsed, from+soakSpan)
		sp := SoakSpan{FromS: from.Seconds(), ToS: to.Seconds(), Writes: int64(len(span)), Errors: e,
			P50ms: ms(pct(span, 0.50)), P99ms: ms(pct(span, 0.99)), Maxms: ms(pct(span, 1))}
		if to > from {
			sp.Throughput = float64(sp.Writes) / (to - from).Seconds()
		}
		s.Minutes = append(s.Minutes, sp)
		s.Errors += e
		all = append(all, span...)
	}
	slices.Sort(all)
	s.Writes = int64(len(all))
	s.Throughput = float64(s.Writes) / elapsed.Seconds()
	s.P50ms, s.P99ms, s.Maxms = ms(pct(all, 0.50)), ms(pct(all, 0.99)), ms(pct(all, 1))
	s.CPUs, s.RSSMB = usageSince(pids, before)
	if s.Errors > 0 {
		slog.Warn("soak: writes failed", "system", c.name, "errors", s.Errors, "first", firstErr)
	}
	if s.Writes == 0 {
		return s, fmt.Errorf("%s: no write succeeded in the soak: %w", c.name, firstErr)
	}
	return s, nil
}

// pollStates polls every node's state each pollEvery until ctx ends and
// records the term and leader changes in s.
func pollStates(ctx context.Context, c *cluster, start time.Time, s *Soak) {
	var leader uint64
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		type answer struct {
			st  nodeState
			err error
		}
		answers := make([]answer, len(c.nodes))
		var wg sync.WaitGroup
		for i := range c.nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := c.drv.state(ctx, uint64(i+1))
				answers[i] = answer{st, err}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		s.Polls++
		// The highest term any node reports, and the leader reported at
		// that term (a node still in an old term may name an old leader).
		var term, lead uint64
		for _, a := range answers {
			switch {
			case a.err != nil:
				s.PollErrors++
			case a.st.Leader == 0:
				s.NoLeader++
			}
			if a.err == nil && a.st.Term > term {
				term = a.st.Term
			}
		}
		for _, a := range answers {
			if a.err == nil && a.st.Term == term && a.st.Leader != 0 {
				lead = a.st.Leader
			}
		}
		if term != 0 {
			switch {
			case s.FirstTerm == 0:
				s.FirstTerm = term
			case term > s.LastTerm:
				s.TermChanges++
				slog.Warn("soak: term changed", "system", c.name, "from", s.LastTerm, "to", term,
					"at", time.Since(start).Round(time.Millisecond))
			}
			s.LastTerm = max(s.LastTerm, term)
		}
		if lead != 0 && lead != leader {
			if leader != 0 {
				s.LeaderChanges++
				s.Changes = append(s.Changes, LeaderChange{AtSeconds: time.Since(start).Seconds(),
					From: leader, To: lead, Term: term})
				slog.Warn("soak: leader changed", "system", c.name, "from", leader, "to", lead, "term", term,
					"at", time.Since(start).Round(time.Millisecond))
			}
			leader = lead
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// soakMode runs the soak for every system in o.systems, one at a time,
// writes the JSON and prints the tables.
func soakMode(ctx context.Context, specs map[string]spec, tmp string, o options, value []byte, res *SoakResults) error {
	for _, name := range o.systems {
		slog.Info("soak: starting", "system", name, "duration", o.soak, "clients", o.soakClients)
		c, err := startCluster(ctx, specs[name], tmp)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted: %w", ctx.Err())
			}
			res.Soaks = append(res.Soaks, Soak{System: name, Clients: o.soakClients, Error: err.Error()})
			slog.Error("system failed", "system", name, "err", err)
			continue
		}
		s, err := runSoak(ctx, c, o.soakClients, o.soak, value)
		c.stop()
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		if err != nil {
			s.Error = err.Error()
			slog.Error("soak failed", "system", name, "err", err)
		}
		res.Soaks = append(res.Soaks, s)
		slog.Info("soak: done", "system", name, "writes/s", fmt.Sprintf("%.0f", s.Throughput),
			"p99ms", fmt.Sprintf("%.1f", s.P99ms), "leader_changes", s.LeaderChanges, "term_changes", s.TermChanges)
	}
	return nil
}

// printSoak prints each system's per-minute table and a summary line.
func printSoak(w io.Writer, res *SoakResults) {
	for _, s := range res.Soaks {
		fmt.Fprintf(w, "\nsoak %s: %d clients, %.0f s\n", s.System, s.Clients, s.Seconds)
		if s.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", s.Error)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "minute\twrites/s\tp50 ms\tp99 ms\tmax ms\terrors\tleader changes\t")
		for i, m := range s.Minutes {
			changes := 0
			for _, ch := range s.Changes {
				if ch.AtSeconds >= m.FromS && ch.AtSeconds < m.ToS {
					changes++
				}
			}
			fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t%d\t\n", i+1, m.Throughput, m.P50ms, m.P99ms, m.Maxms,
				m.Errors, changes)
		}
		fmt.Fprintf(tw, "all\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t%d\t\n", s.Throughput, s.P50ms, s.P99ms, s.Maxms, s.Errors,
			s.LeaderChanges)
		tw.Flush()
		var cpu, rss []string
		for i := range s.CPUs {
			cpu = append(cpu, fmt.Sprintf("%.0f", s.CPUs[i]))
			rss = append(rss, fmt.Sprintf("%.0f", s.RSSMB[i]))
		}
		fmt.Fprintf(w, "  polls every %s: %d, failed node polls %d, node polls without a leader %d; cpu s per node %s; max rss MB per node %s\n",
			pollEvery, s.Polls, s.PollErrors, s.NoLeader, strings.Join(cpu, "/"), strings.Join(rss, "/"))
		for _, ch := range s.Changes {
			fmt.Fprintf(w, "  leader change at %.1f s: node %d -> node %d (term %d)\n", ch.AtSeconds, ch.From, ch.To, ch.Term)
		}
		fmt.Fprintf(w, "soak-result %s: leader-changes=%d term-changes=%d (term %d -> %d) writes=%d errors=%d writes/s=%.0f p99ms=%.2f\n",
			s.System, s.LeaderChanges, s.TermChanges, s.FirstTerm, s.LastTerm, s.Writes, s.Errors, s.Throughput, s.P99ms)
	}
}
