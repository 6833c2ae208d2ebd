package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/corewasm"
	"github.com/wraft/wraft/led"
	"github.com/wraft/wraft/server"
	"github.com/wraft/wraft/transport"
)

type nodeFlags struct {
	id             uint64
	peers          string
	peerAPIs       string
	listen         string
	join           string
	snapEntries    int
	data           string
	api            string
	core           string
	tick           time.Duration
	electionTicks  int
	heartbeatTicks int
	noPreVote      bool
	noCheckQuorum  bool
	adminToken     string
	joinToken      string
	corsOrigins    string
	tlsCert        string
	tlsKey         string
	tlsCA          string
	insecurePeers  bool
	logLevel       string
	noSync         bool
	led            string
	rejoin         bool
}

func nodeCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run one node of a cluster",
		Long: `Run one node of a cluster. Every flag can also be given in the environment as
WRAFT_<FLAG>, such as WRAFT_ID=1 or WRAFT_ADMIN_TOKEN=secret.`,
		Example: `  wraft node --id 1 --peers 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 \
    --data /var/lib/wraft --api 127.0.0.1:8001

  # join a running cluster through any member's API (as a learner, then a voter)
  wraft node --id 4 --listen 127.0.0.1:7004 --api 127.0.0.1:8004 --data /var/lib/wraft-4 \
    --join http://127.0.0.1:8001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envDefaults(cmd.Flags()); err != nil {
				return err
			}
			if f.joinToken == "" {
				f.joinToken = os.Getenv("WRAFT_TOKEN")
			}
			return runNode(f)
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&f.id, "id", 0, "this node's id (one of --peers)")
	fl.StringVar(&f.peers, "peers", "", "every member's peer address: id=host:port,... (this node's is where it listens)")
	fl.StringVar(&f.peerAPIs, "peer-apis", "", `every member's API: id=host:port,... (default: when --api is not given either,
host:800<id> at each peer's host); optional, as each node announces its own API URL to the others`)
	fl.StringVar(&f.listen, "listen", "", "peer address to listen on (instead of this node's entry in --peers; needed with --join)")
	fl.StringVar(&f.join, "join", "", "API URL of any member of a running cluster to join (ignored once the data directory holds data)")
	fl.IntVar(&f.snapEntries, "snapshot-entries", engine.DefaultSnapshotEntries, "snapshot the store and compact the log every this many applied entries")
	fl.StringVar(&f.data, "data", "", "data directory (write-ahead log)")
	fl.StringVar(&f.api, "api", "", "client API address (default 127.0.0.1:800<id>)")
	fl.StringVar(&f.core, "core", "wasm", `the core: "wasm" (the embedded raft.wasm), "native", or the path of a raft.wasm file`)
	fl.DurationVar(&f.tick, "tick", server.DefaultTick, "engine tick interval")
	fl.IntVar(&f.electionTicks, "election-ticks", 10, "election timeout in ticks (randomised up to twice this)")
	fl.IntVar(&f.heartbeatTicks, "heartbeat-ticks", 2, "heartbeat interval in ticks")
	fl.BoolVar(&f.noPreVote, "no-prevote", false, "turn PreVote off (for demonstrations)")
	fl.BoolVar(&f.noCheckQuorum, "no-check-quorum", false, "turn CheckQuorum off")
	fl.StringVar(&f.adminToken, "admin-token", "", `the bearer token that membership changes and the chaos endpoints (/v1/admin) need;
give every node of a cluster the same (default: the one in DATA/admin-token, made on
the first start and logged once)`)
	fl.StringVar(&f.joinToken, "join-token", "", `the cluster's admin token, for --join (default: $WRAFT_TOKEN, else --admin-token);
a node without --admin-token keeps it as its own`)
	fl.StringVar(&f.corsOrigins, "cors-origin", strings.Join(server.DefaultCORSOrigins, ","), `the origins (http://host:port, comma-separated) of the web pages allowed to call
the API, such as the dashboard's; "none" for none; never *`)
	fl.StringVar(&f.tlsCert, "tls-cert", "", "certificate for mutual TLS between peers (with --tls-key and --tls-ca)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "private key for --tls-cert")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "CA certificate that signs every member's certificate")
	fl.BoolVar(&f.insecurePeers, "insecure-peers", false, `allow plain TCP between peers on a non-loopback address: anyone who
reaches the peer port can then forge writes (use --tls-* instead; wraft certs makes them)`)
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.led, "led", "none", `status light: none, terminal (a coloured line on stdout), gpio:R,G,B[,anode]
(an RGB LED on GPIO lines R,G,B), or ws2812:/dev/spidevB.C[,count] (a WS2812B strip);
blue leader, green follower, yellow election, red offline or no quorum, white blink on commit`)
	fl.BoolVar(&f.noSync, "unsafe-no-fsync", false, "skip fsync: acknowledged writes can be lost (tests only)")
	fl.BoolVar(&f.rejoin, "rejoin", false, `restore a node whose data directory is damaged from its peers: move the directory
aside (DIR.corrupt-<time>), have the cluster remove this node, and join again through
--join as a learner that catches up and is promoted (ignored if the directory is sound)`)
	return cmd
}

