package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/hosttest"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/server"
	"github.com/wraft/wraft/wire"
)

// newCoreCluster starts three nodes running core "wasm" (raft.wasm built
// from this checkout) or "native", with admin token testToken and API
// URLs known to each other.
func newCoreCluster(t *testing.T, core string) *cluster {
	t.Helper()
	factory, name := server.CoreFactory(host.Native), "native"
	if core == "wasm" {
		factory, name = server.CoreFactory(hosttest.Factory(t)), "wasm"
	}
	c := &cluster{t: t, peers: map[uint64]string{}, nodes: map[uint64]*server.Node{}, cfgs: map[uint64]server.Config{}}
	t.Cleanup(c.stopAll)
	lns := map[uint64]net.Listener{}
	apis := map[uint64]string{}
	for id := uint64(1); id <= 3; id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		lns[id], c.peers[id] = ln, ln.Addr().String()
		apis[id] = "http://" + freeAddr(t)
	}
	for id := uint64(1); id <= 3; id++ {
		cfg := server.Config{ID: id, Peers: c.peers, PeerAPIs: apis, Listener: lns[id], API: strings.TrimPrefix(apis[id], "http://"),
			DataDir: t.TempDir(), NewCore: factory, CoreName: name, AdminToken: testToken, NoSync: true, Logger: testLogger()}
		cfg.Engine.Raft.ElectionTicks = 20
		cfg.Engine.Raft.HeartbeatTicks = 2
		cfg.Engine.Raft.Seed = id
		n, err := server.Start(cfg)
		if err != nil {
			t.Fatalf("start node %d: %v", id, err)
		}
		c.nodes[id], c.cfgs[id] = n, cfg
	}
	return c
}

// TestLimitsRefusedAtTheAPI sends, 1,000 times each, requests with a field
// over its limit to both cores: every one is refused by the API with 400
// or 413 and the limit in the message (the same text for both cores),
// and nothing reaches the core: no election, the data and the members
// as they were.
func TestLimitsRefusedAtTheAPI(t *testing.T) {
	const n = 1000
	longKey := strings.Repeat("k", kv.MaxKeyBytes+44)
	longValue := bytes.Repeat([]byte("v"), kv.MaxValueBytes+1)
	longExpect := strings.Repeat("e", kv.MaxValueBytes+1)
	longAddr := "127.0.0.1:" + strings.Repeat("1", wire.MaxAddrBytes)
	longAPI := "http://h" + strings.Repeat("x", wire.MaxAddrBytes) + ":1"
	type tc struct {
		name         string
		method, path string
		body         []byte
		token        bool
		code         int
		msg          string
	}
	cases := []tc{
		{"PUT long key", "PUT", "/v1/kv/" + longKey, []byte("x"), false, 400, "server: key too long (300 > 256 bytes)"},
		{"GET long key", "GET", "/v1/kv/" + longKey, nil, false, 400, "server: key too long (300 > 256 bytes)"},
		{"stale GET long key", "GET", "/v1/kv/" + longKey + "?consistency=stale", nil, false, 400, "server: key too long (300 > 256 bytes)"},
		{"DELETE long key", "DELETE", "/v1/kv/" + longKey, nil, false, 400, "server: key too long (300 > 256 bytes)"},
		{"PUT key not utf-8", "PUT", "/v1/kv/%ff%fe", []byte("x"), false, 400, "server: key is not valid utf-8"},
		{"PUT long value", "PUT", "/v1/kv/keep", longValue, false, 413, "server: value too long (65537 > 65536 bytes)"},
		{"PUT long expect", "PUT", "/v1/kv/keep?expect=" + longExpect, []byte("x"), false, 413,
			"server: cas expectation too long (65537 > 65536 bytes)"},
		{"PUT expect and absent", "PUT", "/v1/kv/keep?expect=safe&absent=1", []byte("x"), false, 400, "server: cas has both expect and expect-missing"},
		{"POST member long raft address", "POST", "/v1/members", fmt.Appendf(nil, `{"id":9,"raft":%q}`, longAddr), true, 400,
			fmt.Sprintf("server: member address too long (%d > 1024 bytes)", len("raft=")+len(longAddr))},
		{"POST member long API URL", "POST", "/v1/members", fmt.Appendf(nil, `{"id":9,"raft":"127.0.0.1:9","api":%q}`, longAPI), true, 400,
			fmt.Sprintf("server: member address too long (%d > 1024 bytes)", len("raft=127.0.0.1:9 api=")+len(longAPI))},
		{"POST member body too long", "POST", "/v1/members", append([]byte(`{"id":9,"raft":"127.0.0.1:9","api":"`), bytes.Repeat([]byte("x"), 70<<10)...), true, 413,
			fmt.Sprintf("server: body too long (%d > 65536 bytes)", len(`{"id":9,"raft":"127.0.0.1:9","api":"`)+70<<10)},
	}
	for _, core := range []string{"wasm", "native"} {
		t.Run(core, func(t *testing.T) {
			c := newCoreCluster(t, core)
			leader := c.waitLeader()
			checkReply(t, "PUT keep", do(t, http.MethodPut, c.url(leader, "/v1/kv/keep"), []byte("safe")),
				wantReply{httpCode: 200, code: "ok", ok: true})
			before := map[uint64]uint64{}
			for _, id := range c.ids() {
				before[id] = c.nodes[id].Status().Term
			}
			hc := &http.Client{}
			for _, k := range cases {
				var wg sync.WaitGroup
				var mu sync.Mutex
				bad := 0
				var first string
				for w := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w; i < n; i += 4 {
							id := uint64(i%3 + 1)
							req, _ := http.NewRequest(k.method, c.url(id, k.path), bytes.NewReader(k.body))
							if k.token {
								req.Header.Set("Authorization", "Bearer "+testToken)
								req.Header.Set("Content-Type", "application/json")
							}
							code, rep, err := send(hc, req)
							if err != nil || code != k.code || rep != k.msg {
								mu.Lock()
								if bad == 0 {
									first = fmt.Sprintf("node %d: have %d %q %v", id, code, rep, err)
								}
								bad++
								mu.Unlock()
							}
						}
					}()
				}
				wg.Wait()
				if bad > 0 {
					t.Errorf("%s: %d of %d answers wrong, want %d %q; first: %s", k.name, bad, n, k.code, k.msg, first)
				}
			}
			for _, id := range c.ids() {
				if s := c.nodes[id].Status(); s.Term != before[id] || s.Leader != leader {
					t.Errorf("node %d: term %d leader %d after the refused requests, want term %d leader %d",
						id, s.Term, s.Leader, before[id], leader)
				}
			}
			checkReply(t, "GET keep", do(t, http.MethodGet, c.url(leader, "/v1/kv/keep"), nil),
				wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "safe"})
			if ms := decodeMembers(t, do(t, http.MethodGet, c.url(leader, "/v1/members"), nil)); len(ms.Members) != 3 {
				t.Errorf("members after the refused requests: %+v, want the three", ms.Members)
			}
			checkReply(t, "PUT after", do(t, http.MethodPut, c.url(leader, "/v1/kv/after"), []byte("ok")),
				wantReply{httpCode: 200, code: "ok", ok: true})
		})
	}
}

