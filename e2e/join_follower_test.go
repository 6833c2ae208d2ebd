package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/client"
)

// TestProcessJoinThroughFollower (issue 16 item 8): three nodes started
// with explicit --api addresses and no --peer-apis, so that no node is
// told another's API URL. Each announces its own to its peers over the
// transport, and the leader records them in the log, so a fourth node
// that joins through a follower is forwarded to the leader (with the
// admin token all the nodes share) and becomes a voter, and every
// member's API URL ends up in the configuration.
func TestProcessJoinThroughFollower(t *testing.T) {
	for _, core := range []string{"wasm", "native"} {
		t.Run(core, func(t *testing.T) {
			c := newClusterNoPeerAPIs(t, core, nil)
			l := c.leader(0)
			c.set("before", "1")
			f := 1
			if f == l {
				f = 2
			}
			c.startJoining(4, f)
			c.waitMembers("1:voter 2:voter 3:voter 4:voter")
			c.waitAPIsAnnounced(4)
			c.set("after", "2")
			c.get("before", "1")
		})
	}
}

// TestProcessAPIsWithOwnTokens (issue 16 item 8): three founders each
// with an admin token of its own (as nodes started without a shared
// --admin-token each make one) still learn every member's API URL, which
// travels over the peer transport and needs no token; a fourth node that
// joins through the leader with the leader's token joins, and its API URL
// too reaches every member. (Joining through a follower forwards the
// joiner's token to the leader, so that takes one token shared by all.)
func TestProcessAPIsWithOwnTokens(t *testing.T) {
	token := func(id int) string { return fmt.Sprintf("own-token-of-node-%d", id) }
	c := newClusterNoPeerAPIs(t, "native", func(id int) []string { return []string{"--admin-token", token(id)} })
	l := c.leader(0)
	c.waitAPIsAnnounced(3)
	c.startWith(4, "--listen", c.raft[3], "--join", "http://"+c.apis[l-1], "--admin-token", token(4), "--join-token", token(l))
	c.waitMembers("1:voter 2:voter 3:voter 4:voter")
	c.waitAPIsAnnounced(4)
	c.set("after", "2")
}

// newClusterNoPeerAPIs starts three founders, each with --api and
// --peers but without --peer-apis (and with the flags extra returns, if
// set), with room for a fourth node.
func newClusterNoPeerAPIs(t *testing.T, core string, extra func(id int) []string) *cluster {
	if testing.Short() {
		t.Skip("process tests are not short")
	}
	c := &cluster{t: t, dir: t.TempDir(), core: core}
	const size = 4
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
		args := []string{"--peers", strings.Join(c.peers, ",")}
		if extra != nil {
			args = append(args, extra(id)...)
		}
		c.startWith(id, args...)
	}
	var err error
	if c.cl, err = client.New(endpoints); err != nil {
		t.Fatal(err)
	}
	return c
}

// startJoining starts node id with --join through node via's API.
func (c *cluster) startJoining(id, via int) {
	c.t.Helper()
	c.startWith(id, "--listen", c.raft[id-1], "--join", "http://"+c.apis[via-1])
}

// startWith starts node id with its --api and the given flags, and waits
// until its API answers.
func (c *cluster) startWith(id int, args ...string) {
	c.t.Helper()
	core := bins.wasm
	if c.core == "native" {
		core = "native"
	}
	log, err := os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", id)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	args = append([]string{"node", "--id", fmt.Sprint(id),
		"--data", filepath.Join(c.dir, fmt.Sprintf("node-%d", id)), "--api", c.apis[id-1],
		"--admin-token", adminToken, "--core", core}, args...)
	cmd := exec.Command(bins.wraft, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.procs[id-1], c.logs[id-1] = cmd, log
	// Longer than waitHealthy: on a loaded machine compiling raft.wasm
	// alone can take many seconds, and a joining node answers only once
	// it has joined.
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + c.apis[id-1] + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
	}
	c.t.Fatalf("node %d did not come up; log:\n%s", id, c.log(id))
}

// waitAPIsAnnounced waits until every node's configuration lists the API
// URL of each of the members 1..n.
func (c *cluster) waitAPIsAnnounced(n int) {
	c.t.Helper()
	var have string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		have = ""
		ok := true
		for id := 1; id <= n; id++ {
			ms, err := localMembers("http://" + c.apis[id-1])
			if err != nil {
				ok = false
				have += fmt.Sprintf("node %d: %v; ", id, err)
				continue
			}
			var apis []string
			for _, m := range ms.Members {
				apis = append(apis, fmt.Sprintf("%d=%s", m.ID, m.API))
				if int(m.ID) > n || m.API != "http://"+c.apis[m.ID-1] {
					ok = false
				}
			}
			if len(ms.Members) != n {
				ok = false
			}
			have += fmt.Sprintf("node %d: %s; ", id, strings.Join(apis, " "))
		}
		if ok {
			return
		}
	}
	c.t.Fatalf("API URLs not announced to every node: %s", have)
}

// localMembers asks the node at base for the configuration as it knows it
// (not forwarded to the leader).
func localMembers(base string) (api.Members, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/members?local", nil)
	if err != nil {
		return api.Members{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return api.Members{}, err
	}
	defer resp.Body.Close()
	var ms api.Members
	if resp.StatusCode != http.StatusOK {
		return ms, fmt.Errorf("%s/v1/members?local: %s", base, resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&ms)
	return ms, err
}
