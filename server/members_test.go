package server_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

func decodeMembers(t *testing.T, r response) api.Members {
	t.Helper()
	var ms api.Members
	if err := json.Unmarshal(r.body, &ms); err != nil {
		t.Fatalf("answer %d is not the members: %v\n%s", r.code, err, r.body)
	}
	return ms
}

// roles returns "1:voter 2:voter 4:learner".
func roles(ms api.Members) string {
	var parts []string
	for _, m := range ms.Members {
		parts = append(parts, fmt.Sprintf("%d:%s", m.ID, m.Role))
	}
	return strings.Join(parts, " ")
}

func TestMembersList(t *testing.T) {
	c := newClusterWith(t, clusterOptions{size: 3, apis: true})
	l := c.waitLeader()
	f := c.follower(l)
	for _, id := range []uint64{l, f} {
		r := do(t, http.MethodGet, c.url(id, "/v1/members"), nil)
		ms := decodeMembers(t, r)
		if r.code != http.StatusOK || roles(ms) != "1:voter 2:voter 3:voter" || ms.Leader != l {
			t.Fatalf("GET /v1/members on node %d: have %d %s leader %d; want 200 with three voters, leader %d",
				id, r.code, roles(ms), ms.Leader, l)
		}
		// A follower forwards to the leader, which knows the progress.
		for _, m := range ms.Members {
			if m.Raft != c.peers[m.ID] || m.API != "http://"+c.nodes[m.ID].APIAddr() || m.State == "" {
				t.Errorf("GET /v1/members on node %d: member %+v; want raft %s, api http://%s and a progress state",
					id, m, c.peers[m.ID], c.nodes[m.ID].APIAddr())
			}
		}
	}
	st := c.status(f)
	if len(st.Members) != 3 {
		t.Errorf("status members: have %+v, want three", st.Members)
	}
}

func TestMembersBadRequests(t *testing.T) {
	c := newClusterWith(t, clusterOptions{size: 3, apis: true})
	l := c.waitLeader()
	for _, tc := range []struct {
		method, path, body string
		code               int
		errHas             string
	}{
		{"POST", "/v1/members", "{", 400, "not a member"},
		{"POST", "/v1/members", `{"id":4,"raft":"127.0.0.1:7","color":"red"}`, 400, "unknown field"},
		{"POST", "/v1/members", `{"id":0,"raft":"127.0.0.1:7"}`, 400, "non-zero"},
		{"POST", "/v1/members", `{"raft":"127.0.0.1:7"}`, 400, "non-zero"},
		{"POST", "/v1/members", `{"id":4}`, 400, "not host:port"},
		{"POST", "/v1/members", `{"id":4,"raft":"nowhere"}`, 400, "not host:port"},
		{"POST", "/v1/members", `{"id":4,"raft":"127.0.0.1:7","api":"ftp://x"}`, 400, "not an API URL"},
		{"POST", "/v1/members", `{"id":2,"raft":"127.0.0.1:7"}`, 400, "already a member"},
		{"POST", "/v1/members/abc/promote", "", 400, "not a non-zero"},
		{"POST", "/v1/members/0/promote", "", 400, "not a non-zero"},
		{"POST", "/v1/members/9/promote", "", 400, "not a member"},
		{"POST", "/v1/members/2/promote", "", 400, "already a voter"},
		{"DELETE", "/v1/members/0", "", 400, "not a non-zero"},
		{"DELETE", "/v1/members/9", "", 400, "not a member"},
	} {
		r := do(t, tc.method, c.url(l, tc.path), []byte(tc.body))
		rep := r.reply(t)
		if r.code != tc.code || !strings.Contains(rep.Error, tc.errHas) {
			t.Errorf("%s %s %s: have %d %q; want %d with an error containing %q", tc.method, tc.path, tc.body,
				r.code, rep.Error, tc.code, tc.errHas)
		}
	}
}

