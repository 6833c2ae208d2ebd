package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/kv"
)

// requestTimeout bounds how long the API waits for the engine's final
// answer (the engine itself answers within its request timeout).
const requestTimeout = 10 * time.Second

func (n *Node) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/kv/{key...}", n.handlePut)
	mux.HandleFunc("GET /v1/kv/{key...}", n.handleGet)
	mux.HandleFunc("DELETE /v1/kv/{key...}", n.handleDelete)
	mux.HandleFunc("GET /v1/status", n.handleStatus)
	mux.HandleFunc("GET /v1/events", stream(n.handleEvents))
	mux.HandleFunc("GET /v1/members", n.handleMembers)
	mux.HandleFunc("POST /v1/members", checkMember(n.handleAddMember))
	mux.HandleFunc("POST /v1/members/{id}/promote", n.handlePromoteMember)
	mux.HandleFunc("DELETE /v1/members/{id}", n.handleRemoveMember)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}))
	n.adminRoutes(mux)
	// Outside in: browser origins, then the admin token for every
	// request that can change something other than the key-value store.
	return n.cors(n.requireAdmin(mux))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, api.Reply{Code: "invalid", Error: msg})
}

// session reads the client session headers, or makes a one-off session.
func session(r *http.Request) (client, seq uint64, err error) {
	c, s := r.Header.Get(api.HeaderClient), r.Header.Get(api.HeaderSeq)
	if c == "" && s == "" {
		return rand.Uint64()>>1 | 1, 1, nil
	}
	client, err = strconv.ParseUint(c, 10, 64)
	if err != nil || client == 0 {
		return 0, 0, errors.New("server: " + api.HeaderClient + " must be a non-zero decimal integer")
	}
	seq, err = strconv.ParseUint(s, 10, 64)
	if err != nil || seq == 0 {
		return 0, 0, errors.New("server: " + api.HeaderSeq + " must be a non-zero decimal integer")
	}
	return client, seq, nil
}

func (n *Node) handlePut(w http.ResponseWriter, r *http.Request) {
	value, ok := readBody(w, r, "value", kv.MaxValueBytes)
	if !ok {
		return
	}
	cmd := kv.Command{Op: kv.OpSet, Key: r.PathValue("key"), Value: value}
	q := r.URL.Query()
	absent, err := parseAbsent(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.Has("expect") || absent {
		cmd.Op = kv.OpCAS
		cmd.Expect = []byte(q.Get("expect"))
		cmd.ExpectMissing = absent
	}
	n.write(w, r, cmd)
}

func (n *Node) handleDelete(w http.ResponseWriter, r *http.Request) {
	n.write(w, r, kv.Command{Op: kv.OpDel, Key: r.PathValue("key")})
}

func (n *Node) write(w http.ResponseWriter, r *http.Request, cmd kv.Command) {
	if code, msg := checkCommand(cmd); code != 0 {
		writeError(w, code, msg)
		return
	}
	var err error
	if cmd.ClientID, cmd.Seq, err = session(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n.answer(w, r, engine.Propose{Command: cmd}, false)
}

func (n *Node) handleGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	stale := false
	switch c := q.Get("consistency"); c {
	case "", "linearizable":
	case "stale":
		stale = true
	default:
		writeError(w, http.StatusBadRequest, "server: consistency must be linearizable or stale, not "+strconv.Quote(c))
		return
	}
	key := r.PathValue("key")
	if code, msg := checkCommand(kv.Command{Op: kv.OpGet, Key: key}); code != 0 {
		writeError(w, code, msg)
		return
	}
	n.answer(w, r, engine.Read{Key: key, Stale: stale}, q.Has("raw"))
}

// answer submits a request and writes the engine's reply.
func (n *Node) answer(w http.ResponseWriter, r *http.Request, in engine.Input, raw bool) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	rep, waited, err := n.submit(ctx, in)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, api.Reply{Code: "unavailable", Error: err.Error()})
		return
	}
	_, isRead := in.(engine.Read)
	status := httpStatus(rep, isRead)
	if raw && rep.Code == engine.ReplyOK && rep.Found {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(rep.Value)
		return
	}
	writeJSON(w, status, api.Reply{
		Code: rep.Code.String(), OK: rep.Code == engine.ReplyOK && rep.OK, Index: rep.Index, Term: rep.Term,
		Acks: rep.Acks, Voters: rep.Voters, Alive: rep.Alive, Leader: rep.Leader,
		Found: rep.Found, Value: string(rep.Value), Error: rep.Error, Waited: waited,
	})
}

func httpStatus(r engine.Reply, read bool) int {
	switch r.Code {
	case engine.ReplyOK:
		switch {
		case read && !r.Found:
			return http.StatusNotFound
		case !r.OK:
			return http.StatusConflict // failed CAS, stale session
		}
		return http.StatusOK
	case engine.ReplySessionConflict:
		return http.StatusConflict // sequence reused with a different command
	case engine.ReplyInvalid:
		return http.StatusBadRequest
	case engine.ReplyOverloaded:
		return http.StatusTooManyRequests
	case engine.ReplyTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusServiceUnavailable // no quorum, not leader
}

func toStatusJSON(s engine.Status) api.Status {
	out := api.Status{
		ID: s.ID, Role: s.Role.String(), Term: s.Term, Vote: s.Vote, Leader: s.Leader, Commit: s.Commit,
		Applied: s.Applied, LastIndex: s.LastIndex, LastTerm: s.LastTerm, Voters: s.Voters, Alive: s.Alive,
		Quorum: s.Quorum(), Keys: s.Keys, Pending: s.Pending, PreVote: s.PreVote, CheckQuorum: s.CheckQuorum,
		Transferee: s.Transferee, Snapshot: s.Snapshot, FirstIndex: s.FirstIndex,
	}
	if len(s.Members) > 0 {
		out.Members = membersJSON(s).Members
	}
	for _, p := range s.Progress {
		out.Progress = append(out.Progress, api.Progress{ID: p.ID, Learner: p.Learner, Match: p.Match, Next: p.Next,
			State: p.State.String(), Active: p.Active, Inflight: p.Inflight})
	}
	return out
}

func (n *Node) handleStatus(w http.ResponseWriter, _ *http.Request) {
	s := toStatusJSON(n.Status())
	s.ID = n.cfg.ID
	s.Core = n.cfg.CoreName
	s.API = n.APIAddr()
	s.Peer = n.cfg.Peers[n.cfg.ID]
	s.PID = os.Getpid()
	writeJSON(w, http.StatusOK, s)
}
