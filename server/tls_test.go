package server_test

import (
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/wraft/wraft/transport"
	"github.com/wraft/wraft/transport/transporttest"
)

// TestMutualTLS runs the peer links over mutual TLS, with certificates read
// from PEM files as the daemon's --tls-* flags read them. Nodes 1 and 2
// hold certificates of the cluster's CA; node 3's come from another CA, so
// the others refuse it and it refuses them. Nodes 1 and 2 elect a leader
// and commit between themselves; node 3 never learns of it.
func TestMutualTLS(t *testing.T) {
	good, err := transporttest.NewCA("wraft test CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := transporttest.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	configs := map[uint64]*tls.Config{}
	for id, ca := range map[uint64]*transporttest.CA{1: good, 2: good, 3: other} {
		f, err := ca.WriteNode(t.TempDir(), id)
		if err != nil {
			t.Fatal(err)
		}
		if configs[id], err = transport.LoadTLS(f.Cert, f.Key, f.CA); err != nil {
			t.Fatal(err)
		}
	}
	c := newClusterWith(t, clusterOptions{size: 3, token: testToken, tls: func(id uint64) *tls.Config { return configs[id] }})

	leader := c.waitLeaderAmong(1, 2)
	for _, key := range []string{"a", "b", "c"} {
		w := checkReply(t, "PUT "+key, do(t, http.MethodPut, c.url(leader, "/v1/kv/"+key), []byte("v")),
			wantReply{httpCode: 200, code: "ok", ok: true})
		if w.Acks != 2 || w.Voters != 3 {
			t.Errorf("PUT %s: have %d/%d acks, want 2/3 (node 3 is shut out)", key, w.Acks, w.Voters)
		}
	}
	other12 := 3 - leader // the other of nodes 1 and 2
	checkReply(t, "GET at the other valid node", do(t, http.MethodGet, c.url(other12, "/v1/kv/c"), nil),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "v"})

	s := c.status(leader)
	for _, p := range s.Progress {
		if p.ID == 3 && p.Match != 0 {
			t.Errorf("the leader's progress for node 3 has match %d, want 0: node 3 never acknowledged anything", p.Match)
		}
	}
	s3 := c.status(3)
	if s3.Leader != 0 || s3.Commit != 0 || s3.Role == "leader" {
		t.Errorf("node 3 (foreign CA): leader %d commit %d role %s, want no leader and nothing committed",
			s3.Leader, s3.Commit, s3.Role)
	}
	checkReply(t, "stale GET at node 3", do(t, http.MethodGet, c.url(3, "/v1/kv/a?consistency=stale"), nil),
		wantReply{httpCode: 404, code: "ok", ok: true})
}
