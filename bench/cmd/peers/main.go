// Command peers benchmarks wraft side by side with etcd and a
// hashicorp/raft KV server on this machine, in one run: it builds the
// peers (etcd once, cached), starts each system as a three-node loopback
// cluster with fsync on, runs the same workloads against every one, and
// prints one table, ending with the line
//
//	ratio-vs-etcd: 1-client=X.XX 100-client=Y.YY
//
// (wraft with the native core, throughput over etcd's). It writes the
// results as JSON and an SVG chart of p99 latency against throughput.
//
// Run it from the bench directory: go run ./cmd/peers [-quick].
//
// Two other modes measure single goals of the issue instead of the table:
// -soak 10m runs a cluster under full load for that long and reports
// every leader and term change it saw (soak.go); -memory-keys 100000
// loads that many keys and reports each node's resident memory before
// and after a snapshot (memory.go); -netfaults runs each system with
// every node in its own network namespace through blackholed, frozen and
// slowed nodes and reports how long clients wait (netfaults.go; root
// only).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command's flags.
type options struct {
	quick     bool
	out       string
	svg       string
	cache     string
	wraft     string
	systems   []string
	curve     []int
	duration  time.Duration
	kills     int
	rounds    int
	valueSize int
	keep      bool

	soak            time.Duration // soak mode when > 0
	soakClients     int
	memoryKeys      int // memory mode when > 0
	snapshotEntries int // wraft node --snapshot-entries

	netfaults         bool // network-fault mode
	netfaultRounds    int
	netfaultDuration  time.Duration
	netfaultWriters   int
	netfaultOpTimeout time.Duration
	netfaultSeed      uint64
}

