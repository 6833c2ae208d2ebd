package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// headerForwarded marks a membership request a follower forwarded to the
// node it believes leads; its value is that node's id. A node that is not
// that id, or no longer leads, answers instead of forwarding again, so a
// request is forwarded at most once.
const headerForwarded = "X-Wraft-Forwarded-To"

// maxMemberBody bounds the body of POST /v1/members.
const maxMemberBody = 64 << 10

// FormatAddr returns the raft.Member Addr the daemon stores for a member
// with peer address raftAddr and API URL apiURL:
// "raft=127.0.0.1:7004 api=http://127.0.0.1:8004" (either part is left out
// when empty).
func FormatAddr(raftAddr, apiURL string) string {
	var parts []string
	if raftAddr != "" {
		parts = append(parts, "raft="+raftAddr)
	}
	if apiURL != "" {
		parts = append(parts, "api="+apiURL)
	}
	return strings.Join(parts, " ")
}

// ParseAddr splits what FormatAddr wrote. A bare word without "=" is taken
// as the peer address; unknown parts are ignored, so that later versions
// can add some.
func ParseAddr(addr string) (raftAddr, apiURL string) {
	for _, f := range strings.Fields(addr) {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			raftAddr = f
		case k == "raft":
			raftAddr = v
		case k == "api":
			apiURL = v
		}
	}
	return raftAddr, apiURL
}

// normalizeAPI turns "host:port" or "http://host:port/" into
// "http://host:port", or reports why it cannot.
func normalizeAPI(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("server: %q is not an API URL (http://host:port)", s)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// membersJSON describes the configuration in s, with the leader's progress
// when s is the leader's.
func membersJSON(s engine.Status) api.Members {
	out := api.Members{Leader: s.Leader, From: s.ID, Members: []api.Member{}}
	for i, m := range s.Members {
		ra, au := ParseAddr(m.Addr)
		am := api.Member{ID: m.ID, Role: "voter", Raft: ra, API: au}
		if m.Learner {
			am.Role = "learner"
		}
		if i < len(s.Progress) && s.Progress[i].ID == m.ID {
			p := s.Progress[i]
			am.Match, am.State, am.Active = p.Match, p.State.String(), p.Active
		}
		out.Members = append(out.Members, am)
	}
	return out
}

// apiURLOf returns the API URL of member id as s knows it, or "".
func (n *Node) apiURLOf(s engine.Status, id uint64) string {
	for _, m := range s.Members {
		if m.ID == id {
			if _, au := ParseAddr(m.Addr); au != "" {
				return au
			}
		}
	}
	return n.cfg.PeerAPIs[id]
}

func (n *Node) handleMembers(w http.ResponseWriter, r *http.Request) {
	s := n.Status()
	if s.Role != raft.RoleLeader && s.Leader != 0 && r.Header.Get(headerForwarded) == "" && !r.URL.Query().Has("local") {
		if u := n.apiURLOf(s, s.Leader); u != "" {
			if n.proxy(w, r, s.Leader, u, nil) {
				return
			}
		}
	}
	writeJSON(w, http.StatusOK, membersJSON(s))
}

func (n *Node) handleAddMember(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMemberBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "server: read body: "+err.Error())
		return
	}
	var req api.AddMember
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "server: body is not a member ({\"id\":4,\"raft\":\"host:port\",\"api\":\"http://host:port\",\"learner\":true}): "+err.Error())
		return
	}
	if req.ID == 0 {
		writeError(w, http.StatusBadRequest, "server: member id must be set and non-zero")
		return
	}
	if _, _, err := net.SplitHostPort(req.Raft); err != nil || strings.ContainsAny(req.Raft, " =") {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("server: raft address %q is not host:port", req.Raft))
		return
	}
	apiURL := ""
	if req.API != "" {
		if apiURL, err = normalizeAPI(req.API); err != nil || strings.ContainsAny(apiURL, " ") {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("server: api %q is not an API URL (http://host:port)", req.API))
			return
		}
	}
	typ := raft.ConfAddLearner
	if req.Learner != nil && !*req.Learner {
		typ = raft.ConfAddVoter
	}
	if isNewAPI(n.Status(), req.ID, req.Raft, apiURL) {
		// A member announcing its API URL (see announce.go), or an
		// operator correcting it: the same member at the same peer
		// address, with a new API URL. Its role stays as it is.
		typ = raft.ConfUpdateAddr
	}
	n.changeMembers(w, r, body, raft.ConfChange{Type: typ, NodeID: req.ID, Addr: FormatAddr(req.Raft, apiURL)})
}

