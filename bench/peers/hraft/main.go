// Command hraft is a small replicated key-value server built on
// hashicorp/raft and raft-boltdb, with the same HTTP shape as wraft's
// client API, so that the peers benchmark can drive both with one client:
//
//	PUT /v1/kv/{key}   body = value; answers {"code":"ok"} once Apply commits
//	GET /v1/status     {"id":1,"role":"leader","term":2,"leader":1,"commit":9,
//	                    "applied":9,"snapshot":0,"keys":7,"pid":4242}
//
// A node that does not lead answers a PUT with {"code":"not-leader",
// "leader":N} (N = 0 while no leader is known). BatchApplyCh is on and the
// log lives in BoltDB, which fsyncs every append (its default).
//
// Every node is started with the same --peers; each bootstraps the same
// configuration on its first start (hashicorp/raft accepts identical
// bootstraps) and recovers from its data directory afterwards.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// maxValueBytes bounds a PUT body, as wraft's server does.
const maxValueBytes = 64 << 10

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hraft:", err)
		os.Exit(1)
	}
}

// reply is the JSON answer to a PUT, a subset of wraft's api.Reply.
type reply struct {
	Code   string `json:"code"`
	OK     bool   `json:"ok"`
	Leader uint64 `json:"leader"`
	Error  string `json:"error,omitempty"`
}

// status is the JSON answer to GET /v1/status, a subset of wraft's
// api.Status.
type status struct {
	ID       uint64 `json:"id"`
	Role     string `json:"role"`
	Term     uint64 `json:"term"`
	Leader   uint64 `json:"leader"`
	Commit   uint64 `json:"commit"`
	Applied  uint64 `json:"applied"`
	Snapshot uint64 `json:"snapshot"` // index of the newest snapshot (0 if none)
	Keys     int    `json:"keys"`
	PID      int    `json:"pid"`
}

func run(args []string) error {
	fs := flag.NewFlagSet("hraft", flag.ContinueOnError)
	id := fs.Uint64("id", 0, "this node's id (one of --peers)")
	peers := fs.String("peers", "", "every member's raft address: id=host:port,...")
	api := fs.String("api", "", "HTTP API address (host:port)")
	data := fs.String("data", "", "data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	members, err := parsePeers(*peers)
	if err != nil {
		return err
	}
	self, ok := members[*id]
	switch {
	case *id == 0 || !ok:
		return fmt.Errorf("--id %d is not one of --peers", *id)
	case *api == "":
		return errors.New("--api is required")
	case *data == "":
		return errors.New("--data is required")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	if err := os.MkdirAll(*data, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	cfg := raft.DefaultConfig()
	cfg.LocalID = raft.ServerID(strconv.FormatUint(*id, 10))
	cfg.BatchApplyCh = true
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "hraft", Level: hclog.Warn, Output: os.Stderr})

	store, err := raftboltdb.NewBoltStore(filepath.Join(*data, "raft.db"))
	if err != nil {
		return fmt.Errorf("bolt store: %w", err)
	}
	defer store.Close()
	snaps, err := raft.NewFileSnapshotStore(*data, 1, io.Discard)
	if err != nil {
		return fmt.Errorf("snapshot store: %w", err)
	}
	addr, err := net.ResolveTCPAddr("tcp", self)
	if err != nil {
		return fmt.Errorf("raft address %q: %w", self, err)
	}
	trans, err := raft.NewTCPTransport(self, addr, 3, 10*time.Second, io.Discard)
	if err != nil {
		return fmt.Errorf("raft transport: %w", err)
	}
	defer trans.Close()

	fsm := &kvFSM{data: map[string][]byte{}}
	r, err := raft.NewRaft(cfg, fsm, store, store, snaps, trans)
	if err != nil {
		return fmt.Errorf("raft: %w", err)
	}
	var conf raft.Configuration
	for mid, maddr := range members {
		conf.Servers = append(conf.Servers, raft.Server{
			ID: raft.ServerID(strconv.FormatUint(mid, 10)), Address: raft.ServerAddress(maddr)})
	}
	if err := r.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("bootstrap: %w", err)
	}

	srv := &http.Server{Addr: *api, Handler: handler(r, fsm, *id), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case sig := <-sigs:
		log.Warn("stopping", "signal", sig)
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	}
	_ = srv.Close()
	return r.Shutdown().Error()
}

