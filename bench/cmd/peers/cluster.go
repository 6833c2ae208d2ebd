package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wraft/wraft/internal/netlab"
)

// cluster is a three-node loopback cluster of one system under test.
type cluster struct {
	name  string
	dir   string // the cluster's temporary directory (data and logs)
	nodes []*node
	drv   driver
}

// stop kills every node and closes the driver.
func (c *cluster) stop() {
	for _, n := range c.nodes {
		n.kill()
	}
	if c.drv != nil {
		c.drv.close()
	}
}

// pids returns the nodes' current process ids, in id order (0 if down).
func (c *cluster) pids() []int {
	out := make([]int, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.pid()
	}
	return out
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// spec says how to start one system's three nodes.
type spec struct {
	name string
	bin  string
	// args returns node id's command line, given every node's peer and
	// client addresses (host:port, in id order) and the node's data
	// directory.
	args func(id int, peer, client []string, data string) []string
	// driver returns the client side for the clients' endpoints
	// (host:port, in id order).
	driver func(eps []string) (driver, error)
}

// startCluster starts a three-node loopback cluster of s under parent (a
// fresh directory is made there) and waits until it has a leader. On
// error nothing is left running.
func startCluster(ctx context.Context, s spec, parent string) (*cluster, error) {
	return startClusterIn(ctx, s, parent, nil)
}

// Ports of every node in a network lab, where each node has an address
// of its own.
const (
	labPeerPort   = 7000
	labClientPort = 8000
)

// startClusterIn is startCluster with each node in its own namespace of
// lab (one node per lab node), or on loopback if lab is nil.
func startClusterIn(ctx context.Context, s spec, parent string, lab *netlab.Lab) (*cluster, error) {
	dir, err := os.MkdirTemp(parent, s.name+"-")
	if err != nil {
		return nil, fmt.Errorf("%s: temp dir: %w", s.name, err)
	}
	size := 3
	var peer, client []string
	if lab == nil {
		ports, err := freePorts(2 * size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		for i := range size {
			peer = append(peer, "127.0.0.1:"+strconv.Itoa(ports[i]))
			client = append(client, "127.0.0.1:"+strconv.Itoa(ports[size+i]))
		}
	} else {
		size = lab.Nodes()
		for id := 1; id <= size; id++ {
			peer = append(peer, net.JoinHostPort(lab.IP(id), strconv.Itoa(labPeerPort)))
			client = append(client, net.JoinHostPort(lab.IP(id), strconv.Itoa(labClientPort)))
		}
	}
	c := &cluster{name: s.name, dir: dir}
	for i := range size {
		id := i + 1
		data := filepath.Join(dir, "node"+strconv.Itoa(id))
		c.nodes = append(c.nodes, &node{id: uint64(id), bin: s.bin, args: s.args(id, peer, client, data),
			log: filepath.Join(dir, "node"+strconv.Itoa(id)+".log"), lab: lab})
	}
	eps := client
	for _, n := range c.nodes {
		if err := n.start(); err != nil {
			c.stop()
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if c.drv, err = s.driver(eps); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	// Up to a minute: wraft's wasm core compiles raft.wasm as it starts,
	// three nodes at once, on a machine that may be busy.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := waitLeader(wctx, c.drv); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s: no leader after start (logs in %s): %w", s.name, dir, err)
	}
	return c, nil
}

// waitLeader polls until the driver reports a leader or ctx ends.
func waitLeader(ctx context.Context, d driver) (uint64, error) {
	var last error
	for {
		id, err := d.leader(ctx)
		if err == nil && id != 0 {
			return id, nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return 0, errors.Join(ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// peerList renders "1=host:port,2=...".
func peerList(addrs []string) string {
	var parts []string
	for i, a := range addrs {
		parts = append(parts, fmt.Sprintf("%d=%s", i+1, a))
	}
	return strings.Join(parts, ",")
}

// wraftSpec runs bin/wraft node with the given core ("native" or "wasm").
// snapEntries is its --snapshot-entries.
func wraftSpec(bin, core string, snapEntries int) spec {
	// Plain TCP between peers, also on a network lab's private addresses
	// (builds before --insecure-peers allowed it without the flag).
	insecure := nodeHasFlag(bin, "--insecure-peers")
	return spec{
		name: "wraft-" + core,
		bin:  bin,
		args: func(id int, peer, client []string, data string) []string {
			args := []string{"node", "--id", strconv.Itoa(id), "--peers", peerList(peer),
				"--api", client[id-1], "--data", data, "--core", core,
				"--snapshot-entries", strconv.Itoa(snapEntries), "--log-level", "warn"}
			if insecure {
				args = append(args, "--insecure-peers")
			}
			return args
		},
		driver: func(eps []string) (driver, error) { return newHTTPDriver(eps), nil },
	}
}

// hraftSpec runs the hashicorp/raft KV server of bench/peers/hraft.
func hraftSpec(bin string) spec {
	return spec{
		name: "hashicorp-raft",
		bin:  bin,
		args: func(id int, peer, client []string, data string) []string {
			return []string{"--id", strconv.Itoa(id), "--peers", peerList(peer),
				"--api", client[id-1], "--data", data}
		},
		driver: func(eps []string) (driver, error) { return newHTTPDriver(eps), nil },
	}
}

// etcdSpec runs etcd with its defaults (fsync on), logging errors only.
func etcdSpec(bin string) spec {
	return spec{
		name: "etcd",
		bin:  bin,
		args: func(id int, peer, client []string, data string) []string {
			var initial []string
			for i, p := range peer {
				initial = append(initial, fmt.Sprintf("n%d=http://%s", i+1, p))
			}
			purl := "http://" + peer[id-1]
			curl := "http://" + client[id-1]
			return []string{"--name", fmt.Sprintf("n%d", id), "--data-dir", data,
				"--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
				"--listen-client-urls", curl, "--advertise-client-urls", curl,
				"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
				"--initial-cluster-token", "wraft-bench", "--log-level", "error"}
		},
		driver: newEtcdDriver,
	}
}

// nodeHasFlag reports whether `bin node --help` lists flag, so that the
// harness can drive older builds of wraft too.
func nodeHasFlag(bin, flag string) bool {
	out, _ := exec.Command(bin, "node", "--help").CombinedOutput()
	return strings.Contains(string(out), flag+" ")
}
