//go:build linux

package netlab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// From <linux/if_tun.h>.
const (
	tunSetIff = 0x400454ca // TUNSETIFF
	iffTap    = 0x0002
	iffNoPI   = 0x1000
)

// nsPrefix starts every namespace a lab makes; the creating process's id
// follows, so that Sweep can tell the stale ones.
const nsPrefix = "wnl"

// guardRoute is the range every lab's addresses come from. New makes it
// a blackhole in the caller's namespace, under each lab's own /24.
const guardRoute = "10.77.0.0/16"

// labSeq numbers the labs of this process.
var labSeq atomic.Int64

// system is a lab's platform part: its namespaces and the caller's TAP
// device.
type system struct {
	ns      []string // namespaces made, in order
	hostTAP string
}

var available struct {
	once sync.Once
	err  error
}

// Available reports whether labs can be built here: it returns nil, or
// an error that says what is missing (root, /dev/net/tun, the ip command,
// network namespaces). It tries once per process and remembers.
func Available() error {
	available.once.Do(func() { available.err = probe() })
	return available.err
}

func probe() error {
	if os.Geteuid() != 0 {
		return errors.New("netlab: needs root (network namespaces and TAP devices)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("netlab: needs the ip command (iproute2)")
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("netlab: needs /dev/net/tun: %w", err)
	}
	f.Close()
	name := fmt.Sprintf("%s%d-probe", nsPrefix, os.Getpid())
	if err := ip("netns", "add", name); err != nil {
		return fmt.Errorf("netlab: cannot make network namespaces: %w", err)
	}
	if err := ip("netns", "del", name); err != nil {
		return fmt.Errorf("netlab: cannot remove network namespaces: %w", err)
	}
	return nil
}

// New builds a lab of cfg.Nodes namespaces and starts its switch. It
// first removes namespaces left by labs of processes that are gone
// (Sweep). On error nothing is left behind.
func New(cfg Config) (l *Lab, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if cfg.Nodes < 1 || cfg.Nodes > 64 {
		return nil, fmt.Errorf("netlab: %d nodes (want 1 to 64)", cfg.Nodes)
	}
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = 9000
	}
	if mtu < 576 || mtu > 65000 {
		return nil, fmt.Errorf("netlab: MTU %d (want 576 to 65000)", mtu)
	}
	Sweep()
	sys := &system{}
	var files []io.ReadWriteCloser
	defer func() {
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			sys.close()
		}
	}()
	unlock, err := lockAlloc()
	if err != nil {
		return nil, err
	}
	subnet, err := pickSubnet()
	if err != nil {
		unlock()
		return nil, err
	}
	mac := func(i int) [6]byte { return [6]byte{0x02, 0x77, byte(subnet), 0, 0, byte(i)} }
	// The caller's side first, under the lock: its address claims the /24.
	hostMAC := mac(0xfe)
	f, name, err := openTAP()
	if err == nil {
		files = append(files, f)
		sys.hostTAP = name
		err = errors.Join(
			ip("link", "set", "dev", name, "address", macString(hostMAC), "mtu", strconv.Itoa(mtu), "addrgenmode", "none"),
			ip("addr", "add", fmt.Sprintf("10.77.%d.254/24", subnet), "dev", name),
			ip("link", "set", "dev", name, "up"))
	}
	unlock()
	if err != nil {
		return nil, err
	}
	macs := [][6]byte{hostMAC}
	seq := labSeq.Add(1)
	l = &Lab{n: cfg.Nodes, subnet: subnet, ns: []string{""}, sys: sys}
	for i := 1; i <= cfg.Nodes; i++ {
		ns := fmt.Sprintf("%s%d-%d-%d", nsPrefix, os.Getpid(), seq, i)
		if err := ip("netns", "add", ns); err != nil {
			return nil, err
		}
		sys.ns = append(sys.ns, ns)
		f, name, err := openTAP()
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		macs = append(macs, mac(i))
		err = errors.Join(
			ip("link", "set", "dev", name, "address", macString(mac(i)), "mtu", strconv.Itoa(mtu), "addrgenmode", "none"),
			ip("link", "set", "dev", name, "netns", ns),
			ip("-n", ns, "link", "set", "dev", name, "name", "eth0"),
			ip("-n", ns, "addr", "add", fmt.Sprintf("10.77.%d.%d/24", subnet, i), "dev", "eth0"),
			ip("-n", ns, "link", "set", "dev", "eth0", "up"),
			ip("-n", ns, "link", "set", "dev", "lo", "up"))
		if err != nil {
			return nil, err
		}
		l.ns = append(l.ns, ns)
	}
	l.sw = newFabric(files, macs)
	return l, nil
}

