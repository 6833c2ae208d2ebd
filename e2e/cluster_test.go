// Package e2e runs real `wraft node` processes on 127.0.0.1 and puts them
// through the seed's scenarios: kill -9, SIGSTOP, partitions, restarts,
// with clients writing and reading throughout. Porcupine checks the whole
// client history.
package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wraft/wraft/client"
)

// bins holds the binaries TestMain builds once.
var bins struct {
	wraft, wasm string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "wraft-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.wraft = filepath.Join(dir, "wraft")
	bins.wasm = filepath.Join(dir, "raft.wasm")
	build := func(out string, env []string, args ...string) error {
		cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %v: %v\n%s", args, err, b)
		}
		return nil
	}
	err = build(bins.wraft, nil, "./cmd/wraft")
	if err == nil {
		err = build(bins.wasm, []string{"GOOS=wasip1", "GOARCH=wasm"}, "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "./wasm")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminToken = "e2e-token"

// cluster is three wraft node processes on loopback, and room for more
// that join later.
type cluster struct {
	t     *testing.T
	dir   string
	core  string
	args  []string // extra flags for every node
	peers []string // id=host:port of the three founding members
	raft  []string // every node's peer address, host:port
	apis  []string // every node's API address, host:port
	procs []*exec.Cmd
	logs  []*os.File
	cl    *client.Client
}

// clusterOptions adjusts a cluster.
type clusterOptions struct {
	// spare is how many nodes beyond the three founders may join later
	// (ids 4, 5, ...).
	spare int
	// args are extra flags for every node, such as --snapshot-entries.
	args []string
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func newCluster(t *testing.T, core string) *cluster {
	return newClusterWith(t, core, clusterOptions{})
}

func newClusterWith(t *testing.T, core string, o clusterOptions) *cluster {
	if testing.Short() {
		t.Skip("process tests are not short")
	}
	c := &cluster{t: t, dir: t.TempDir(), core: core, args: o.args}
	size := 3 + o.spare
	ports := freePorts(t, 2*size)
	var endpoints []string
	for i := range size {
		c.raft = append(c.raft, fmt.Sprintf("127.0.0.1:%d", ports[i]))
		c.apis = append(c.apis, fmt.Sprintf("127.0.0.1:%d", ports[size+i]))
		if i < 3 {
			c.peers = append(c.peers, fmt.Sprintf("%d=%s", i+1, c.raft[i]))
			endpoints = append(endpoints, "http://"+c.apis[i])
		}
	}
	c.procs = make([]*exec.Cmd, size)
	c.logs = make([]*os.File, size)
	t.Cleanup(c.stopAll)
	for id := 1; id <= 3; id++ {
		c.start(id)
	}
	var err error
	if c.cl, err = client.New(endpoints); err != nil {
		t.Fatal(err)
	}
	c.cl.Token = adminToken
	return c
}

// start starts (or restarts) node id from its data directory. The
// founders are started with --peers; a later node with --join through
// node 1's API (ignored once it has data).
func (c *cluster) start(id int) {
	c.t.Helper()
	core := bins.wasm
	if c.core == "native" {
		core = "native"
	}
	log, err := os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", id)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	args := []string{"node", "--id", fmt.Sprint(id),
		"--data", filepath.Join(c.dir, fmt.Sprintf("node-%d", id)), "--api", c.apis[id-1],
		"--admin-token", adminToken, "--core", core}
	if id <= 3 {
		var apis []string
		for i := range 3 {
			apis = append(apis, fmt.Sprintf("%d=%s", i+1, c.apis[i]))
		}
		args = append(args, "--peers", strings.Join(c.peers, ","), "--peer-apis", strings.Join(apis, ","))
	} else {
		args = append(args, "--listen", c.raft[id-1], "--join", "http://"+c.apis[0])
	}
	cmd := exec.Command(bins.wraft, append(args, c.args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.procs[id-1], c.logs[id-1] = cmd, log
	c.waitHealthy(id)
}

func (c *cluster) waitHealthy(id int) {
	c.t.Helper()
	for range 300 {
		resp, err := http.Get("http://" + c.apis[id-1] + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("node %d did not come up; log:\n%s", id, c.log(id))
}

func (c *cluster) log(id int) string {
	b, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", id)))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// kill9 kills node id the hard way and waits for it to be gone.
func (c *cluster) kill9(id int) {
	c.t.Helper()
	p := c.procs[id-1]
	if p == nil {
		return
	}
	p.Process.Signal(syscall.SIGKILL)
	p.Wait()
	c.logs[id-1].Close()
	c.procs[id-1] = nil
}

func (c *cluster) signal(id int, s syscall.Signal) {
	c.t.Helper()
	if err := c.procs[id-1].Process.Signal(s); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) stopAll() {
	for id := 1; id <= len(c.procs); id++ {
		if p := c.procs[id-1]; p != nil {
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
	}
	if c.t.Failed() {
		for id := 1; id <= len(c.procs); id++ {
			c.t.Logf("node %d log (tail):\n%s", id, c.log(id))
		}
	}
}

// leader waits until a majority of the nodes follow one leader, other
// than except, and returns it.
func (c *cluster) leader(except int) int {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		votes := map[uint64]int{}
		for id := 1; id <= len(c.procs); id++ {
			if c.procs[id-1] == nil {
				continue
			}
			// Each node gets its own deadline: a stopped one must not use
			// up the others' time.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			st, err := c.cl.Status(ctx, "http://"+c.apis[id-1])
			cancel()
			if err != nil {
				continue
			}
			if st.Leader != 0 {
				votes[st.Leader]++
			}
		}
		// A majority must follow the same leader (a partitioned minority
		// may know none).
		for l, n := range votes {
			if n >= 2 && int(l) != except && int(l) <= len(c.procs) && c.procs[l-1] != nil {
				return int(l)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no agreed leader (other than %d) within 20 s", except)
	return 0
}

// admin posts to an admin endpoint of node id.
func (c *cluster) admin(id int, what string, body any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.cl.Admin(ctx, "http://"+c.apis[id-1], adminToken, what, body); err != nil {
		c.t.Fatal(err)
	}
}

// set writes key=value and fails the test unless it commits.
func (c *cluster) set(key, value string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := c.cl.Set(ctx, key, []byte(value))
	if err != nil || !rep.OK {
		c.t.Fatalf("set %s=%s: %+v, %v", key, value, rep, err)
	}
}

// get reads key linearizably and fails the test unless it has value.
func (c *cluster) get(key, want string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := c.cl.Get(ctx, key, false)
	if err != nil || !rep.Found || rep.Value != want {
		c.t.Fatalf("get %s: have %+v, %v; want %q", key, rep, err, want)
	}
}

// converged waits until every running node has applied the same index.
func (c *cluster) converged() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		applied := map[uint64]bool{}
		var parts []string
		ok := true
		for id := 1; id <= len(c.procs); id++ {
			if c.procs[id-1] == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := c.cl.Status(ctx, "http://"+c.apis[id-1])
			cancel()
			if err != nil {
				ok = false
				continue
			}
			applied[st.Applied] = true
			parts = append(parts, fmt.Sprintf("n%d %s t%d applied %d last %d", id, st.Role, st.Term, st.Applied, st.LastIndex))
		}
		last = strings.Join(parts, "; ")
		if ok && len(applied) == 1 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("nodes did not converge within 20 s: %s", last)
}

// errIs reports whether err wraps target.
func errIs(err, target error) bool { return errors.Is(err, target) }

var _ = sync.Mutex{}