// isNewAPI reports whether s's configuration holds member id at peer
// address raftAddr with an API URL other than apiURL (which is not "").
func isNewAPI(s engine.Status, id uint64, raftAddr, apiURL string) bool {
	if apiURL == "" {
		return false
	}
	for _, m := range s.Members {
		if m.ID == id {
			ra, au := ParseAddr(m.Addr)
			return ra == raftAddr && au != apiURL
		}
	}
	return false
}

func (n *Node) handlePromoteMember(w http.ResponseWriter, r *http.Request) {
	if id, ok := memberID(w, r); ok {
		n.changeMembers(w, r, nil, raft.ConfChange{Type: raft.ConfPromote, NodeID: id})
	}
}

func (n *Node) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	if id, ok := memberID(w, r); ok {
		n.changeMembers(w, r, nil, raft.ConfChange{Type: raft.ConfRemove, NodeID: id})
	}
}

// memberID parses the {id} of a member path, answering 400 if it is bad.
func memberID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	s := r.PathValue("id")
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("server: member id %q is not a non-zero decimal integer", s))
		return 0, false
	}
	return id, true
}

// changeMembers asks the core for a membership change and answers with
// the configuration after it. A follower forwards the request to the
// leader (once); when it cannot, it answers 503 with the leader it knows
// and, if it knows it, the leader's API URL (leader_api).
func (n *Node) changeMembers(w http.ResponseWriter, r *http.Request, body []byte, cc raft.ConfChange) {
	forwarded := r.Header.Get(headerForwarded)
	if forwarded != "" && forwarded != itoa(n.cfg.ID) {
		writeJSON(w, http.StatusServiceUnavailable, api.Reply{Code: "not-leader",
			Error: "server: request forwarded to node " + forwarded + " reached node " + itoa(n.cfg.ID) + " (wrong API URL?)"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	rep, _, err := n.submit(ctx, engine.ChangeMembers{Change: cc})
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, api.Reply{Code: "unavailable", Error: err.Error()})
		return
	}
	if rep.Code == engine.ReplyNotLeader && forwarded == "" && rep.Leader != 0 && rep.Leader != n.cfg.ID {
		if u := n.apiURLOf(n.Status(), rep.Leader); u != "" && n.proxy(w, r, rep.Leader, u, body) {
			return
		}
	}
	if rep.Code == engine.ReplyOK {
		out := membersJSON(n.Status())
		out.Index = rep.Index
		n.log.Info("membership changed", "change", cc.Type.String(), "member", cc.NodeID, "index", rep.Index)
		writeJSON(w, http.StatusOK, out)
		return
	}
	s := n.Status()
	out := api.Reply{Code: rep.Code.String(), Error: rep.Error, Leader: s.Leader, Voters: len(s.Voters), Alive: s.Alive}
	if rep.Code == engine.ReplyNotLeader && s.Leader != 0 && s.Leader != n.cfg.ID {
		out.LeaderAPI = n.apiURLOf(s, s.Leader)
	}
	writeJSON(w, memberStatus(rep), out)
}

// memberStatus maps a membership change's reply to an HTTP status.
func memberStatus(r engine.Reply) int {
	switch r.Code {
	case engine.ReplyConflict:
		return http.StatusConflict
	case engine.ReplyInvalid:
		return http.StatusBadRequest
	case engine.ReplyOverloaded:
		return http.StatusTooManyRequests
	case engine.ReplyTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusServiceUnavailable // not leader, no quorum
}

// proxy forwards r (with body, for requests whose body was read) to the
// leader's API at base, and copies the answer back. It reports whether it
// answered; if the leader could not be reached, the caller answers.
func (n *Node) proxy(w http.ResponseWriter, r *http.Request, leader uint64, base string, body []byte) bool {
	target := base + r.URL.Path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout+2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
	if err != nil {
		n.log.Warn("cannot forward to the leader", "leader", leader, "url", target, "err", err)
		return false
	}
	req.Header.Set(headerForwarded, itoa(leader))
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := n.fwd.Do(req)
	if err != nil {
		n.log.Warn("cannot forward to the leader", "leader", leader, "url", target, "err", err)
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil && !errors.Is(err, io.EOF) {
		n.log.Warn("forwarding to the leader failed", "leader", leader, "url", target, "err", err)
		return false
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("X-Wraft-Answered-By", itoa(leader))
	w.WriteHeader(resp.StatusCode)
	w.Write(b)
	return true
}