var allSystems = []string{"etcd", "hashicorp-raft", "wraft-native", "wraft-wasm"}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	opts, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", os.Getenv("QUICK") != "" && os.Getenv("QUICK") != "0",
		"small counts: 3 kills, 3 client counts, 4 s each (also QUICK=1 in the environment)")
	fs.StringVar(&o.out, "out", "results/latest.json", "where to write the results as JSON")
	fs.StringVar(&o.svg, "svg", "results/latency.svg", "where to draw the p99-latency-against-throughput chart")
	fs.StringVar(&o.cache, "cache", ".cache", "where the peers' binaries are built and kept")
	fs.StringVar(&o.wraft, "wraft", "../bin/wraft", "the wraft binary (make build)")
	systems := fs.String("systems", strings.Join(allSystems, ","), "systems to run, comma-separated")
	curve := fs.String("clients", "", "client counts to run (default 1,4,16,64,100; quick 1,16,100); must include 1 and 100")
	fs.DurationVar(&o.duration, "duration", 0, "how long each client count runs (default 10s; quick 4s)")
	fs.IntVar(&o.kills, "kills", 0, "leader kills per system (default 20; quick 3)")
	fs.IntVar(&o.rounds, "rounds", 0, "rounds of every client count; the best round counts (default 2; quick 1)")
	fs.IntVar(&o.valueSize, "value-size", 256, "value size in bytes (keys are 8 bytes)")
	fs.BoolVar(&o.keep, "keep", false, "keep the clusters' data directories and logs")
	fs.DurationVar(&o.soak, "soak", 0, "soak mode: run each system (default wraft-native) under full load for this long "+
		"and count leader and term changes (e.g. -soak 10m); writes results/soak-latest.json")
	fs.IntVar(&o.soakClients, "soak-clients", 100, "clients in the soak")
	fs.IntVar(&o.memoryKeys, "memory-keys", 0, "memory mode: load this many distinct keys (of -value-size bytes) into "+
		"each system and report every node's VmRSS and VmHWM, before and after a snapshot (e.g. -memory-keys 100000); "+
		"writes results/memory-latest.json")
	fs.IntVar(&o.snapshotEntries, "snapshot-entries", 10000, "wraft node --snapshot-entries (its default is 10000)")
	fs.BoolVar(&o.netfaults, "netfaults", false, "network-fault mode (root): each system's nodes in network namespaces; "+
		"isolate the leader, isolate a follower, freeze a follower, slow a follower, each then healed; reports the time "+
		"to the next write and the longest client gap per fault; writes results/netfaults-latest.json")
	fs.IntVar(&o.netfaultRounds, "netfault-rounds", 0, "rounds of the four faults (default 3; quick 1)")
	fs.DurationVar(&o.netfaultDuration, "netfault-duration", 4*time.Second, "how long each fault lasts before it is healed")
	fs.IntVar(&o.netfaultWriters, "netfault-writers", 4, "writers in the network-fault mode, each with every endpoint")
	fs.DurationVar(&o.netfaultOpTimeout, "netfault-op-timeout", 5*time.Second, "the writers' deadline for one write")
	fs.Uint64Var(&o.netfaultSeed, "netfault-seed", 1, "seed for the followers picked and the delays (the same for every system)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case o.soak < 0:
		return o, fmt.Errorf("-soak %s: want a positive duration", o.soak)
	case o.soak > 0 && o.soak < 10*time.Second:
		return o, fmt.Errorf("-soak %s is too short (at least 10s)", o.soak)
	case o.soakClients < 1 || o.soakClients > 1000:
		return o, fmt.Errorf("-soak-clients %d: want 1 to 1000", o.soakClients)
	case o.memoryKeys < 0 || o.memoryKeys > 10_000_000:
		return o, fmt.Errorf("-memory-keys %d: want 1 to 10000000", o.memoryKeys)
	case o.soak > 0 && o.memoryKeys > 0:
		return o, errors.New("-soak and -memory-keys are separate modes: give one")
	case o.snapshotEntries < 2:
		return o, fmt.Errorf("-snapshot-entries %d: want at least 2", o.snapshotEntries)
	case set["soak-clients"] && o.soak == 0:
		return o, errors.New("-soak-clients needs -soak")
	case o.netfaults && (o.soak > 0 || o.memoryKeys > 0):
		return o, errors.New("-netfaults, -soak and -memory-keys are separate modes: give one")
	case !o.netfaults && (set["netfault-rounds"] || set["netfault-duration"] || set["netfault-writers"] ||
		set["netfault-op-timeout"] || set["netfault-seed"]):
		return o, errors.New("-netfault-* flags need -netfaults")
	case o.netfaultRounds < 0 || o.netfaultRounds > 100:
		return o, fmt.Errorf("-netfault-rounds %d: want 1 to 100 (0 means the default)", o.netfaultRounds)
	case o.netfaultDuration < 500*time.Millisecond || o.netfaultDuration > 5*time.Minute:
		return o, fmt.Errorf("-netfault-duration %s: want 500ms to 5m", o.netfaultDuration)
	case o.netfaultWriters < 1 || o.netfaultWriters > 256:
		return o, fmt.Errorf("-netfault-writers %d: want 1 to 256", o.netfaultWriters)
	case o.netfaultOpTimeout < 100*time.Millisecond || o.netfaultOpTimeout > time.Minute:
		return o, fmt.Errorf("-netfault-op-timeout %s: want 100ms to 1m", o.netfaultOpTimeout)
	}
	if o.netfaultRounds == 0 {
		o.netfaultRounds = 3
		if o.quick {
			o.netfaultRounds = 1
		}
	}
	if o.netfaults && !set["out"] {
		o.out = "results/netfaults-latest.json"
	}
	if o.soak > 0 || o.memoryKeys > 0 {
		if !set["systems"] && o.soak > 0 {
			*systems = "wraft-native"
		}
		if !set["out"] {
			o.out = "results/soak-latest.json"
			if o.memoryKeys > 0 {
				o.out = "results/memory-latest.json"
			}
		}
	}
	for _, s := range strings.Split(*systems, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(allSystems, s) {
			return o, fmt.Errorf("-systems: unknown system %q (have %s)", s, strings.Join(allSystems, ", "))
		}
		o.systems = append(o.systems, s)
	}
	if len(o.systems) == 0 {
		return o, errors.New("-systems: none given")
	}
	if *curve == "" {
		*curve = "1,4,16,64,100"
		if o.quick {
			*curve = "1,16,100"
		}
	}
	for _, s := range strings.Split(*curve, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1000 {
			return o, fmt.Errorf("-clients: %q is not a count from 1 to 1000", s)
		}
		o.curve = append(o.curve, n)
	}
	slices.Sort(o.curve)
	o.curve = slices.Compact(o.curve)
	if !slices.Contains(o.curve, 1) || !slices.Contains(o.curve, 100) {
		return o, errors.New("-clients must include 1 and 100 (the table's two workloads)")
	}
	if o.duration == 0 {
		o.duration = 10 * time.Second
		if o.quick {
			o.duration = 4 * time.Second
		}
	}
	if o.duration < 500*time.Millisecond {
		return o, fmt.Errorf("-duration %s is too short (at least 500ms)", o.duration)
	}
	if o.kills == 0 {
		o.kills = 20
		if o.quick {
			o.kills = 3
		}
	}
	if o.kills < 0 || o.kills > 1000 {
		return o, fmt.Errorf("-kills %d: want 0 to 1000 (0 means the default)", o.kills)
	}
	if o.rounds == 0 {
		o.rounds = 2
		if o.quick {
			o.rounds = 1
		}
	}
	if o.rounds < 0 || o.rounds > 100 {
		return o, fmt.Errorf("-rounds %d: want 1 to 100 (0 means the default)", o.rounds)
	}
	if o.valueSize < 0 || o.valueSize > 60<<10 {
		return o, fmt.Errorf("-value-size %d: want 0 to 61440", o.valueSize)
	}
	return o, nil
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	cache, err := filepath.Abs(o.cache)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	specs := map[string]spec{}
	res := &Results{Started: began.UTC().Format(time.RFC3339), Quick: o.quick, Machine: machineInfo(),
		Settings: Settings{Nodes: 3, Network: "loopback 127.0.0.1", Fsync: true, KeyBytes: 8, ValueBytes: o.valueSize,
			SecondsPerPoint: o.duration.Seconds(), Rounds: o.rounds, Kills: o.kills, Clients: o.curve},
		Versions: map[string]string{}}
	for _, s := range o.systems {
		switch s {
		case "etcd":
			bin, err := buildEtcd(ctx, cache)
			if err != nil {
				return err
			}
			specs[s] = etcdSpec(bin)
			res.Versions[s] = moduleVersion(ctx, bin, "go.etcd.io/etcd/server/v3")
		case "hashicorp-raft":
			bin, err := buildHraft(ctx, cache)
			if err != nil {
				return err
			}
			specs[s] = hraftSpec(bin)
			res.Versions[s] = "hashicorp/raft " + moduleVersion(ctx, bin, "github.com/hashicorp/raft") +
				", raft-boltdb/v2 " + moduleVersion(ctx, bin, "github.com/hashicorp/raft-boltdb/v2")
		case "wraft-native", "wraft-wasm":
			bin, err := filepath.Abs(o.wraft)
			if err != nil {
				return fmt.Errorf("wraft: %w", err)
			}
			if _, err := os.Stat(bin); err != nil {
				return fmt.Errorf("wraft binary: %w (run make build at the top level)", err)
			}
			specs[s] = wraftSpec(bin, strings.TrimPrefix(s, "wraft-"), o.snapshotEntries)
			res.Versions[s] = wraftVersion(ctx, bin)
		}
	}
	tmp, err := os.MkdirTemp("", "wraft-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	if !o.keep {
		defer os.RemoveAll(tmp)
	}
	value := []byte(strings.Repeat("v", o.valueSize))
	if o.soak > 0 {
		sr := &SoakResults{Started: res.Started, Machine: res.Machine, Versions: res.Versions, Duration: o.soak.Seconds()}
		if err := soakMode(ctx, specs, tmp, o, value, sr); err != nil {
			return err
		}
		if err := writeJSON(o.out, sr); err != nil {
			return err
		}
		printSoak(os.Stdout, sr)
		fmt.Printf("\nresults: %s  (%.0f s in all)\n", o.out, time.Since(began).Seconds())
		return nil
	}
	if o.netfaults {
		nr := &NetFaultResults{Started: res.Started, Machine: res.Machine, Versions: res.Versions,
			Rounds: o.netfaultRounds, FaultS: o.netfaultDuration.Seconds(), Writers: o.netfaultWriters,
			OpTimeout: o.netfaultOpTimeout.Seconds(), Seed: o.netfaultSeed}
		if err := netfaultMode(ctx, specs, tmp, o, value, nr); err != nil {
			return err
		}
		if err := writeJSON(o.out, nr); err != nil {
			return err
		}
		printNetFaults(os.Stdout, nr)
		fmt.Printf("\nresults: %s  (%.0f s in all)\n", o.out, time.Since(began).Seconds())
		return nil
	}
	if o.memoryKeys > 0 {
		mr := &MemResults{Started: res.Started, Machine: res.Machine, Versions: res.Versions,
			SnapshotEntries: o.snapshotEntries}
		if err := memoryMode(ctx, specs, tmp, o, value, mr); err != nil {
			return err
		}
		if err := writeJSON(o.out, mr); err != nil {
			return err
		}
		printMemory(os.Stdout, mr)
		fmt.Printf("\nresults: %s  (%.0f s in all)\n", o.out, time.Since(began).Seconds())
		return nil
	}
	if err := measure(ctx, specs, tmp, o, value, res); err != nil {
		return err
	}
	res.Seconds = time.Since(began).Seconds()
	if o.keep {
		slog.Info("kept data and logs", "dir", tmp)
	}
	if err := writeJSON(o.out, res); err != nil {
		return err
	}
	if err := writeSVG(o.svg, res); err != nil {
		return err
	}
	printTable(os.Stdout, res)
	fmt.Printf("\nresults: %s  chart: %s  (%.0f s in all)\n", o.out, o.svg, res.Seconds)
	fmt.Println(ratioLine(res))
	return nil
}