func TestMembersChanges(t *testing.T) {
	c := newClusterWith(t, clusterOptions{size: 3, apis: true})
	l := c.waitLeader()
	f := c.follower(l)
	// Through a follower, which forwards to the leader. Node 4 never runs,
	// so it never catches up.
	r := do(t, http.MethodPost, c.url(f, "/v1/members"), []byte(`{"id":4,"raft":"127.0.0.1:1","api":"127.0.0.1:2"}`))
	ms := decodeMembers(t, r)
	if r.code != http.StatusOK || roles(ms) != "1:voter 2:voter 3:voter 4:learner" || ms.Index == 0 {
		t.Fatalf("add learner 4: have %d %s (index %d)\n%s", r.code, roles(ms), ms.Index, r.body)
	}
	if m := ms.Members[3]; m.Raft != "127.0.0.1:1" || m.API != "http://127.0.0.1:2" {
		t.Errorf("member 4: have %+v", m)
	}
	r = do(t, http.MethodPost, c.url(l, "/v1/members/4/promote"), nil)
	if rep := r.reply(t); r.code != http.StatusConflict || rep.Code != "conflict" || !strings.Contains(rep.Error, "caught up") {
		t.Errorf("promote a lagging learner: have %d %+v; want 409 conflict", r.code, rep)
	}
	r = do(t, http.MethodDelete, c.url(f, "/v1/members/4"), nil)
	if ms := decodeMembers(t, r); r.code != http.StatusOK || roles(ms) != "1:voter 2:voter 3:voter" {
		t.Fatalf("remove 4: have %d %s\n%s", r.code, roles(ms), r.body)
	}
	// Every node learns the configuration.
	for range 500 {
		done := true
		for _, id := range c.ids() {
			if len(c.nodes[id].Status().Members) != 3 {
				done = false
			}
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the nodes did not all learn that node 4 left")
}

// TestJoinAndSnapshot grows a cluster by a node that joins through a
// follower's API, catches up by snapshot (the log was compacted) and is
// promoted; then it restarts from its own data directory.
func TestJoinAndSnapshot(t *testing.T) {
	c := newClusterWith(t, clusterOptions{size: 3, apis: true, snapshotEntries: 20})
	l := c.waitLeader()
	for i := range 60 {
		r := do(t, http.MethodPut, c.url(l, fmt.Sprintf("/v1/kv/k%d", i)), []byte(fmt.Sprint(i)))
		if r.code != http.StatusOK {
			t.Fatalf("write %d: %d %s", i, r.code, r.body)
		}
	}
	if st := c.status(l); st.Snapshot == 0 || st.FirstIndex <= 1 {
		t.Fatalf("leader after 60 writes with snapshots every 20: snapshot %d first index %d", st.Snapshot, st.FirstIndex)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := server.Config{ID: 4, Peers: map[uint64]string{4: ln.Addr().String()}, Listener: ln, API: freeAddr(t),
		DataDir: dir, Join: c.url(c.follower(l), ""), JoinToken: testToken, NewCore: host.Native, CoreName: "native", NoSync: true,
		Logger: testLogger()}
	cfg.Engine.Raft.ElectionTicks, cfg.Engine.Raft.HeartbeatTicks, cfg.Engine.Raft.Seed = 20, 2, 4
	cfg.Engine.SnapshotEntries = 20
	n, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.nodes[4], c.peers[4] = n, ln.Addr().String()
	cfg.Listener = nil
	c.cfgs[4] = cfg
	if _, err := os.Stat(filepath.Join(dir, server.ClusterFile)); err != nil {
		t.Fatalf("the joined node keeps its configuration: %v", err)
	}
	waitFor(t, "node 4 to become a voter and catch up", func() bool {
		s := n.Status()
		return len(s.Voters) == 4 && s.Applied >= c.nodes[l].Status().Commit && s.Snapshot > 0
	})
	r := do(t, http.MethodGet, c.url(4, "/v1/kv/k59?consistency=stale"), nil)
	if rep := r.reply(t); rep.Value != "59" {
		t.Fatalf("node 4 reads k59: have %+v", rep)
	}
	// Restart it: it starts from its snapshot and the configuration it
	// joined with, and does not join again.
	c.stop(4)
	c.restart(4)
	waitFor(t, "node 4 to come back as a voter", func() bool {
		s := c.nodes[4].Status()
		return len(s.Voters) == 4 && s.Leader != 0
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for range 1500 { // 30 s at most
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestRecover loses two of three nodes for good: the survivor, forced to a
// configuration of itself alone, elects itself and keeps its data.
func TestRecover(t *testing.T) {
	c := newClusterWith(t, clusterOptions{size: 3, apis: true})
	l := c.waitLeader()
	for i := range 10 {
		if r := do(t, http.MethodPut, c.url(l, fmt.Sprintf("/v1/kv/k%d", i)), []byte(fmt.Sprint(i))); r.code != http.StatusOK {
			t.Fatalf("write %d: %d %s", i, r.code, r.body)
		}
	}
	waitFor(t, "node 1 to apply every write", func() bool { return c.nodes[1].Status().Applied >= c.nodes[l].Status().Commit })
	c.stopAll()
	dir := c.cfgs[1].DataDir
	if _, err := server.Recover(server.RecoverOptions{DataDir: dir, Voters: []uint64{4}, Peers: c.peers}); err == nil ||
		!strings.Contains(err.Error(), "not a member") {
		t.Errorf("recover with a voter that is not a member: %v, want an error", err)
	}
	dry, err := server.Recover(server.RecoverOptions{DataDir: dir, Voters: []uint64{1}, Peers: c.peers, DryRun: true})
	if err != nil || dry.Source != "--peers" || len(dry.After) != 1 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	res, err := server.Recover(server.RecoverOptions{DataDir: dir, Voters: []uint64{1}, Peers: c.peers, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Index != res.LastIndex+1 || res.Term <= res.LastTerm {
		t.Errorf("forced entry at index %d term %d after last %d/%d", res.Index, res.Term, res.LastIndex, res.LastTerm)
	}
	c.restart(1)
	waitFor(t, "node 1 to lead alone", func() bool {
		s := c.nodes[1].Status()
		return s.Role.String() == "leader" && len(s.Voters) == 1
	})
	r := do(t, http.MethodGet, c.url(1, "/v1/kv/k9"), nil)
	if rep := r.reply(t); rep.Value != "9" {
		t.Errorf("read k9 after recovery: %+v", rep)
	}
	if r := do(t, http.MethodPut, c.url(1, "/v1/kv/after"), []byte("x")); r.code != http.StatusOK {
		t.Errorf("write after recovery: %d %s", r.code, r.body)
	}
	// The configuration change is in the log now: a second recovery finds it.
	c.stop(1)
	again, err := server.Recover(server.RecoverOptions{DataDir: dir, Voters: []uint64{1}, DryRun: true})
	if err != nil || !strings.Contains(again.Source, "configuration change") {
		t.Errorf("second dry run: %+v, %v", again, err)
	}
}