// send does req and returns the status and the error of the JSON reply.
func send(hc *http.Client, req *http.Request) (int, string, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var rep struct {
		Error string `json:"error"`
	}
	if err := jsonDecode(resp.Body, &rep); err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, rep.Error, nil
}

// TestAbsentParsing: ?absent= takes 1, true (and the other spellings of
// strconv.ParseBool); 0 or false is a plain write; anything else is 400.
func TestAbsentParsing(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	u := func(key, q string) string { return c.url(leader, "/v1/kv/"+key+q) }
	checkReply(t, "PUT a", do(t, http.MethodPut, u("a", ""), []byte("1")), wantReply{httpCode: 200, code: "ok", ok: true})
	checkReply(t, "absent=0 on a present key", do(t, http.MethodPut, u("a", "?absent=0"), []byte("2")),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true})
	checkReply(t, "absent=false", do(t, http.MethodPut, u("a", "?absent=false"), []byte("3")),
		wantReply{httpCode: 200, code: "ok", ok: true, found: true})
	checkReply(t, "absent=1 on a present key", do(t, http.MethodPut, u("a", "?absent=1"), []byte("4")),
		wantReply{httpCode: 409, code: "ok", found: true, value: "3", errHas: "exists"})
	checkReply(t, "absent=true on a missing key", do(t, http.MethodPut, u("b", "?absent=true"), []byte("1")),
		wantReply{httpCode: 200, code: "ok", ok: true})
	for _, bad := range []string{"?absent=yes", "?absent=", "?absent=2"} {
		checkReply(t, "absent "+bad, do(t, http.MethodPut, u("c", bad), []byte("1")),
			wantReply{httpCode: 400, code: "invalid", errHas: "server: absent must be 1, true, 0 or false"})
	}
	checkReply(t, "GET c", do(t, http.MethodGet, u("c", ""), nil), wantReply{httpCode: 404, code: "ok", ok: true})
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
