// Package netlab builds a small network of Linux network namespaces for
// process tests with real network faults: one namespace per node, each
// with one Ethernet interface (eth0) plugged into a switch that runs in
// the calling process over TAP devices, and one more interface in the
// caller's own namespace, so that the test and its clients reach every
// node at IP(i).
//
// The switch is where faults happen. Cut blackholes a link: IP packets
// vanish without an answer while ARP still passes, so neighbours stay
// resolved and a TCP connection stalls rather than fails, as behind a
// firewall that drops. Delay holds every frame a node sends, as netem's
// delay on its interface would. Processes are stopped and continued by
// the caller (SIGSTOP, SIGCONT); the lab only runs them in the namespace
// (Command).
//
// A lab needs root, network namespaces and /dev/net/tun; Available says
// which is missing. Namespaces are named "wnl<pid>-<seq>-<i>", so that
// New removes those left behind by a process that died (Sweep). The
// addresses are 10.77.<n>.0/24, one /24 per lab; New installs a blackhole
// route for 10.77.0.0/16 in the caller's namespace (once, if there is no
// route for it yet), so that nothing sent to a lab that is gone can leave
// the machine.
package netlab

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"time"
)

// Host is the index of the caller's own namespace among the switch's
// ports: IP(Host) is the caller's address, and Cut(Host, i) cuts the test
// and its clients off node i. Nodes are numbered 1 to Nodes().
const Host = 0

// ErrUnsupported is returned by New and Available on systems other than
// Linux.
var ErrUnsupported = errors.New("netlab: network namespaces need Linux")

// Config says what lab to build.
type Config struct {
	// Nodes is the number of node namespaces, 1 to 64.
	Nodes int
	// MTU of every interface; 0 means 9000 (fewer frames through the
	// switch than with 1500).
	MTU int
}

// Lab is a running lab. Its methods are safe for concurrent use.
type Lab struct {
	n      int
	subnet int      // the third octet: 10.77.<subnet>.0/24
	ns     []string // ns[i] is node i's namespace (ns[0] is "")
	sw     *fabric
	sys    *system // the platform part: TAP devices and namespaces

	closeOnce sync.Once
	closeErr  error
}

// Nodes returns the number of nodes.
func (l *Lab) Nodes() int { return l.n }

// IP returns node i's address, or the caller's for Host.
func (l *Lab) IP(i int) string {
	l.check(i, true)
	if i == Host {
		return fmt.Sprintf("10.77.%d.254", l.subnet)
	}
	return fmt.Sprintf("10.77.%d.%d", l.subnet, i)
}

// Namespace returns the name of node i's network namespace (as `ip netns`
// lists it).
func (l *Lab) Namespace(i int) string {
	l.check(i, false)
	return l.ns[i]
}

// Command returns a command that runs name with args inside node i's
// namespace (through `ip netns exec`, which execs it: the process's id is
// the program's own).
func (l *Lab) Command(i int, name string, args ...string) *exec.Cmd {
	l.check(i, false)
	return exec.Command("ip", append([]string{"netns", "exec", l.ns[i], name}, args...)...)
}

// Cut blackholes the link between a and b (either may be Host), both
// ways: IP packets between them are dropped; ARP passes.
func (l *Lab) Cut(a, b int) {
	l.check(a, true)
	l.check(b, true)
	l.sw.setCut(a, b, true)
}

// Heal restores the link between a and b. Delays stay.
func (l *Lab) Heal(a, b int) {
	l.check(a, true)
	l.check(b, true)
	l.sw.setCut(a, b, false)
}

// Isolate cuts node i off every other node and off Host.
func (l *Lab) Isolate(i int) {
	l.check(i, false)
	for j := 0; j <= l.n; j++ {
		if j != i {
			l.sw.setCut(i, j, true)
		}
	}
}

// Partition cuts every link between nodes of different groups. Links
// within a group, and those of nodes in no group and of Host, stay as
// they are. Partition([]int{1, 2}, []int{3, 4, 5}) splits five nodes 2|3.
func (l *Lab) Partition(groups ...[]int) {
	for gi, g := range groups {
		for _, a := range g {
			l.check(a, false)
			for _, h := range groups[gi+1:] {
				for _, b := range h {
					l.check(b, false)
					if a == b {
						panic(fmt.Sprintf("netlab: node %d is in two groups", a))
					}
					l.sw.setCut(a, b, true)
				}
			}
		}
	}
}

// Delay holds every frame node i (or Host) sends for d before the switch
// passes it on, as `tc qdisc ... netem delay d` on its interface would: a
// round trip with it takes d longer. Frames keep their order. d = 0
// removes the delay (frames already held still wait their time).
func (l *Lab) Delay(i int, d time.Duration) {
	l.check(i, true)
	if d < 0 {
		d = 0
	}
	l.sw.setDelay(i, d)
}

// HealAll removes every cut and every delay.
func (l *Lab) HealAll() { l.sw.healAll() }

// Cuts returns the cut links as pairs {a, b} with a < b, sorted.
func (l *Lab) Cuts() [][2]int {
	out := l.sw.cuts()
	slices.SortFunc(out, func(x, y [2]int) int {
		if x[0] != y[0] {
			return x[0] - y[0]
		}
		return x[1] - y[1]
	})
	return out
}

// Stats counts the frames the switch has handled since New.
type Stats struct {
	// Forwarded frames were written to their destination port (at once
	// or after a delay).
	Forwarded int64
	// Cut frames were dropped on a cut link.
	Cut int64
	// Overflow frames were dropped because a delay line was full.
	Overflow int64
	// Delayed frames were held by a delay line (and counted in Forwarded
	// once written).
	Delayed int64
}

// Stats returns the switch's counters.
func (l *Lab) Stats() Stats { return l.sw.stats() }

// Close stops the switch and removes the namespaces and interfaces. A
// process still running inside a namespace loses its interface (its TAP
// device goes with the switch) and so can no longer send anywhere; the
// caller should stop its processes first. Close is idempotent.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		l.sw.close()
		l.closeErr = l.sys.close()
	})
	return l.closeErr
}

func (l *Lab) check(i int, hostOK bool) {
	if i < 0 || i > l.n || (i == Host && !hostOK) {
		panic(fmt.Sprintf("netlab: no node %d in a lab of %d", i, l.n))
	}
}
