package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/client"
)

type benchFlags struct {
	clients  int
	valueLen int
	duration time.Duration
	count    int
	keys     int
	reads    bool
}

func benchCmd() *cobra.Command {
	var f benchFlags
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure write (or read) throughput and latency against a running cluster",
		Example: `  wraft bench --clients 64 --duration 10s
  wraft bench failover --kills 10 --pids 1=4242,2=4243,3=4244`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			return runBench(c, f)
		},
	}
	cf.add(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.clients, "clients", 1, "concurrent clients, each with one request outstanding")
	fl.IntVar(&f.valueLen, "value-size", 256, "value size in bytes")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "how long to run (unless --count is given)")
	fl.IntVar(&f.count, "count", 0, "stop after this many requests in all")
	fl.IntVar(&f.keys, "keys", 1000, "distinct keys written")
	fl.BoolVar(&f.reads, "reads", false, "measure linearizable reads instead of writes")
	cmd.AddCommand(failoverCmd(&cf))
	return cmd
}

// latencies collects request latencies from many goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d)
	l.mu.Unlock()
}

func (l *latencies) percentile(p float64) time.Duration {
	if len(l.all) == 0 {
		return 0
	}
	return l.all[min(len(l.all)-1, int(p*float64(len(l.all))))]
}

func runBench(c *client.Client, f benchFlags) error {
	if f.clients < 1 || f.valueLen < 0 || f.keys < 1 {
		return errors.New("--clients and --keys must be positive, --value-size not negative")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if c.FindLeader(ctx) == 0 {
		cancel()
		return errors.New("no leader: is the cluster up (wraft status)?")
	}
	cancel()
	value := []byte(strings.Repeat("x", f.valueLen))
	var lat latencies
	var done, failed atomic.Int64
	deadline := time.Now().Add(f.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range f.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each benchmark client is a session of its own.
			cl, err := client.New(c.Endpoints())
			if err != nil {
				return
			}
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cl.FindLeader(rctx)
			cancel()
			for n := 0; ; n++ {
				if f.count > 0 && done.Load()+failed.Load() >= int64(f.count) || f.count == 0 && time.Now().After(deadline) {
					return
				}
				key := fmt.Sprintf("bench-%d", (i*7919+n)%f.keys)
				rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				t0 := time.Now()
				var err error
				if f.reads {
					_, err = cl.Get(rctx, key, false)
				} else {
					_, err = cl.Set(rctx, key, value)
				}
				cancel()
				if err != nil {
					failed.Add(1)
					continue
				}
				lat.add(time.Since(t0))
				done.Add(1)
			}
		}()
	}
	stop := make(chan struct{})
	go progress(stop, start, f, &done, &failed)
	wg.Wait()
	close(stop)
	elapsed := time.Since(start)
	slices.Sort(lat.all)
	op := "writes"
	if f.reads {
		op = "reads"
	}
	fmt.Fprintf(os.Stderr, "\r%80s\r", "")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "clients\tvalue\t"+op+"\tfailed\tper second\tp50\tp90\tp99\tmax\t")
	fmt.Fprintf(w, "%d\t%dB\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t\n", f.clients, f.valueLen, done.Load(), failed.Load(),
		float64(done.Load())/elapsed.Seconds(), ms(lat.percentile(0.5)), ms(lat.percentile(0.9)),
		ms(lat.percentile(0.99)), ms(lat.percentile(1)))
	return w.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// progress draws a progress bar on stderr until stop is closed.
func progress(stop chan struct{}, start time.Time, f benchFlags, done, failed *atomic.Int64) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		frac := time.Since(start).Seconds() / f.duration.Seconds()
		if f.count > 0 {
			frac = float64(done.Load()+failed.Load()) / float64(f.count)
		}
		frac = min(frac, 1)
		bar := strings.Repeat("█", int(frac*30)) + strings.Repeat("░", 30-int(frac*30))
		fmt.Fprintf(os.Stderr, "\r%s %3.0f%%  %d done, %d failed, %.0f/s ", bar, frac*100, done.Load(), failed.Load(),
			float64(done.Load())/time.Since(start).Seconds())
	}
}

