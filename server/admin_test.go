package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/wraft/wraft/api"
)

// TestAdminNeedsToken: a request without the admin token, or with another,
// is refused.
func TestAdminNeedsToken(t *testing.T) {
	on := newClusterWith(t, clusterOptions{size: 1, token: testToken})
	for _, tc := range []struct{ name, header string }{
		{"no header", ""},
		{"wrong token", "Bearer nope"},
		{"token as a prefix", "Bearer " + testToken + "x"},
		{"not bearer", "Basic " + testToken},
	} {
		r := do(t, http.MethodPost, on.url(1, "/v1/admin/heal"), nil, "Authorization", tc.header)
		if rep := r.reply(t); r.code != http.StatusUnauthorized || rep.Error == "" {
			t.Errorf("%s: have %d %s, want 401 with an error", tc.name, r.code, r.body)
		}
	}
	if r := on.admin(1, testToken, "crash", ""); r.code != http.StatusNotImplemented {
		t.Errorf("crash with no Crash func: have %d %s, want 501", r.code, r.body)
	}
}

// TestAdminFaults sets, validates and heals a node's faults.
func TestAdminFaults(t *testing.T) {
	c := newCluster(t)
	bad := []struct{ name, body string }{
		{"unknown peer", `{"blocked":[9]}`},
		{"self", `{"blocked":[1]}`},
		{"peer 0", `{"blocked":[0]}`},
		{"drop rate above 1", `{"drop_rate":1.5}`},
		{"drop rate below 0", `{"drop_rate":-0.1}`},
		{"negative delay", `{"delay_ms":-1}`},
		{"delay over a minute", `{"delay_ms":60001}`},
		{"negative jitter", `{"jitter_ms":-1}`},
		{"unknown field", `{"partition":[2]}`},
		{"not JSON", `blocked=2`},
	}
	for _, tc := range bad {
		r := c.admin(1, testToken, "faults", tc.body)
		if rep := r.reply(t); r.code != http.StatusBadRequest || rep.Error == "" {
			t.Errorf("faults %s (%s): have %d %s, want 400 with an error", tc.name, tc.body, r.code, r.body)
		}
	}

	want := api.Faults{Blocked: []uint64{2, 3}, DelayMS: 5, JitterMS: 2, DropRate: 0.25}
	body, _ := json.Marshal(want)
	r := c.admin(1, testToken, "faults", string(body))
	if have := decodeFaults(t, r); r.code != http.StatusOK || !reflect.DeepEqual(have, want) {
		t.Errorf("faults: have %d %+v, want 200 %+v", r.code, have, want)
	}
	r = c.admin(1, testToken, "heal", "")
	if have := decodeFaults(t, r); r.code != http.StatusOK || len(have.Blocked) != 0 || have.DelayMS != 0 ||
		have.JitterMS != 0 || have.DropRate != 0 {
		t.Errorf("heal: have %d %+v, want 200 and no faults", r.code, have)
	}
	// Healed, the cluster works as before.
	leader := c.waitLeader()
	checkReply(t, "PUT after heal", do(t, http.MethodPut, c.url(leader, "/v1/kv/k"), []byte("v")),
		wantReply{httpCode: 200, code: "ok", ok: true})
}

func decodeFaults(t *testing.T, r response) api.Faults {
	t.Helper()
	var f api.Faults
	if err := json.Unmarshal(r.body, &f); err != nil {
		t.Fatalf("answer %d is not faults: %v\n%s", r.code, err, r.body)
	}
	return f
}

// TestAdminTransfer moves leadership to a chosen follower.
func TestAdminTransfer(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	for _, body := range []string{`{}`, `{"to":0}`, `{"to":9}`, `nine`} {
		if r := c.admin(leader, testToken, "transfer", body); r.code != http.StatusBadRequest {
			t.Errorf("transfer %s: have %d %s, want 400", body, r.code, r.body)
		}
	}
	target := c.follower(leader)
	before := c.status(leader).Term
	r := c.admin(leader, testToken, "transfer", fmt.Sprintf(`{"to":%d}`, target))
	if r.code != http.StatusAccepted {
		t.Fatalf("transfer to %d: have %d %s, want 202", target, r.code, r.body)
	}
	var s api.Status
	for range 1000 {
		if s = c.status(target); s.Role == "leader" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.Role != "leader" || s.Term <= before {
		t.Fatalf("after transfer to node %d its status is %s in term %d (was term %d), want leader in a later term",
			target, s.Role, s.Term, before)
	}
	if got := c.waitLeader(); got != target {
		t.Errorf("cluster agrees on leader %d, want %d", got, target)
	}
	w := checkReply(t, "PUT at the new leader", do(t, http.MethodPut, c.url(target, "/v1/kv/k"), []byte("v")),
		wantReply{httpCode: 200, code: "ok", ok: true})
	if w.Leader != target || w.Acks < 2 {
		t.Errorf("PUT at the new leader: leader %d acks %d, want leader %d and at least 2 acks", w.Leader, w.Acks, target)
	}
}
