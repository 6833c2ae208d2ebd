package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/transport"
)

// adminRoutes registers the chaos endpoints. Like every request that can
// change something other than the key-value store, they need the admin
// token (requireAdmin checks it for the whole API, so a route added here
// is covered without more ado).
func (n *Node) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/admin/faults", n.admin(n.handleFaults))
	mux.HandleFunc("POST /v1/admin/heal", n.admin(func(w http.ResponseWriter, _ *http.Request) {
		n.tr.SetFaults(transport.Faults{})
		n.log.Warn("admin: faults healed")
		writeJSON(w, http.StatusOK, faultsJSON(n.tr.Faults()))
	}))
	mux.HandleFunc("POST /v1/admin/transfer", n.admin(n.handleTransfer))
	mux.HandleFunc("POST /v1/admin/crash", n.admin(func(w http.ResponseWriter, _ *http.Request) {
		if n.cfg.Crash == nil {
			writeError(w, http.StatusNotImplemented, "server: this node cannot crash itself")
			return
		}
		n.log.Warn("admin: crashing now, as asked")
		writeJSON(w, http.StatusAccepted, map[string]string{"crashing": "now"})
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		go n.cfg.Crash()
	}))
}

// admin bounds an admin request's body. The token was checked by
// requireAdmin; it is checked again here, so that an admin handler is
// never reached without it whatever wraps the routes.
func (n *Node) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !n.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, api.Reply{Code: "unauthorized", Error: "server: admin endpoints need Authorization: Bearer <token>"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
		h(w, r)
	}
}

// maxAdminBody bounds the body of an admin request.
const maxAdminBody = 64 << 10

func faultsJSON(f transport.Faults) api.Faults {
	return api.Faults{Blocked: f.Blocked, DelayMS: int(f.Delay / time.Millisecond),
		JitterMS: int(f.Jitter / time.Millisecond), DropRate: f.DropRate}
}

func (n *Node) handleFaults(w http.ResponseWriter, r *http.Request) {
	var body api.Faults
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "server: bad faults body: "+err.Error())
		return
	}
	if body.DropRate < 0 || body.DropRate > 1 || body.DelayMS < 0 || body.JitterMS < 0 || body.DelayMS > 60000 {
		writeError(w, http.StatusBadRequest, "server: drop_rate must be in [0, 1] and delays in [0, 60000] ms")
		return
	}
	for _, id := range body.Blocked {
		if _, ok := n.cfg.Peers[id]; !ok || id == n.cfg.ID {
			writeError(w, http.StatusBadRequest, "server: cannot block unknown peer "+itoa(id))
			return
		}
	}
	f := transport.Faults{Blocked: body.Blocked, DropRate: body.DropRate,
		Delay: time.Duration(body.DelayMS) * time.Millisecond, Jitter: time.Duration(body.JitterMS) * time.Millisecond}
	n.tr.SetFaults(f)
	n.log.Warn("admin: faults set", "blocked", body.Blocked, "delay_ms", body.DelayMS, "drop_rate", body.DropRate)
	writeJSON(w, http.StatusOK, faultsJSON(n.tr.Faults()))
}

func (n *Node) handleTransfer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		To uint64 `json:"to"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.To == 0 {
		writeError(w, http.StatusBadRequest, `server: body must be {"to": <node id>}`)
		return
	}
	if _, ok := n.cfg.Peers[body.To]; !ok {
		writeError(w, http.StatusBadRequest, "server: unknown node "+itoa(body.To))
		return
	}
	select {
	case n.calls <- &call{in: engine.Transfer{To: body.To}}:
		writeJSON(w, http.StatusAccepted, map[string]uint64{"transfer_to": body.To})
	case <-r.Context().Done():
	}
}