// close removes the namespaces (the TAP devices in them go with them;
// the caller's goes when its file is closed, which the fabric does).
func (s *system) close() error {
	var errs []error
	for _, ns := range s.ns {
		if err := ip("netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	s.ns = nil
	return errors.Join(errs...)
}

// Sweep removes the namespaces that labs of processes no longer running
// left behind (a test killed before its cleanup ran). New calls it.
func Sweep() {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), nsPrefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = ip("netns", "del", e.Name())
		}
	}
}

// openTAP makes a TAP device (named by the kernel, wn0, wn1, ...) and
// returns its file, set up for the runtime's poller, and its name. The
// device lives as long as the file is open.
func openTAP() (*os.File, string, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", fmt.Errorf("netlab: open /dev/net/tun: %w", err)
	}
	var req [40]byte // struct ifreq: the name, then the flags
	copy(req[:], "wn%d")
	binary.NativeEndian.PutUint16(req[16:], iffTap|iffNoPI)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&req[0]))); errno != 0 {
		syscall.Close(fd)
		return nil, "", fmt.Errorf("netlab: TUNSETIFF: %w", errno)
	}
	name := string(req[:16])
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), name, nil
}

// lockAlloc takes the machine-wide lock under which labs pick their
// subnets, so that two processes building labs at once pick different
// ones. It returns the unlock function.
func lockAlloc() (func(), error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "wraft-netlab.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("netlab: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("netlab: lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// pickSubnet makes sure 10.77.0.0/16 is free for labs (no address of
// the caller's namespace is in it, except labs' own, and no route but
// the guard) and blackholed, then returns a third octet no lab uses now.
func pickSubnet() (int, error) {
	_, guard, _ := net.ParseCIDR(guardRoute)
	out, err := ipOut("-o", "-4", "addr", "show")
	if err != nil {
		return 0, err
	}
	used := map[int]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[2] != "inet" {
			continue
		}
		a, _, err := net.ParseCIDR(f[3])
		if err != nil || !guard.Contains(a) {
			continue
		}
		if !strings.HasPrefix(strings.TrimSuffix(f[1], ":"), "wn") || a.To4()[3] != 254 {
			return 0, fmt.Errorf("netlab: %s is in use on this machine (%s on %s)", guardRoute, f[3], f[1])
		}
		used[int(a.To4()[2])] = true
	}
	routes, err := ipOut("-4", "route", "show", "root", guardRoute)
	if err != nil {
		return 0, err
	}
	haveGuard := false
	for _, line := range strings.Split(strings.TrimSpace(routes), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case len(f) >= 2 && f[0] == "blackhole" && f[1] == guardRoute:
			haveGuard = true
		case strings.Contains(line, " dev wn"):
			// a lab's own /24
		default:
			return 0, fmt.Errorf("netlab: %s is routed on this machine (%s)", guardRoute, strings.TrimSpace(line))
		}
	}
	if !haveGuard {
		if err := ip("route", "add", "blackhole", guardRoute); err != nil {
			return 0, err
		}
	}
	start := rand.IntN(250)
	for k := range 250 {
		if s := 1 + (start+k)%250; !used[s] {
			return s, nil
		}
	}
	return 0, errors.New("netlab: every subnet of " + guardRoute + " is in use")
}

func ip(args ...string) error {
	_, err := ipOut(args...)
	return err
}

func ipOut(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("netlab: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func macString(m [6]byte) string { return net.HardwareAddr(m[:]).String() }
