package server_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/hosttest"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/server"
	"github.com/wraft/wraft/wire"
)

// startCluster starts three nodes with the given core and long election
// timeouts (1-2 s), so that only a real fault changes the leader.
func startCluster(t *testing.T, factory server.CoreFactory, name string) *cluster {
	t.Helper()
	c := &cluster{t: t, peers: map[uint64]string{}, nodes: map[uint64]*server.Node{}, cfgs: map[uint64]server.Config{}}
	t.Cleanup(c.stopAll)
	lns := map[uint64]net.Listener{}
	for id := uint64(1); id <= 3; id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		lns[id], c.peers[id] = ln, ln.Addr().String()
	}
	for id := uint64(1); id <= 3; id++ {
		cfg := server.Config{ID: id, Peers: c.peers, Listener: lns[id], API: "127.0.0.1:0", DataDir: t.TempDir(),
			NewCore: factory, CoreName: name, NoSync: true, Logger: testLogger()}
		cfg.Engine.Raft.ElectionTicks = 50
		cfg.Engine.Raft.HeartbeatTicks = 5
		cfg.Engine.Raft.Seed = id
		n, err := server.Start(cfg)
		if err != nil {
			t.Fatalf("start node %d: %v", id, err)
		}
		c.nodes[id], c.cfgs[id] = n, cfg
	}
	return c
}

