// Package arm is a smoke test of the linux/arm64 release: three
// wraft-linux-arm64 processes under qemu-aarch64-static (Debian's
// qemu-user-static) on 127.0.0.1, each running the embedded raft.wasm,
// elect a leader, commit a write, lose the leader to kill -9, elect another
// and commit again. It checks that the binary carries the very raft.wasm
// of the build. It is not a benchmark: under qemu everything is slow.
//
// The binary is WRAFT_ARM_BINARY (`make arm-test` sets it to
// dist/wraft-linux-arm64, and WRAFT_ARM_CORE to dist/raft.wasm); without
// it the test cross-compiles one, which embeds
// host/corewasm/core/raft.wasm. It skips when qemu-aarch64-static or an
// embedded raft.wasm is missing, or with -short.
package arm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/host/hosttest"
)

const qemu = "/usr/bin/qemu-aarch64-static"

// Under qemu, wazero compiles raft.wasm in ~10 s per node (3 at once on a
// small machine: more) before the cache in --data is warm.
const (
	startTimeout    = 150 * time.Second
	failoverTimeout = 30 * time.Second
)

func TestARM64Cluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the qemu arm64 smoke test")
	}
	if _, err := os.Stat(qemu); err != nil {
		t.Skipf("%s is missing: install Debian's qemu-user-static (make arm-test does) to run the linux/arm64 smoke test", qemu)
	}
	bin, core := binary(t)
	want := fileSHA256(t, core)
	start := time.Now()

	// The binary reports the core it embeds, and refuses a core of another ABI version.
	out, err := exec.Command(qemu, bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "core sha256:"+want) {
		t.Fatalf("%s version: %v\n%s\nwant it to report core sha256:%s (%s)", bin, err, out, want, core)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	badCore := filepath.Join(t.TempDir(), "abi2.wasm")
	if err := os.WriteFile(badCore, hosttest.FakeCoreModule(2, false), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(qemu, bin, "node", "--id", "1", "--peers", "1=127.0.0.1:1", "--data", t.TempDir(),
		"--core", badCore).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unsupported ABI version") || !strings.Contains(string(out), "wraft_abi_version is 2") {
		t.Fatalf("wraft node --core <ABI version 2>: %v\n%s\nwant it to fail naming the ABI version", err, out)
	}

	c := startCluster(t, bin)
	leader := c.waitLeader(t, 0, startTimeout)
	t.Logf("%.1fs: node %d leads", time.Since(start).Seconds(), leader)
	for id := 1; id <= 3; id++ {
		st, err := c.status(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Core != "wasm sha256:"+want {
			t.Errorf("node %d runs core %q, want \"wasm sha256:%s\" (%s)", id, st.Core, want, core)
		}
	}
	c.put(t, leader, "arch", "arm64")
	t.Logf("%.1fs: a write committed", time.Since(start).Seconds())

	c.kill(leader)
	next := c.waitLeader(t, leader, failoverTimeout)
	t.Logf("%.1fs: node %d killed, node %d leads", time.Since(start).Seconds(), leader, next)
	c.put(t, next, "after", "failover")
	for key, want := range map[string]string{"arch": "arm64", "after": "failover"} {
		if have := c.get(t, next, key); have != want {
			t.Errorf("GET %s from node %d = %q, want %q", key, next, have, want)
		}
	}
	t.Logf("%.1fs: a write committed on the new leader; both writes read back", time.Since(start).Seconds())
}

// binary returns the arm64 binary to test and the raft.wasm it must embed.
func binary(t *testing.T) (bin, core string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if bin = os.Getenv("WRAFT_ARM_BINARY"); bin != "" {
		core = os.Getenv("WRAFT_ARM_CORE")
		if core == "" {
			core = filepath.Join(filepath.Dir(bin), "raft.wasm")
		}
		return bin, core
	}
	core = filepath.Join(root, "host", "corewasm", "core", "raft.wasm")
	if _, err := os.Stat(core); err != nil {
		t.Skipf("no raft.wasm to embed (%v): run make wasm first", err)
	}
	bin = filepath.Join(t.TempDir(), "wraft-linux-arm64")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/wraft")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for linux/arm64: %v\n%s", err, out)
	}
	return bin, core
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type cluster struct {
	apis  map[int]string
	procs map[int]*exec.Cmd
	http  *http.Client
}

func startCluster(t *testing.T, bin string) *cluster {
	t.Helper()
	dir := t.TempDir()
	ports := freePorts(t, 6)
	var peers []string
	for id := 1; id <= 3; id++ {
		peers = append(peers, fmt.Sprintf("%d=127.0.0.1:%d", id, ports[id-1]))
	}
	c := &cluster{apis: map[int]string{}, procs: map[int]*exec.Cmd{}, http: &http.Client{Timeout: 10 * time.Second}}
	for id := 1; id <= 3; id++ {
		c.apis[id] = fmt.Sprintf("127.0.0.1:%d", ports[2+id])
		log, err := os.Create(filepath.Join(dir, fmt.Sprintf("node%d.log", id)))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(qemu, bin, "node", "--id", fmt.Sprint(id), "--peers", strings.Join(peers, ","),
			"--data", filepath.Join(dir, fmt.Sprint(id)), "--api", c.apis[id], "--election-ticks", "25")
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c.procs[id] = cmd
		t.Cleanup(func() {
			c.kill(id)
			log.Close()
			if t.Failed() {
				b, _ := os.ReadFile(log.Name())
				t.Logf("node %d's log:\n%s", id, tail(string(b), 40))
			}
		})
	}
	return c
}

func (c *cluster) kill(id int) {
	if p := c.procs[id]; p != nil {
		p.Process.Signal(syscall.SIGKILL)
		p.Wait()
		delete(c.procs, id)
	}
}

func (c *cluster) status(id int) (api.Status, error) {
	var st api.Status
	resp, err := c.http.Get("http://" + c.apis[id] + "/v1/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitLeader waits until the running nodes agree on a leader other than
// not, which says it leads.
func (c *cluster) waitLeader(t *testing.T, not int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		leaders := map[uint64]bool{}
		ok := true
		for id := range c.procs {
			st, err := c.status(id)
			if err != nil {
				last, ok = fmt.Sprintf("node %d: %v", id, err), false
				break
			}
			leaders[st.Leader] = true
			if st.Leader == uint64(st.ID) && st.Role != "leader" {
				ok = false
			}
		}
		if ok && len(leaders) == 1 {
			for l := range leaders {
				if l != 0 && int(l) != not && c.procs[int(l)] != nil {
					return int(l)
				}
				last = fmt.Sprintf("leader %d", l)
			}
		} else if ok {
			last = fmt.Sprintf("leaders %v", leaders)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no agreed leader (other than %d) after %v; last: %s", not, timeout, last)
	return 0
}

func (c *cluster) put(t *testing.T, id int, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+c.apis[id]+"/v1/kv/"+key, strings.NewReader(value))
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("PUT %s on node %d: %v", key, id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		OK bool `json:"ok"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil || !r.OK {
		t.Fatalf("PUT %s on node %d: %s %s", key, id, resp.Status, b)
	}
}

func (c *cluster) get(t *testing.T, id int, key string) string {
	t.Helper()
	resp, err := c.http.Get("http://" + c.apis[id] + "/v1/kv/" + key + "?raw=1")
	if err != nil {
		t.Fatalf("GET %s on node %d: %v", key, id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s on node %d: %s %s", key, id, resp.Status, b)
	}
	return string(b)
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
