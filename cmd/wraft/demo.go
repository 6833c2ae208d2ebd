package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/client"
	"github.com/wraft/wraft/dashboard"
	"github.com/wraft/wraft/server"
)

type demoFlags struct {
	data      string
	core      string
	nodes     int
	dashboard string
}

func demoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a local three-node cluster (Ctrl-C stops it)",
		Long: `Start a local cluster of real wraft node processes on 127.0.0.1: peers on ports
7001-7003, client APIs on 8001-8003. Data lives in a temporary folder unless --data is
given (then a restart of the demo recovers the cluster from it). Every node gets the same
random admin token, which the demo prints: membership changes and the chaos endpoints need
it. The nodes' APIs answer web pages from the dashboard's origin only.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runDemo(f) },
	}
	cmd.Flags().StringVar(&f.data, "data", "", "data directory (default: a temporary folder, removed on exit)")
	cmd.Flags().StringVar(&f.core, "core", "wasm", `"wasm", "native" or the path of a raft.wasm`)
	cmd.Flags().IntVar(&f.nodes, "nodes", 3, "number of nodes (1 to 9)")
	cmd.Flags().StringVar(&f.dashboard, "dashboard", "127.0.0.1:8080", `where to serve the dashboard ("" for nowhere)`)
	return cmd
}

// demoSnapshotEntries is how often the demo's nodes snapshot: often
// enough that a node stopped for a while catches up by snapshot.
const demoSnapshotEntries = 1000

// demoNode is one child process of the demo.
type demoNode struct {
	id   int
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

func runDemo(f demoFlags) error {
	if f.nodes < 1 || f.nodes > 9 {
		return fmt.Errorf("--nodes must be 1 to 9, not %d", f.nodes)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the wraft binary: %w", err)
	}
	data := f.data
	if data == "" {
		if data, err = os.MkdirTemp("", "wraft-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(data)
	}
	tokenBytes := make([]byte, 32)
	if _, err := rand.Read(tokenBytes); err != nil {
		return fmt.Errorf("generate the admin token: %w", err)
	}
	token := hex.EncodeToString(tokenBytes)
	// The dashboard listens first, so that the nodes can let its origin in.
	dashURL, stopDash, err := serveDashboard(f.dashboard)
	if err != nil {
		return err
	}
	defer stopDash()
	origins := strings.Join(server.DefaultCORSOrigins, ",")
	if dashURL != "" {
		origins = dashOrigins(dashURL)
	}
	var peers, apis, endpoints []string
	for i := 1; i <= f.nodes; i++ {
		peers = append(peers, fmt.Sprintf("%d=127.0.0.1:%d", i, 7000+i))
		apis = append(apis, fmt.Sprintf("%d=127.0.0.1:%d", i, 8000+i))
		endpoints = append(endpoints, fmt.Sprintf("http://127.0.0.1:%d", 8000+i))
	}
	var nodes []*demoNode
	var outMu sync.Mutex
	exited := make(chan *demoNode, f.nodes)
	for i := 1; i <= f.nodes; i++ {
		n := &demoNode{id: i, args: []string{"node", "--id", fmt.Sprint(i), "--peers", strings.Join(peers, ","),
			"--data", filepath.Join(data, fmt.Sprintf("node-%d", i)), "--api", fmt.Sprintf("127.0.0.1:%d", 8000+i),
			"--peer-apis", strings.Join(apis, ","), "--snapshot-entries", fmt.Sprint(demoSnapshotEntries),
			"--admin-token", token, "--cors-origin", origins, "--core", f.core}}
		if err := n.start(self, &outMu, exited); err != nil {
			stopAll(nodes)
			return err
		}
		nodes = append(nodes, n)
	}
	defer stopAll(nodes)

	c, err := client.New(endpoints)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	leader := uint64(0)
	for leader == 0 && ctx.Err() == nil {
		for _, n := range nodes {
			select {
			case <-n.done:
				cancel()
				return fmt.Errorf("node %d exited while starting (see its log above)", n.id)
			default:
			}
		}
		leader = c.FindLeader(ctx)
		if leader == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	cancel()
	if leader == 0 {
		return errors.New("no leader was elected within 60 s")
	}
	outMu.Lock()
	fmt.Printf("\nwraft demo: %d nodes are running; node %d leads.\n", f.nodes, leader)
	for _, n := range nodes {
		fmt.Printf("  node %d  pid %-7d api %s  data %s\n", n.id, n.cmd.Process.Pid, endpoints[n.id-1], n.args[6])
	}
	if dashURL != "" {
		fmt.Printf("\nOpen the dashboard: %s\n  (three more raft.wasm nodes, running in your browser: kill, partition and watch them)\n", dashURL)
	}
	fmt.Printf(`
