package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wraft/wraft/internal/netlab"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// it is 100 on every Linux this runs on.
const clockTicks = 100

// node is one member process of a cluster under test. Its process runs in
// a process group of its own, so that a kill reaches any children, and
// receives SIGKILL if the harness's thread dies (Pdeathsig).
type node struct {
	id   uint64
	bin  string
	args []string
	log  string // file that receives stdout and stderr
	// lab, if set, is the network lab in whose namespace id the node
	// runs.
	lab *netlab.Lab

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// start starts the node's process. It is an error if it is running.
func (n *node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("node %d: already running (pid %d)", n.id, n.cmd.Process.Pid)
	}
	f, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node %d: log: %w", n.id, err)
	}
	cmd := exec.Command(n.bin, n.args...)
	if n.lab != nil {
		cmd = n.lab.Command(int(n.id), n.bin, n.args...)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("node %d: start %s: %w", n.id, n.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	n.cmd, n.done = cmd, done
	return nil
}

// pid returns the running process's id, or 0.
func (n *node) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// kill sends SIGKILL to the node's process group and waits (bounded) for
// the process to exit. Killing a stopped node does nothing.
func (n *node) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// childEnv is the environment without WRAFT_ settings, which wraft node
// would read as flags.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WRAFT_") {
			env = append(env, kv)
		}
	}
	return env
}

// procUsage is what /proc says of a process.
type procUsage struct {
	cpu   time.Duration // user + system time
	hwmKB int64         // peak resident set size (VmHWM)
}

// readUsage reads /proc/<pid>/stat and /proc/<pid>/status.
func readUsage(pid int) (procUsage, error) {
	var u procUsage
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("usage of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields after its
	// closing parenthesis are space-separated. utime and stime are
	// fields 14 and 15, so 11 and 12 after the state (field 3).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return u, fmt.Errorf("usage of %d: malformed stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return u, fmt.Errorf("usage of %d: short stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return u, fmt.Errorf("usage of %d: %w", pid, err)
	}
	u.cpu = time.Duration(ut+st) * time.Second / clockTicks
	sf, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("usage of %d: %w", pid, err)
	}
	defer sf.Close()
	sc := bufio.NewScanner(sf)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb := strings.Fields(rest)
			if len(kb) > 0 {
				u.hwmKB, _ = strconv.ParseInt(kb[0], 10, 64)
			}
		}
	}
	return u, nil
}

// usages reads the usage of each process (zero for one it cannot read).
func usages(pids []int) []procUsage {
	us := make([]procUsage, len(pids))
	for i, pid := range pids {
		us[i], _ = readUsage(pid)
	}
	return us
}

// usageSince returns, per process, the CPU seconds used since before and
// the peak RSS in MB (zeros for a process it cannot read).
func usageSince(pids []int, before []procUsage) (cpus, rssMB []float64) {
	for i, pid := range pids {
		after, err := readUsage(pid)
		if err != nil {
			cpus, rssMB = append(cpus, 0), append(rssMB, 0)
			continue
		}
		cpus = append(cpus, (after.cpu - before[i].cpu).Seconds())
		rssMB = append(rssMB, float64(after.hwmKB)/1024)
	}
	return cpus, rssMB
}