// parsePeers parses "1=host:port,2=host:port".
func parsePeers(s string) (map[uint64]string, error) {
	peers := map[uint64]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		idStr, addr, ok := strings.Cut(part, "=")
		id, err := strconv.ParseUint(idStr, 10, 64)
		if !ok || err != nil || id == 0 || addr == "" {
			return nil, fmt.Errorf("--peers: %q is not id=host:port with a non-zero id", part)
		}
		if _, dup := peers[id]; dup {
			return nil, fmt.Errorf("--peers: node %d is listed twice", id)
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || !isPort(port) {
			return nil, fmt.Errorf("--peers: %q is not id=host:port (a port from 0 to 65535)", part)
		}
		peers[id] = addr
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("--peers is required (id=host:port,...)")
	}
	if err := checkDistinctAddrs(peers); err != nil {
		return nil, fmt.Errorf("--peers: %w", err)
	}
	return peers, nil
}

// isPort reports whether s is a decimal TCP port number.
func isPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

// checkDistinctAddrs reports two members that share a peer address (host
// compared without regard to case), naming the lowest such pair of ids.
func checkDistinctAddrs(peers map[uint64]string) error {
	seen := make(map[string]uint64, len(peers))
	for _, id := range slices.Sorted(maps.Keys(peers)) {
		key := strings.ToLower(peers[id])
		if other, dup := seen[key]; dup {
			return fmt.Errorf("nodes %d and %d share the peer address %s", other, id, peers[other])
		}
		seen[key] = id
	}
	return nil
}

// parsePeerAPIs parses --peer-apis ("1=host:port,..."). Without it, and
// when this node's own --api was defaulted too, the peers are taken to
// follow the same convention: host:800<id> at each peer's host.
func parsePeerAPIs(s string, peers map[uint64]string, convention bool) (map[uint64]string, error) {
	apis := map[uint64]string{}
	if s == "" {
		if !convention {
			return apis, nil
		}
		for id, addr := range peers {
			if host, _, err := net.SplitHostPort(addr); err == nil && id < 1000 {
				apis[id] = fmt.Sprintf("http://%s:%d", host, 8000+id)
			}
		}
		return apis, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		idStr, addr, ok := strings.Cut(part, "=")
		id, err := strconv.ParseUint(idStr, 10, 64)
		if !ok || err != nil || id == 0 || addr == "" {
			return nil, fmt.Errorf("--peer-apis: %q is not id=host:port with a non-zero id", part)
		}
		if !strings.Contains(addr, "://") {
			addr = "http://" + addr
		}
		apis[id] = addr
	}
	return apis, nil
}

// checkPeerSecurity refuses plain TCP between peers (tls false) on a
// listen address other machines can reach, a wildcard such as ":7001" or
// "0.0.0.0:7001" included: anyone who reaches the port could send forged
// messages that the cluster commits. --insecure-peers (insecure) lets it
// through with a warning.
func checkPeerSecurity(log *slog.Logger, listen string, tls, insecure bool) error {
	if tls || isLoopback(listen) {
		return nil
	}
	if !insecure {
		return fmt.Errorf("refusing to listen for peers on %s without TLS: anyone who can reach that port could forge "+
			"writes that the cluster commits. Give --tls-cert, --tls-key and --tls-ca (make them with `wraft certs`), "+
			"or --insecure-peers on a network you trust", listen)
	}
	log.Warn("INSECURE: peers talk plain TCP on an address other machines can reach (--insecure-peers): "+
		"anyone who reaches the port can forge writes that the cluster commits; use mutual TLS (wraft certs, --tls-*)",
		"listen", listen)
	return nil
}

// isLoopback reports whether addr (host:port) can only be reached from
// this machine: localhost or a loopback address. Other names are not
// looked up, and count as reachable.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ledBlink is how long a status light shows white on a commit.
const ledBlink = 40 * time.Millisecond