Try, in another terminal:
  wraft kv set temperature 72.5
  wraft kv get temperature
  wraft status
  kill -9 <the leader's pid>        # a new leader is elected; writes go on
The admin token (membership changes, chaos endpoints, the dashboard's chaos controls):
  export WRAFT_TOKEN=%s
  wraft member list
  curl -H "Authorization: Bearer $WRAFT_TOKEN" -d '{"blocked":[2,3]}' %s/v1/admin/faults
  curl -H "Authorization: Bearer $WRAFT_TOKEN" -X POST %s/v1/admin/heal
Ctrl-C stops everything.

`, token, endpoints[0], endpoints[0])
	outMu.Unlock()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	for {
		select {
		case <-sig:
			fmt.Println("\nwraft demo: stopping the nodes")
			return nil
		case n := <-exited:
			outMu.Lock()
			fmt.Printf("wraft demo: node %d exited (%v); restarting it in 2 s from its data\n", n.id, n.cmd.ProcessState)
			outMu.Unlock()
			select {
			case <-sig:
				return nil
			case <-time.After(2 * time.Second):
			}
			if err := n.start(self, &outMu, exited); err != nil {
				return err
			}
		}
	}
}

// start runs the node's process; when it ends, the node is sent on exited.
func (n *demoNode) start(self string, outMu *sync.Mutex, exited chan<- *demoNode) error {
	n.cmd = exec.Command(self, n.args...)
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		return err
	}
	n.cmd.Stdout = os.Stdout
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("start node %d: %w", n.id, err)
	}
	n.done = make(chan struct{})
	go func() {
		prefix(stderr, fmt.Sprintf("[node %d] ", n.id), outMu)
		n.cmd.Wait()
		close(n.done)
		select {
		case exited <- n:
		default: // the demo is stopping
		}
	}()
	return nil
}

// prefix copies a child's log lines to stderr, each with a prefix.
func prefix(r io.Reader, p string, mu *sync.Mutex) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mu.Lock()
		fmt.Fprintln(os.Stderr, p+sc.Text())
		mu.Unlock()
	}
}

func stopAll(nodes []*demoNode) {
	for _, n := range nodes {
		if n.cmd != nil && n.cmd.Process != nil {
			n.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(5 * time.Second)
	for _, n := range nodes {
		select {
		case <-n.done:
		case <-deadline:
			n.cmd.Process.Kill()
			<-n.done
		}
	}
}

// dashOrigins returns the browser origins of the dashboard at url: its
// own, and with 127.0.0.1 also as localhost (and the reverse).
func dashOrigins(url string) string {
	o := strings.TrimRight(url, "/")
	out := []string{o}
	if alt := strings.Replace(o, "://127.0.0.1:", "://localhost:", 1); alt != o {
		out = append(out, alt)
	} else if alt := strings.Replace(o, "://localhost:", "://127.0.0.1:", 1); alt != o {
		out = append(out, alt)
	}
	return strings.Join(out, ",")
}

// serveDashboard serves the embedded dashboard at addr and returns its URL
// and a function that stops it. Without an embedded dashboard it says so
// and serves nothing.
func serveDashboard(addr string) (string, func(), error) {
	if addr == "" {
		return "", func() {}, nil
	}
	site, err := dashboard.FS()
	if errors.Is(err, dashboard.ErrNotBuilt) {
		fmt.Fprintln(os.Stderr, "wraft demo: this binary has no dashboard embedded (build it with `make build`)")
		return "", func() {}, nil
	}
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("serve the dashboard on %s: %w (choose another with --dashboard)", addr, err)
	}
	files := http.FileServerFS(site)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			w.Header().Set("Content-Type", "application/wasm")
		}
		files.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/", func() { srv.Close() }, nil
}