func failoverCmd(cf *clientFlags) *cobra.Command {
	var kills int
	var pids string
	var restart string
	cmd := &cobra.Command{
		Use:   "failover",
		Short: "kill -9 the leader again and again; report how long until the next write succeeds",
		Long: `kill -9 the leader again and again and report how long until the next write succeeds
(min / median / max). It needs the nodes' process ids (--pids id=pid,...), so it runs on the
nodes' machine; wraft demo restarts killed nodes by itself, which lets the cluster keep its
three members between kills. Without a supervisor, use --restart with a command template in
which {id} stands for the node id.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			return runFailover(c, kills, pids, restart)
		},
	}
	cmd.Flags().IntVar(&kills, "kills", 10, "how many leaders to kill")
	cmd.Flags().StringVar(&pids, "pids", "", "process ids of the nodes: id=pid,... (wraft demo prints them)")
	cmd.Flags().StringVar(&restart, "restart", "", "command that restarts a killed node, {id} replaced by its id (optional)")
	return cmd
}

// parsePids parses --pids: "1=4242,2=4243".
func parsePids(s string) (map[uint64]int, error) {
	out := map[uint64]int{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		var id uint64
		var pid int
		if _, err := fmt.Sscanf(part, "%d=%d", &id, &pid); err != nil || id == 0 || pid <= 0 {
			return nil, fmt.Errorf("--pids: %q is not id=pid", part)
		}
		out[id] = pid
	}
	if len(out) == 0 {
		return nil, errors.New("--pids is required (id=pid,...)")
	}
	return out, nil
}

func runFailover(c *client.Client, kills int, pidList, restart string) error {
	pids, err := parsePids(pidList)
	if err != nil {
		return err
	}
	var times []time.Duration
	for k := range kills {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		leader := uint64(0)
		for leader == 0 && ctx.Err() == nil {
			if leader = c.FindLeader(ctx); leader == 0 {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if leader == 0 {
			cancel()
			return errors.New("no leader to kill")
		}
		// Let the cluster settle: every node up and caught up.
		if _, err := c.Set(ctx, "failover", []byte("before")); err != nil {
			cancel()
			return fmt.Errorf("write before kill %d: %w", k+1, err)
		}
		pid, ok := pids[leader]
		if !ok {
			cancel()
			return fmt.Errorf("no pid for leader %d in --pids", leader)
		}
		t0 := time.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			cancel()
			return fmt.Errorf("kill -9 %d (node %d): %w", pid, leader, err)
		}
		// The client forgets the dead leader on its first failed attempt.
		if _, err := c.Set(ctx, "failover", []byte(fmt.Sprint(k))); err != nil {
			cancel()
			return fmt.Errorf("write after kill %d: %w", k+1, err)
		}
		d := time.Since(t0)
		cancel()
		times = append(times, d)
		fmt.Printf("kill %2d: leader %d (pid %d) killed; next write committed after %s\n", k+1, leader, pid, ms(d))
		if restart != "" {
			cmd := exec.Command("sh", "-c", strings.ReplaceAll(restart, "{id}", fmt.Sprint(leader)))
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Start(); err != nil {
				return fmt.Errorf("restart node %d: %w", leader, err)
			}
			go cmd.Wait()
		}
		// Wait for the killed node to come back (a supervisor restarts it)
		// and learn its new pid from its status.
		if err := awaitRestart(c, leader, pids); err != nil {
			return err
		}
	}
	slices.Sort(times)
	fmt.Printf("\nfailover over %d kills: min %s  median %s  max %s\n", len(times), ms(times[0]),
		ms(times[len(times)/2]), ms(times[len(times)-1]))
	return nil
}

// awaitRestart waits until node id answers again and records its new pid.
func awaitRestart(c *client.Client, id uint64, pids map[uint64]int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		for _, ep := range c.Endpoints() {
			st, err := c.Status(ctx, ep)
			if err == nil && st.ID == id && st.PID != 0 && st.PID != pids[id] && st.Applied == st.Commit && st.Leader != 0 {
				pids[id] = st.PID
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("node %d did not come back within 60 s (is it supervised, or --restart given?)", id)
}
