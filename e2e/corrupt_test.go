package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
)

// localGet reads key from the node at api (host:port) alone: its own
// copy, which may be stale.
func localGet(apiAddr, key string) (api.Reply, error) {
	resp, err := http.Get("http://" + apiAddr + "/v1/kv/" + key + "?consistency=stale")
	if err != nil {
		return api.Reply{}, err
	}
	defer resp.Body.Close()
	var rep api.Reply
	err = json.NewDecoder(resp.Body).Decode(&rep)
	return rep, err
}

// founderArgs returns the flags cluster.start gives founder id (1 to 3).
func (c *cluster) founderArgs(id int) []string {
	core := bins.wasm
	if c.core == "native" {
		core = "native"
	}
	var apis []string
	for i := range 3 {
		apis = append(apis, fmt.Sprintf("%d=%s", i+1, c.apis[i]))
	}
	args := []string{"node", "--id", fmt.Sprint(id),
		"--data", c.nodeDir(id), "--api", c.apis[id-1],
		"--admin-token", adminToken, "--core", core,
		"--peers", strings.Join(c.peers, ","), "--peer-apis", strings.Join(apis, ",")}
	return append(args, c.args...)
}

func (c *cluster) nodeDir(id int) string { return filepath.Join(c.dir, fmt.Sprintf("node-%d", id)) }

// stopGracefully stops node id with SIGINT and waits for it to exit.
func (c *cluster) stopGracefully(id int) {
	c.t.Helper()
	p := c.procs[id-1]
	p.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.Process.Kill()
		<-done
	}
	c.logs[id-1].Close()
	c.procs[id-1] = nil
}

// TestProcessZeroedSegment is issue 16's report as a process test: a
// stopped follower's newest WAL segment is cut to 0 bytes. Restarted, the
// node must refuse, naming the segment and the command that restores it;
// that command (wraft node ... --rejoin) must bring it back, from its
// peers, with every acknowledged write, as a voter.
func TestProcessZeroedSegment(t *testing.T) {
	for _, core := range []string{"wasm", "native"} {
		t.Run(core, func(t *testing.T) { testZeroedSegment(t, core) })
	}
}

func testZeroedSegment(t *testing.T, core string) {
	c := newClusterWith(t, core, clusterOptions{args: []string{"--snapshot-entries", "40"}})
	l := c.leader(0)
	victim := 3
	if l == victim {
		victim = 2
	}
	written := map[string]string{}
	set := func(k, v string) {
		c.set(k, v)
		written[k] = v
	}
	for i := range 60 {
		set(fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i))
	}
	c.converged()
	c.stopGracefully(victim)

	// Cut the newest segment to 0 bytes.
	dir := c.nodeDir(victim)
	segs, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segments in %s: %v", dir, err)
	}
	sort.Strings(segs)
	newest := segs[len(segs)-1]
	if err := os.Truncate(newest, 0); err != nil {
		t.Fatal(err)
	}
	for i := 60; i < 90; i++ { // written while it is down
		set(fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i))
	}

	// Restarted as before, it refuses, and says what to run.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bins.wraft, c.founderArgs(victim)...).CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("node %d started from a zeroed segment (err %v); output:\n%s", victim, err, out)
	}
	msg := string(out)
	for _, want := range []string{"corrupt", newest, "refusing to start", "--rejoin", "docs/OPERATIONS.md"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("refusal lacks %q:\n%s", want, msg)
		}
	}
	var command []string
	for sc := bufio.NewScanner(strings.NewReader(msg)); sc.Scan(); {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, bins.wraft+" node ") && strings.Contains(line, " --rejoin") {
			command = strings.Fields(line)
		}
	}
	if command == nil {
		t.Fatalf("refusal has no command line with --rejoin:\n%s", msg)
	}
	t.Logf("refusal:\n%s", msg)
	if seg, _ := os.Stat(newest); seg == nil || seg.Size() != 0 {
		t.Fatal("the refusing node changed its damaged segment")
	}

	// The command it gave brings it back.
	logPath := filepath.Join(c.dir, fmt.Sprintf("node-%d.log", victim))
	var before int64
	if fi, err := os.Stat(logPath); err == nil {
		before = fi.Size()
	}
	log, err := os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", victim)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.procs[victim-1], c.logs[victim-1] = cmd, log
	c.waitHealthy(victim)
	c.waitMembers("1:voter 2:voter 3:voter")
	set("after", "rejoined")
	c.converged()

	// It caught up from a snapshot: the others had compacted their logs.
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b[min(before, int64(len(b))):]), "installed snapshot") {
		t.Fatalf("node %d did not catch up by snapshot; log:\n%s", victim, c.log(victim))
	}
	aside, _ := filepath.Glob(dir + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("damaged directory not moved aside: %v", aside)
	}
	if seg, err := os.Stat(filepath.Join(aside[0], filepath.Base(newest))); err != nil || seg.Size() != 0 {
		t.Fatalf("the moved-aside directory lacks the damaged segment: %v", err)
	}

	// Every acknowledged write is on the rejoined node (read locally,
	// after it applied what the others did) and in the cluster.
	for k, v := range written {
		rep, err := localGet(c.apis[victim-1], k)
		if err != nil || !rep.Found || rep.Value != v {
			t.Fatalf("node %d: get %s: have %+v, %v; want %q", victim, k, rep, err, v)
		}
		c.get(k, v)
	}
	// Restarted again with --rejoin still given, it starts from its sound
	// data directory.
	c.stopGracefully(victim)
	cmd = exec.Command(command[0], command[1:]...)
	log, err = os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", victim)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.procs[victim-1], c.logs[victim-1] = cmd, log
	c.waitHealthy(victim)
	set("again", "1")
	c.converged()
	if aside, _ := filepath.Glob(dir + ".corrupt-*"); len(aside) != 1 {
		t.Fatalf("a sound directory was moved aside: %v", aside)
	}
	c.waitMembers("1:voter 2:voter 3:voter")
}
