//go:build linux

package netfault

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/internal/netlab"
)

// Every node listens on its own namespace's address, on these ports.
const (
	peerPort = 7000
	apiPort  = 8000
)

// cluster is n wraft node processes, node i in namespace i of lab.
type cluster struct {
	t     *testing.T
	lab   *netlab.Lab
	n     int
	core  string
	dir   string
	procs []*exec.Cmd // procs[i-1] is node i
	logs  []*os.File
	// admin is the harness's own client, for status and probes.
	admin *client.Client
}

// newCluster builds a lab of n namespaces and starts a node in each; core
// is "wasm" or "native".
func newCluster(t *testing.T, n int, core string) *cluster {
	t.Helper()
	needLab(t)
	lab, err := netlab.New(netlab.Config{Nodes: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("close the lab: %v", err)
		}
	})
	c := &cluster{t: t, lab: lab, n: n, core: core, dir: t.TempDir(),
		procs: make([]*exec.Cmd, n), logs: make([]*os.File, n)}
	t.Cleanup(c.stopAll)
	for id := 1; id <= n; id++ {
		c.start(id)
	}
	if c.admin, err = client.New(c.endpoints()); err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= n; id++ {
		c.waitHealthy(id)
	}
	return c
}

func (c *cluster) api(id int) string { return fmt.Sprintf("%s:%d", c.lab.IP(id), apiPort) }

func (c *cluster) endpoint(id int) string { return "http://" + c.api(id) }

func (c *cluster) endpoints() []string {
	var eps []string
	for id := 1; id <= c.n; id++ {
		eps = append(eps, c.endpoint(id))
	}
	return eps
}

// start starts node id in its namespace.
func (c *cluster) start(id int) {
	c.t.Helper()
	core := bins.wasm
	if c.core == "native" {
		core = "native"
	}
	var peers, apis []string
	for i := 1; i <= c.n; i++ {
		peers = append(peers, fmt.Sprintf("%d=%s:%d", i, c.lab.IP(i), peerPort))
		apis = append(apis, fmt.Sprintf("%d=%s", i, c.api(i)))
	}
	log, err := os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", id)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := c.lab.Command(id, bins.wraft, "node", "--id", fmt.Sprint(id),
		"--peers", strings.Join(peers, ","), "--peer-apis", strings.Join(apis, ","),
		"--api", c.api(id), "--data", filepath.Join(c.dir, fmt.Sprintf("node-%d", id)), "--core", core,
		"--insecure-peers") // plain TCP on the lab's private network
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		c.t.Fatal(err)
	}
	c.procs[id-1], c.logs[id-1] = cmd, log
}

// waitHealthy waits until node id answers /healthz. Up to 90 s: every
// node compiles raft.wasm when it starts, all at once on a machine that
// may be busy.
func (c *cluster) waitHealthy(id int) {
	c.t.Helper()
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		resp, err := hc.Get(c.endpoint(id) + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("node %d did not come up within 90 s; log:\n%s", id, c.log(id))
}

func (c *cluster) log(id int) string {
	b, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", id)))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (c *cluster) signal(id int, s syscall.Signal) {
	c.t.Helper()
	if err := c.procs[id-1].Process.Signal(s); err != nil {
		c.t.Fatalf("signal %v to node %d: %v", s, id, err)
	}
}

// stopAll stops every node (continuing a stopped one first), bounded.
func (c *cluster) stopAll() {
	for id := 1; id <= c.n; id++ {
		p := c.procs[id-1]
		if p == nil {
			continue
		}
		p.Process.Signal(syscall.SIGCONT)
		p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			p.Process.Kill()
			<-done
		}
		c.logs[id-1].Close()
		c.procs[id-1] = nil
	}
	if c.t.Failed() {
		for id := 1; id <= c.n; id++ {
			c.t.Logf("node %d log (tail):\n%s", id, c.log(id))
		}
	}
}

// statuses asks every node for its status at once, each within 500 ms; a
// node that does not answer in time is missing from the map.
func (c *cluster) statuses() map[int]api.Status {
	var mu sync.Mutex
	out := map[int]api.Status{}
	var wg sync.WaitGroup
	for id := 1; id <= c.n; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			if st, err := c.admin.Status(ctx, c.endpoint(id)); err == nil {
				mu.Lock()
				out[id] = st
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// leader waits (up to 30 s) until a majority of the nodes name the same
// leader, one that says it leads, and returns it.
func (c *cluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		sts := c.statuses()
		votes := map[uint64]int{}
		for _, st := range sts {
			if st.Leader != 0 {
				votes[st.Leader]++
			}
		}
		for l, v := range votes {
			if st, ok := sts[int(l)]; ok && v > c.n/2 && st.Role == "leader" {
				return int(l)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no leader that a majority follows within 30 s")
	return 0
}

// followers returns every node but l, in order.
func (c *cluster) followers(l int) []int {
	var out []int
	for id := 1; id <= c.n; id++ {
		if id != l {
			out = append(out, id)
		}
	}
	return out
}

// caughtUp waits (up to within) until node id answers, follows a leader
// that a majority follows, and has applied at least what that leader had
// committed when the wait began. It returns how long that took, or
// false.
func (c *cluster) caughtUp(id int, within time.Duration) (time.Duration, bool) {
	t0 := time.Now()
	var target uint64
	for time.Since(t0) < within {
		sts := c.statuses()
		if target == 0 {
			for _, st := range sts {
				if st.Role == "leader" && st.Commit > target {
					target = st.Commit
				}
			}
		}
		if st, ok := sts[id]; ok && target != 0 && st.Leader != 0 && st.Applied >= target {
			if l, ok := sts[int(st.Leader)]; ok && l.Role == "leader" {
				return time.Since(t0), true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(t0), false
}

// converged waits (up to 30 s) until every node has applied the same
// index, and fails the test otherwise.
func (c *cluster) converged() {
	c.t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		sts := c.statuses()
		applied := map[uint64]bool{}
		var parts []string
		for id := 1; id <= c.n; id++ {
			if st, ok := sts[id]; ok {
				applied[st.Applied] = true
				parts = append(parts, fmt.Sprintf("n%d %s t%d applied %d", id, st.Role, st.Term, st.Applied))
			} else {
				parts = append(parts, fmt.Sprintf("n%d silent", id))
			}
		}
		last = strings.Join(parts, "; ")
		if len(sts) == c.n && len(applied) == 1 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("nodes did not converge within 30 s: %s", last)
}

// probeWrite writes key through the harness's client, retrying within
// within, and returns how long the first success took, or false.
func (c *cluster) probeWrite(key string, within time.Duration) (time.Duration, bool) {
	t0 := time.Now()
	for n := 0; time.Since(t0) < within; n++ {
		ctx, cancel := context.WithTimeout(context.Background(), within-time.Since(t0))
		rep, err := c.admin.Set(ctx, key, []byte(fmt.Sprint(n)))
		cancel()
		if err == nil && rep.OK {
			return time.Since(t0), true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(t0), false
}