func runNode(f nodeFlags) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if f.id == 0 {
		return fmt.Errorf("--id is required")
	}
	if f.data == "" {
		return fmt.Errorf("--data is required")
	}
	if f.snapEntries < 0 || f.snapEntries == 1 { // 0: the engine's default
		return fmt.Errorf("--snapshot-entries must be at least 2, not %d", f.snapEntries)
	}
	peers := map[uint64]string{}
	var err error
	switch {
	case f.peers != "":
		if peers, err = parsePeers(f.peers); err != nil {
			return err
		}
	case f.join == "" && f.listen == "":
		return fmt.Errorf("--peers is required (id=host:port,...), or --listen with --join to join a running cluster")
	}
	if f.listen != "" {
		if a, ok := peers[f.id]; ok && a != f.listen {
			return fmt.Errorf("--listen %s and --peers %d=%s disagree", f.listen, f.id, a)
		}
		peers[f.id] = f.listen
		if err := checkDistinctAddrs(peers); err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
	}
	if _, ok := peers[f.id]; !ok {
		if f.join != "" {
			return fmt.Errorf("--listen is required with --join (this node's peer address)")
		}
		return fmt.Errorf("node %d is not among --peers", f.id)
	}
	if err := checkPeerSecurity(logger, peers[f.id], f.tlsCert != "" || f.tlsKey != "" || f.tlsCA != "", f.insecurePeers); err != nil {
		return err
	}
	defaultAPI := f.api == ""
	if defaultAPI {
		f.api = fmt.Sprintf("127.0.0.1:%d", 8000+f.id)
	}
	peerAPIs, err := parsePeerAPIs(f.peerAPIs, peers, defaultAPI)
	if err != nil {
		return err
	}
	if f.rejoin {
		if err := prepareRejoin(f, logger); err != nil {
			return err
		}
	}
	ledSpec, err := led.ParseSpec(f.led)
	if err != nil {
		return err
	}
	ledDriver, err := led.Open(ledSpec, os.Stdout)
	if err != nil {
		return err
	}
	var blink time.Duration
	if ledSpec.Blinks() {
		blink = ledBlink
	}
	lamp := led.NewIndicator(ledDriver, blink, func(err error) { logger.Warn("status light failed", "led", ledSpec.String(), "err", err) })
	defer func() {
		if err := lamp.Close(); err != nil {
			logger.Warn("status light failed", "led", ledSpec.String(), "err", err)
		}
	}()
	cfg := server.Config{ID: f.id, Peers: peers, PeerAPIs: peerAPIs, Join: f.join, API: f.api, DataDir: f.data, Tick: f.tick,
		AdminToken: f.adminToken, JoinToken: f.joinToken, CORSOrigins: corsOrigins(f.corsOrigins), NoSync: f.noSync, Logger: logger,
		Crash:    func() { os.Exit(137) },
		OnStatus: func(s engine.Status) { lamp.Show(s, true) }}
	cfg.Engine.SnapshotEntries = f.snapEntries
	cfg.Engine.Raft.ElectionTicks = f.electionTicks
	cfg.Engine.Raft.HeartbeatTicks = f.heartbeatTicks
	cfg.Engine.Raft.DisablePreVote = f.noPreVote
	cfg.Engine.Raft.DisableCheckQuorum = f.noCheckQuorum
	cfg.Engine.Raft.Seed = uint64(time.Now().UnixNano())
	if f.tlsCert != "" || f.tlsKey != "" || f.tlsCA != "" {
		if cfg.TLS, err = transport.LoadTLS(f.tlsCert, f.tlsKey, f.tlsCA); err != nil {
			return err
		}
	}
	ctx := context.Background()
	switch f.core {
	case "native":
		cfg.NewCore, cfg.CoreName = host.Native, "native"
	default:
		var wasm []byte
		if f.core == "wasm" {
			wasm, err = corewasm.Bytes()
		} else {
			wasm, err = os.ReadFile(f.core)
		}
		if err != nil {
			return fmt.Errorf("--core %s: %w", f.core, err)
		}
		sum := sha256.Sum256(wasm)
		cacheDir := filepath.Join(f.data, "wasm-cache")
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", cacheDir, err)
		}
		rt, err := host.NewRuntime(ctx, wasm, cacheDir)
		if err != nil {
			return fmt.Errorf("--core %s: %w", f.core, err)
		}
		defer rt.Close(ctx)
		cfg.NewCore = server.CoreFactory(rt.Factory())
		cfg.CoreName = "wasm sha256:" + hex.EncodeToString(sum[:])
	}
	n, err := server.Start(cfg)
	if err != nil {
		return explainCorrupt(err, f, peerAPIs)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case s := <-sig:
		logger.Info("stopping", "signal", s.String())
	case <-n.Done():
	}
	stopErr := n.Stop()
	if err := n.Err(); err != nil {
		return err
	}
	return stopErr
}
