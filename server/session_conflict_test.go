package server_test

import (
	"net/http"
	"testing"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/host/hosttest"
	"github.com/wraft/wraft/server"
)

// A session's sequence number reused with a different command is refused
// with 409 and code session-conflict, through both cores; the first
// command's effect stays, and its own retry still gets its result.
func TestSessionSeqReusedHTTP(t *testing.T) {
	for _, core := range []string{"native", "wasm"} {
		t.Run(core, func(t *testing.T) {
			factory := server.CoreFactory(host.Native)
			if core == "wasm" {
				factory = server.CoreFactory(hosttest.Factory(t))
			}
			c := startCluster(t, factory, core)
			leader := c.waitLeader()
			session := []string{api.HeaderClient, "77", api.HeaderSeq, "1"}
			url := c.url(leader, "/v1/kv/k")
			checkReply(t, "SET", do(t, http.MethodPut, url, []byte("v1"), session...),
				wantReply{httpCode: 200, code: "ok", ok: true})
			checkReply(t, "other SET, same sequence", do(t, http.MethodPut, url, []byte("v2"), session...),
				wantReply{httpCode: 409, code: "session-conflict",
					errHas: "session: sequence reused with a different command (client 77, sequence 1)"})
			checkReply(t, "DEL, same sequence", do(t, http.MethodDelete, url, nil, session...),
				wantReply{httpCode: 409, code: "session-conflict", errHas: "sequence reused"})
			checkReply(t, "retry of the first", do(t, http.MethodPut, url, []byte("v1"), session...),
				wantReply{httpCode: 200, code: "ok", ok: true})
			checkReply(t, "GET", do(t, http.MethodGet, url, nil),
				wantReply{httpCode: 200, code: "ok", ok: true, found: true, value: "v1"})
		})
	}
}