// parsePeers parses "1=127.0.0.1:7001,2=...".
func parsePeers(s string) (map[uint64]string, error) {
	out := map[uint64]string{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		id, err := strconv.ParseUint(k, 10, 64)
		if !ok || err != nil || id == 0 || v == "" {
			return nil, fmt.Errorf("--peers: %q is not id=host:port", part)
		}
		out[id] = v
	}
	if len(out) == 0 {
		return nil, errors.New("--peers is required (id=host:port,...)")
	}
	return out, nil
}

func handler(r *raft.Raft, fsm *kvFSM, id uint64) http.Handler {
	mux := http.NewServeMux()
	leaderID := func() uint64 {
		_, lid := r.LeaderWithID()
		n, _ := strconv.ParseUint(string(lid), 10, 64)
		return n
	}
	mux.HandleFunc("PUT /v1/kv/{key...}", func(w http.ResponseWriter, req *http.Request) {
		value, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxValueBytes))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, reply{Code: "invalid", Error: "hraft: read body: " + err.Error()})
			return
		}
		if r.State() != raft.Leader {
			writeJSON(w, http.StatusServiceUnavailable, reply{Code: "not-leader", Leader: leaderID()})
			return
		}
		if err := r.Apply(encode(req.PathValue("key"), value), 10*time.Second).Error(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, reply{Code: "not-leader", Leader: leaderID(), Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, reply{Code: "ok", OK: true, Leader: id})
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		role := strings.ToLower(r.State().String())
		snap, _ := strconv.ParseUint(r.Stats()["last_snapshot_index"], 10, 64)
		fsm.mu.Lock()
		keys := len(fsm.data)
		fsm.mu.Unlock()
		writeJSON(w, http.StatusOK, status{ID: id, Role: role, Term: r.CurrentTerm(), Leader: leaderID(),
			Commit: r.CommitIndex(), Applied: r.AppliedIndex(), Snapshot: snap, Keys: keys, PID: os.Getpid()})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// encode frames a set command: a 4-byte big-endian key length, the key,
// then the value.
func encode(key string, value []byte) []byte {
	b := make([]byte, 4, 4+len(key)+len(value))
	b[0], b[1], b[2], b[3] = byte(len(key)>>24), byte(len(key)>>16), byte(len(key)>>8), byte(len(key))
	b = append(b, key...)
	return append(b, value...)
}

// kvFSM is the replicated map.
type kvFSM struct {
	mu   sync.Mutex
	data map[string][]byte
}

// Apply applies one set command.
func (f *kvFSM) Apply(l *raft.Log) any {
	b := l.Data
	if len(b) < 4 {
		return nil
	}
	n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if 4+n > len(b) {
		return nil
	}
	f.mu.Lock()
	f.data[string(b[4:4+n])] = append([]byte(nil), b[4+n:]...)
	f.mu.Unlock()
	return nil
}

// Snapshot copies the map.
func (f *kvFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(map[string][]byte, len(f.data))
	for k, v := range f.data {
		c[k] = v
	}
	return snapshot(c), nil
}

// Restore replaces the map with a snapshot's.
func (f *kvFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var m map[string][]byte
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		return fmt.Errorf("hraft: restore: %w", err)
	}
	f.mu.Lock()
	f.data = m
	f.mu.Unlock()
	return nil
}

type snapshot map[string][]byte

// Persist writes the snapshot as JSON.
func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(map[string][]byte(s)); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("hraft: persist: %w", err)
	}
	return sink.Close()
}

// Release does nothing.
func (s snapshot) Release() {}
