//go:build linux

package netlab_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wraft/wraft/internal/netlab"
)

// The test binary doubles as the programs run inside the namespaces:
// with NETLAB_HELPER=echo:ADDR it echoes every connection to ADDR; with
// dial:ADDR it connects to ADDR, sends a byte, waits a second for the
// echo and prints "ok" or the error.
func TestMain(m *testing.M) {
	mode, addr, _ := strings.Cut(os.Getenv("NETLAB_HELPER"), ":")
	switch mode {
	case "echo":
		echo(addr)
		os.Exit(0)
	case "dial":
		fmt.Println(dialOnce(net.JoinHostPort(addr, "7000"), time.Second))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func echo(host string) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "7000"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("listening")
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
}

// dialOnce connects to addr and checks that a byte comes back.
func dialOnce(addr string, timeout time.Duration) string {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte{'x'}); err != nil {
		return "write: " + err.Error()
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return "read: " + err.Error()
	}
	return "ok"
}

// newLab builds a lab of n nodes with an echo server on each, or skips
// the test where labs cannot be built.
func newLab(t *testing.T, n int) *netlab.Lab {
	t.Helper()
	if err := netlab.Available(); err != nil {
		t.Skipf("no network lab here: %v", err)
	}
	l, err := netlab.New(netlab.Config{Nodes: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		cmd := l.Command(i, exe)
		cmd.Env = append(os.Environ(), "NETLAB_HELPER=echo:"+l.IP(i))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		line, err := bufio.NewReader(out).ReadString('\n')
		if strings.TrimSpace(line) != "listening" {
			t.Fatalf("echo server in %s: %q, %v", l.Namespace(i), line, err)
		}
	}
	return l
}

// reach reports what node from (or Host) gets when it dials node to.
func reach(t *testing.T, l *netlab.Lab, from, to int) string {
	t.Helper()
	if from == netlab.Host {
		return dialOnce(net.JoinHostPort(l.IP(to), "7000"), time.Second)
	}
	exe, _ := os.Executable()
	cmd := l.Command(from, exe)
	cmd.Env = append(os.Environ(), "NETLAB_HELPER=dial:"+l.IP(to))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dial helper in %s: %v", l.Namespace(from), err)
	}
	return strings.TrimSpace(string(out))
}

func TestReachEveryNode(t *testing.T) {
	l := newLab(t, 3)
	for from := 0; from <= 3; from++ {
		for to := 1; to <= 3; to++ {
			if from == to {
				continue
			}
			if have := reach(t, l, from, to); have != "ok" {
				t.Errorf("%d -> %d: %s", from, to, have)
			}
		}
	}
}

// TestCutStalls checks that a cut link stalls TCP instead of failing it:
// a new connection times out (no refusal, no "no route"), an established
// one neither errors nor delivers, and after Heal the bytes written
// during the cut arrive on the same connection.
func TestCutStalls(t *testing.T) {
	l := newLab(t, 2)
	c, err := net.DialTimeout("tcp", net.JoinHostPort(l.IP(1), "7000"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.Cut(netlab.Host, 1)
	if have := l.Cuts(); len(have) != 1 || have[0] != [2]int{0, 1} {
		t.Fatalf("cuts: have %v, want [[0 1]]", have)
	}
	if _, err := c.Write([]byte("during")); err != nil {
		t.Fatalf("write during the cut: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	var buf [6]byte
	if n, err := io.ReadFull(c, buf[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read during the cut: have %d bytes, %v; want a stall (deadline exceeded)", n, err)
	}
	_, err = net.DialTimeout("tcp", net.JoinHostPort(l.IP(1), "7000"), 700*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial during the cut: %v; want a timeout", err)
	}
	if have := reach(t, l, 2, 1); have != "ok" {
		t.Errorf("2 -> 1 during a cut of host-1: %s", have)
	}
	l.Heal(netlab.Host, 1)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, buf[:]); err != nil || string(buf[:]) != "during" {
		t.Fatalf("after heal: have %q, %v; want the bytes written during the cut", buf, err)
	}
	if l.Stats().Cut == 0 {
		t.Error("the switch counted no dropped frame")
	}
}

func TestPartition(t *testing.T) {
	l := newLab(t, 3)
	l.Partition([]int{1}, []int{2, 3})
	for _, c := range []struct {
		from, to int
		ok       bool
	}{{2, 3, true}, {3, 2, true}, {2, 1, false}, {1, 3, false}, {netlab.Host, 1, true}, {netlab.Host, 3, true}} {
		have := reach(t, l, c.from, c.to)
		if (have == "ok") != c.ok {
			t.Errorf("%d -> %d under 1|2,3: %s (want reachable %v)", c.from, c.to, have, c.ok)
		}
	}
	l.HealAll()
	if have := reach(t, l, 2, 1); have != "ok" {
		t.Errorf("2 -> 1 after HealAll: %s", have)
	}
}

func TestIsolate(t *testing.T) {
	l := newLab(t, 3)
	l.Isolate(2)
	if have := len(l.Cuts()); have != 3 {
		t.Fatalf("isolating node 2 of 3 cut %d links, want 3 (host, 1, 3)", have)
	}
	if have := reach(t, l, netlab.Host, 2); have == "ok" {
		t.Error("the host reached an isolated node")
	}
	if have := reach(t, l, 1, 3); have != "ok" {
		t.Errorf("1 -> 3 with 2 isolated: %s", have)
	}
}

// TestDelay checks that a delayed node's round trips take at least the
// delay longer, and that removing the delay brings them back.
func TestDelay(t *testing.T) {
	l := newLab(t, 1)
	c, err := net.DialTimeout("tcp", net.JoinHostPort(l.IP(1), "7000"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rtt := func() time.Duration {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		t0 := time.Now()
		var b [1]byte
		if _, err := c.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b[:]); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0)
	}
	const d = 150 * time.Millisecond
	l.Delay(1, d)
	for range 3 {
		if have := rtt(); have < d {
			t.Fatalf("round trip with a delay of %s: %s", d, have)
		}
	}
	if l.Stats().Delayed == 0 {
		t.Error("the switch counted no delayed frame")
	}
	l.Delay(1, 0)
	t.Logf("round trip after the delay is removed: %s", rtt())
}

// TestCloseRemovesNamespaces checks that Close leaves no namespace and
// no interface behind.
func TestCloseRemovesNamespaces(t *testing.T) {
	if err := netlab.Available(); err != nil {
		t.Skipf("no network lab here: %v", err)
	}
	l, err := netlab.New(netlab.Config{Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	ns := l.Namespace(1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), ns) {
		t.Errorf("namespace %s is still there after Close:\n%s", ns, out)
	}
	out, err = exec.Command("ip", "-o", "-4", "addr", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), l.IP(netlab.Host)+"/") {
		t.Errorf("the host address %s is still there after Close:\n%s", l.IP(netlab.Host), out)
	}
}

// TestSweepRemovesStale checks that Sweep removes a namespace left by a
// process that is gone, and keeps this process's.
func TestSweepRemovesStale(t *testing.T) {
	l := newLab(t, 1)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("wnl%d-1-1", gone.Process.Pid)
	if out, err := exec.Command("ip", "netns", "add", stale).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", stale, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", stale).Run() })
	netlab.Sweep()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), stale) {
		t.Errorf("Sweep left %s, made by a process that is gone", stale)
	}
	if !strings.Contains(string(out), l.Namespace(1)) {
		t.Errorf("Sweep removed %s, this process's", l.Namespace(1))
	}
}
