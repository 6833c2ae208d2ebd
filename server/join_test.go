package server_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

// TestJoinFollowsLeaderAPI (issue 16 item 8): a member that cannot
// forward a join answers 503 not-leader with the leader's API URL, and
// the joining node asks the leader there.
func TestJoinFollowsLeaderAPI(t *testing.T) {
	founders := []api.Member{{ID: 1, Role: "voter", Raft: "127.0.0.1:9"}}
	var leaderPosts atomic.Int32
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms := api.Members{Leader: 1, From: 1, Members: founders}
		if r.Method == http.MethodPost {
			leaderPosts.Add(1)
			var req api.AddMember
			json.NewDecoder(r.Body).Decode(&req)
			ms.Members = append(ms.Members, api.Member{ID: req.ID, Role: "learner", Raft: req.Raft, API: req.API})
			ms.Index = 7
		}
		json.NewEncoder(w).Encode(ms)
	}))
	defer leader.Close()
	founders[0].API = leader.URL
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(api.Reply{Code: "not-leader", Error: "cannot forward", Leader: 1, LeaderAPI: leader.URL})
			return
		}
		json.NewEncoder(w).Encode(api.Members{Leader: 1, From: 2, Members: founders})
	}))
	defer follower.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := server.Start(server.Config{ID: 4, Peers: map[uint64]string{4: ln.Addr().String()}, Listener: ln,
		API: "127.0.0.1:0", DataDir: t.TempDir(), NewCore: host.Native, CoreName: "native", NoSync: true,
		Logger: testLogger(), Join: follower.URL, JoinTimeout: 20 * time.Second, PromoteTimeout: time.Millisecond})
	if err != nil {
		t.Fatalf("join through a follower that names the leader's API: %v", err)
	}
	defer n.Stop()
	if leaderPosts.Load() == 0 {
		t.Error("joined without asking the leader")
	}
	ms := n.Status().Members
	for i := 0; len(ms) == 0 && i < 500; i++ { // until the core reports
		time.Sleep(10 * time.Millisecond)
		ms = n.Status().Members
	}
	if len(ms) != 2 || ms[1].ID != 4 || !ms[1].Learner {
		t.Errorf("configuration after the join: %+v; want voter 1 and learner 4", ms)
	}
}
