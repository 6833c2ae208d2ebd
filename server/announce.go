package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// Every member's API URL travels with the configuration (raft.Member's
// Addr, see FormatAddr), so that a follower can forward membership
// requests to the leader, and name it, without --peer-apis. No node is
// told the others' API URLs: each announces its own. The bootstrap
// configuration from --peers (the same on every node) carries only what
// --peer-apis gives, so a node whose entry lacks its API URL, or names
// another, asks for an update-addr change (raft.ConfUpdateAddr) that
// keeps its peer address and role:
//
//   - the leader proposes it for itself;
//   - a follower or learner posts its member record to the leader's API
//     (POST /v1/members, which updates the API URL of a member already at
//     that peer address), once it knows that URL, which it does as soon as
//     the leader's own announcement has committed.
//
// Changes go one at a time, so an announcement can meet 409 (another
// change in progress) and is simply tried again.

// Announcement pacing: how often a node checks its entry while it differs
// (or cannot be fixed yet), once it matches, and after a refusal (such as
// an older raft.wasm that knows no update-addr change: each try costs it
// a refused batch of inputs).
const (
	announceRetry   = 500 * time.Millisecond
	announceIdle    = 5 * time.Second
	announceRefused = time.Minute
)

// announce keeps this node's API URL in the configuration up to date,
// until ctx ends.
func (n *Node) announce(ctx context.Context) {
	self := n.advertisedAPI()
	if self == "" {
		n.log.Info("this node's API is not reachable from its peers (it listens on loopback while they are elsewhere, "+
			"or on a wildcard address with no host in the peer address), so it does not announce it: "+
			"followers cannot forward membership requests to it",
			"api", n.apiURL, "peer", n.cfg.Peers[n.cfg.ID])
		return
	}
	for {
		wait := n.announceOnce(ctx, self)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// announceOnce checks this node's entry in the configuration and, if its
// API URL is not self, asks once for the change. It returns how long to
// wait before the next check.
func (n *Node) announceOnce(ctx context.Context, self string) time.Duration {
	s := n.Status()
	i := slices.IndexFunc(s.Members, func(m raft.Member) bool { return m.ID == n.cfg.ID })
	if i < 0 {
		return announceRetry // not (or not yet, or no longer) a member: nothing to announce
	}
	ra, au := ParseAddr(s.Members[i].Addr)
	if au == self {
		return announceIdle
	}
	if ra == "" {
		ra = n.cfg.Peers[n.cfg.ID]
	}
	switch {
	case s.Role == raft.RoleLeader:
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		rep, _, err := n.submit(ctx, engine.ChangeMembers{Change: raft.ConfChange{
			Type: raft.ConfUpdateAddr, NodeID: n.cfg.ID, Addr: FormatAddr(ra, self)}})
		switch {
		case err != nil:
			n.log.Debug("announce the API URL: not now", "err", err)
		case rep.Code == engine.ReplyOK:
			n.log.Info("announced this node's API URL to the cluster", "api", self, "index", rep.Index)
		case rep.Code == engine.ReplyInvalid:
			n.log.Warn("the core refused to record this node's API URL; trying again later", "err", rep.Error, "in", announceRefused)
			return announceRefused
		default:
			n.log.Debug("announce the API URL: not now", "code", rep.Code.String(), "err", rep.Error)
		}
	case s.Leader != 0:
		base := n.apiURLOf(s, s.Leader)
		if base == "" {
			return announceRetry // until the leader's own announcement commits
		}
		body, _ := json.Marshal(api.AddMember{ID: n.cfg.ID, Raft: ra, API: self})
		code, ans, err := n.post(ctx, base+"/v1/members", body)
		switch {
		case err != nil:
			n.log.Debug("announce the API URL: leader unreachable", "leader", s.Leader, "err", err)
		case code == http.StatusOK:
			n.log.Info("announced this node's API URL to the cluster", "api", self, "leader", s.Leader)
		case code == http.StatusBadRequest || code == http.StatusUnauthorized || code == http.StatusForbidden:
			n.log.Warn("the leader refused to record this node's API URL; trying again later",
				"leader", s.Leader, "status", code, "reason", replyError(ans), "in", announceRefused)
			return announceRefused
		default:
			n.log.Debug("announce the API URL: not now", "status", code, "reason", replyError(ans))
		}
	}
	return announceRetry
}

// advertisedAPI returns the API URL other nodes reach this node at: the
// configured one (Config.APIURL), or the API listener's address, with an
// unspecified host (the API listens on 0.0.0.0 or ::) replaced by the host
// of this node's peer address. It returns "" when no usable host is known,
// or when the API listens on loopback but the peer address is not a
// loopback one: the peers are on other machines and cannot reach it.
func (n *Node) advertisedAPI() string {
	if n.cfg.APIURL != "" {
		return n.apiURL
	}
	u, err := url.Parse(n.apiURL)
	if err != nil {
		return ""
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return ""
	}
	peerHost, _, _ := net.SplitHostPort(n.cfg.Peers[n.cfg.ID])
	peerIP := net.ParseIP(peerHost)
	peerLoopback := peerHost == "localhost" || peerIP != nil && peerIP.IsLoopback()
	ip := net.ParseIP(host)
	switch {
	case host == "localhost" || ip != nil && ip.IsLoopback():
		if !peerLoopback {
			return ""
		}
		return n.apiURL
	case ip == nil || !ip.IsUnspecified():
		return n.apiURL
	case peerHost == "" || peerIP != nil && peerIP.IsUnspecified():
		return ""
	}
	return u.Scheme + "://" + net.JoinHostPort(peerHost, port)
}
