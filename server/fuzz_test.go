package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/host"
)

// The JSON bodies of the admin API, fuzzed through the whole route (CORS,
// the token, the limits, the handler) of a running one-node cluster: no
// body makes a node panic or answer anything but JSON with a status a
// client knows; a refusal says why; the node keeps serving.

const fuzzToken = "fuzz-token"

// fuzzNode starts node 1 for a fuzz target: a one-node cluster (which
// elects itself), or with peer, one of two voters whose node 2 never
// answers (so that faults and transfers naming it are valid).
func fuzzNode(f *testing.F, peer bool) *Node {
	f.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	peers := map[uint64]string{1: ln.Addr().String()}
	if peer {
		peers[2] = "127.0.0.1:1"
	}
	cfg := Config{ID: 1, Peers: peers, Listener: ln, API: "127.0.0.1:0",
		DataDir: f.TempDir(), NewCore: host.Native, CoreName: "native", AdminToken: fuzzToken, NoSync: true,
		Logger: slog.New(slog.DiscardHandler)}
	n, err := Start(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Stop() })
	return n
}

// fuzzPost posts body to path through the node's routes and checks the
// answer.
func fuzzPost(t *testing.T, h http.Handler, path string, body []byte, ok ...int) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fuzzToken)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	known := map[int]bool{http.StatusBadRequest: true, http.StatusRequestEntityTooLarge: true, http.StatusConflict: true,
		http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true, http.StatusTooManyRequests: true}
	for _, c := range ok {
		known[c] = true
	}
	if !known[rec.Code] {
		t.Fatalf("POST %s %q: status %d %s", path, body, rec.Code, rec.Body)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("POST %s %q: %d answer is not JSON: %q", path, body, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var rep api.Reply
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rep.Error == "" {
			t.Fatalf("POST %s %q: refusal %d without a reason: %s", path, body, rec.Code, rec.Body)
		}
	}
}

// alive checks that the node still answers its status.
func alive(t *testing.T, h http.Handler) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/status", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status after the request: %d %s", rec.Code, rec.Body)
	}
}

func FuzzMembersBody(f *testing.F) {
	for _, s := range []string{
		`{"id":4,"raft":"127.0.0.1:7004","api":"http://127.0.0.1:8004","learner":true}`,
		`{"id":5,"raft":"h:1","learner":false}`,
		`{"id":0,"raft":"h:1"}`, `{"id":1,"raft":"h:1"}`, `{"id":6}`, `{"id":7,"raft":"a b:1"}`,
		`{"id":8,"raft":"h:1","api":"ftp://x"}`, `{"id":9,"raft":"h:1","color":"red"}`,
		`{"id":18446744073709551615,"raft":"[::1]:1"}`, `{"id":-1}`, `{"id":1.5}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	h := fuzzNode(f, false).routes()
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPost(t, h, "/v1/members", body, http.StatusOK)
		alive(t, h)
	})
}

func FuzzFaultsBody(f *testing.F) {
	for _, s := range []string{
		`{"blocked":[2],"delay_ms":10,"jitter_ms":5,"drop_rate":0.5}`, `{"blocked":[1]}`, `{"blocked":[3]}`,
		`{"drop_rate":2}`, `{"delay_ms":-1}`, `{"delay_ms":60001}`, `{"unknown":1}`, `{}`, `[]`, `null`, `{`, ``,
		`{"drop_rate":1e309}`, `{"blocked":[18446744073709551616]}`,
	} {
		f.Add([]byte(s))
	}
	h := fuzzNode(f, true).routes()
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPost(t, h, "/v1/admin/faults", body, http.StatusOK)
		alive(t, h)
	})
}

func FuzzTransferBody(f *testing.F) {
	for _, s := range []string{`{"to":2}`, `{"to":1}`, `{"to":0}`, `{"to":3}`, `{"to":"2"}`, `{}`, `null`, `{`, ``} {
		f.Add([]byte(s))
	}
	h := fuzzNode(f, true).routes()
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPost(t, h, "/v1/admin/transfer", body, http.StatusAccepted)
		alive(t, h)
	})
}