// Requests with a field over its limit, sent straight to the leader's core
// (past the API's own checks), are each refused with the limit in the
// error, the same text through both cores, while the valid requests
// beside them in the same batches apply: the leader keeps its core and its
// leadership (no term change), and the data is intact. Before inputs were
// decoded one by one, raft.wasm refused each such batch whole, the daemon
// recreated the core and the leader lost its leadership.
func TestOversizedRequestsKeepLeadership(t *testing.T) {
	const n = 1000
	longKey := strings.Repeat("k", 300)
	longExpect := make([]byte, kv.MaxValueBytes+1)
	longAddr := strings.Repeat("a", wire.MaxAddrBytes+1)
	bad := []struct {
		name string
		in   engine.Input
		msg  string
	}{
		{"key", engine.Propose{Command: kv.Command{ClientID: 7, Seq: 1, Op: kv.OpSet, Key: longKey, Value: []byte("v")}},
			"kv: key too long (300 > 256 bytes)"},
		{"read key", engine.Read{Key: longKey}, "kv: key too long (300 > 256 bytes)"},
		{"expect", engine.Propose{Command: kv.Command{ClientID: 7, Seq: 1, Op: kv.OpCAS, Key: "k", Expect: longExpect}},
			"kv: cas expectation too long (65537 > 65536 bytes)"},
		{"member address", engine.ChangeMembers{Change: raft.ConfChange{Type: raft.ConfAddLearner, NodeID: 9, Addr: longAddr}},
			"engine: member address too long (1025 > 1024 bytes)"},
	}
	for _, core := range []string{"native", "wasm"} {
		t.Run(core, func(t *testing.T) {
			factory := server.CoreFactory(host.Native)
			if core == "wasm" {
				factory = server.CoreFactory(hosttest.Factory(t))
			}
			c := startCluster(t, factory, core)
			leader := c.waitLeader()
			ln := c.nodes[leader]
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			put := func(client, seq uint64, key, value string) error {
				r, err := ln.Submit(ctx, engine.Propose{Command: kv.Command{ClientID: client, Seq: seq, Op: kv.OpSet,
					Key: key, Value: []byte(value)}})
				if err == nil && (r.Code != engine.ReplyOK || !r.OK) {
					err = fmt.Errorf("reply %v %q", r.Code, r.Error)
				}
				return err
			}
			if err := put(1, 1, "keep", "v1"); err != nil {
				t.Fatalf("first write: %v", err)
			}
			term := ln.Status().Term

			// Eight senders, so that batches mix bad and good requests.
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < n; i += 8 {
						for _, b := range bad {
							r, err := ln.Submit(ctx, b.in)
							if err == nil && (r.Code != engine.ReplyInvalid || r.Error != b.msg) {
								err = fmt.Errorf("reply %v %q, want invalid %q", r.Code, r.Error, b.msg)
							}
							if err != nil {
								errs <- fmt.Errorf("%s #%d: %w", b.name, i, err)
								return
							}
						}
						if i%50 == 0 {
							if err := put(100+uint64(w), uint64(i+1), fmt.Sprintf("good/%d", i), "x"); err != nil {
								errs <- fmt.Errorf("good write #%d: %w", i, err)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}

			for _, id := range c.ids() {
				if s := c.nodes[id].Status(); s.Term != term || s.Leader != leader {
					t.Errorf("node %d: term %d leader %d, want term %d leader %d (unchanged)", id, s.Term, s.Leader, term, leader)
				}
			}
			for _, ev := range ln.Events() {
				if ev.Kind == raft.EventCoreError || ev.Kind == raft.EventInputsRejected {
					t.Errorf("leader event %v: %s", ev.Kind, ev.Text)
				}
			}
			for _, key := range []string{"keep", "good/0", "good/950"} {
				r, err := ln.Submit(ctx, engine.Read{Key: key})
				if err != nil || r.Code != engine.ReplyOK || !r.Found {
					t.Errorf("read %s after: %+v, %v; want it found", key, r, err)
				}
			}
			if ms := ln.Status().Members; len(ms) != 3 {
				t.Errorf("members after: %+v, want the three", ms)
			}
		})
	}
}

// A core that refuses a batch's encoding (engine.ErrInputRejected) is
// kept: the batch's requests are answered with ReplyInvalid, and the
// requests after it are served by the same core, in the same term.
func TestRejectedBatchKeepsCore(t *testing.T) {
	var mu sync.Mutex
	made := 0
	var reject bool
	factory := func(cfg engine.Config, r engine.Restored) (engine.Core, error) {
		e, err := engine.New(cfg, r)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		made++
		mu.Unlock()
		return rejecting{e: e, reject: func(in []engine.Input) bool {
			mu.Lock()
			defer mu.Unlock()
			for _, x := range in {
				if p, ok := x.(engine.Propose); ok && p.Command.Key == "refuse-me" && reject {
					return true
				}
			}
			return false
		}}, nil
	}
	c := startCluster(t, factory, "rejecting")
	leader := c.waitLeader()
	ln := c.nodes[leader]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mu.Lock()
	reject, before := true, made
	mu.Unlock()
	term := ln.Status().Term
	r, err := ln.Submit(ctx, engine.Propose{Command: kv.Command{ClientID: 1, Seq: 1, Op: kv.OpSet, Key: "refuse-me"}})
	if err != nil || r.Code != engine.ReplyInvalid || !strings.Contains(r.Error, "inputs batch rejected") {
		t.Errorf("refused batch: %+v, %v; want invalid, inputs batch rejected", r, err)
	}
	r, err = ln.Submit(ctx, engine.Propose{Command: kv.Command{ClientID: 1, Seq: 2, Op: kv.OpSet, Key: "k", Value: []byte("v")}})
	if err != nil || r.Code != engine.ReplyOK {
		t.Errorf("write after: %+v, %v; want ok", r, err)
	}
	mu.Lock()
	after := made
	mu.Unlock()
	if after != before {
		t.Errorf("cores made: %d, then %d; want the core kept", before, after)
	}
	if s := ln.Status(); s.Term != term || s.Leader != leader {
		t.Errorf("term %d leader %d, want %d and %d", s.Term, s.Leader, term, leader)
	}
}

// rejecting is a core that refuses the batches reject picks as a broken
// encoding, handling none of them.
type rejecting struct {
	e      *engine.Engine
	reject func([]engine.Input) bool
}

func (c rejecting) Handle(in []engine.Input) ([]engine.Effect, error) {
	if c.reject(in) {
		return nil, fmt.Errorf("test: %w: a broken batch", engine.ErrInputRejected)
	}
	return c.e.Handle(in)
}