// measure starts every system's cluster at once and runs the workloads
// interleaved: for each client count, each system in turn (the order
// rotating), so that load from elsewhere on the machine falls on all of
// them alike. With several rounds it keeps each system's best round per
// client count. Then it runs the failover kills, one system at a time.
// A system that fails is reported with its error; the others go on.
func measure(ctx context.Context, specs map[string]spec, tmp string, o options, value []byte, res *Results) error {
	clusters := map[string]*cluster{}
	defer func() {
		for _, c := range clusters {
			c.stop()
		}
	}()
	for _, name := range o.systems {
		res.Systems = append(res.Systems, System{Name: name})
		sr := res.system(name)
		slog.Info("starting", "system", name)
		c, err := startCluster(ctx, specs[name], tmp)
		if err == nil {
			clusters[name] = c
			_, err = runLoad(ctx, c, 16, min(2*time.Second, o.duration/2), value) // warm-up
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		if err != nil {
			slog.Error("system failed", "system", name, "err", err)
			sr.Error = err.Error()
		}
	}
	for round := range o.rounds {
		for i, n := range o.curve {
			for j := range o.systems {
				name := o.systems[(j+i+round)%len(o.systems)]
				sr, c := res.system(name), clusters[name]
				if c == nil || sr.Error != "" {
					continue
				}
				l, err := runLoad(ctx, c, n, o.duration, value)
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted: %w", ctx.Err())
				}
				if err != nil {
					slog.Error("system failed", "system", name, "err", err)
					sr.Error = err.Error()
					continue
				}
				slog.Info("measured", "round", round+1, "system", name, "clients", n,
					"writes/s", fmt.Sprintf("%.0f", l.Throughput), "p50ms", fmt.Sprintf("%.2f", l.P50ms),
					"p99ms", fmt.Sprintf("%.2f", l.P99ms))
				sr.Rounds = append(sr.Rounds, l)
				if best := sr.load(n); best == nil {
					sr.Loads = append(sr.Loads, l)
				} else if l.Throughput > best.Throughput {
					*best = l
				}
			}
		}
	}
	for _, name := range o.systems {
		sr, c := res.system(name), clusters[name]
		if c == nil || sr.Error != "" || o.kills == 0 {
			continue
		}
		f, err := runFailover(ctx, c, o.kills, value)
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", ctx.Err())
		}
		if err != nil {
			slog.Error("failover failed", "system", name, "err", err)
			sr.Error = err.Error()
			continue
		}
		sr.Failover = &f
		c.stop()
		delete(clusters, name)
	}
	return nil
}
