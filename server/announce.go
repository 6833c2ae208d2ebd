package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/wire"
)

// Every member's API URL travels with the configuration (raft.Member's
// Addr, see FormatAddr), so that a follower can forward membership
// requests to the leader, and name it, without --peer-apis. No node is
// told the others' API URLs: each announces its own in the hello of every
// connection it dials to a peer (transport.Config.APIURL), over the
// cluster's own channel (mutual TLS when configured, with the sender's
// identity checked), so that no operator secret such as the admin token
// is involved. The bootstrap configuration from --peers (the same on
// every node) carries only what --peer-apis gives; the leader brings it
// up to date with update-addr changes (raft.ConfUpdateAddr), which keep a
// member's peer address and role:
//
//   - for itself, with its own advertised API URL;
//   - for every other member whose connection to it announced an API URL
//     (transport.Transport.PeerAPIs) other than the configuration's.
//
// Changes go one at a time: a check proposes at most one and waits for
// it, and the next check comes announceRetry later. An announced URL that
// is not an http or https URL, or would make the member's Addr longer
// than wire.MaxAddrBytes, is logged once and ignored. A member no longer
// in the configuration is never changed; a follower proposes nothing.

// Announcement pacing: how often the leader checks the configuration
// after a change (or a failure to make one), when nothing needs changing,
// and after the core refused a change (such as an older raft.wasm that
// knows no update-addr change: each try costs it a refused batch of
// inputs).
const (
	announceRetry   = 500 * time.Millisecond
	announceIdle    = time.Second
	announceRefused = time.Minute
)

// announce keeps the API URLs in the configuration up to date with what
// the members announce while this node leads, until ctx ends.
func (n *Node) announce(ctx context.Context) {
	self := n.advertisedAPI()
	if self == "" {
		n.log.Info("this node's API is not reachable from its peers (it listens on loopback while they are elsewhere, "+
			"or on a wildcard address with no host in the peer address), so it does not announce it: "+
			"followers cannot forward membership requests to it",
			"api", n.apiURL, "peer", n.cfg.Peers[n.cfg.ID])
	}
	ignored := map[uint64]string{} // the invalid URL last logged, by member
	for {
		wait := n.announceOnce(ctx, self, ignored)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// announceOnce, on the leader, proposes an update-addr change for the
// first member whose API URL in the configuration differs from the one
// it announced (self for this node; "" announces none), and waits for it.
// Ignored holds the invalid announced URLs already logged. It returns how
// long to wait before the next check.
func (n *Node) announceOnce(ctx context.Context, self string, ignored map[uint64]string) time.Duration {
	s := n.Status()
	if s.Role != raft.RoleLeader {
		return announceRetry
	}
	announced := n.tr.PeerAPIs()
	announced[n.cfg.ID] = self
	for _, m := range s.Members {
		ra, au := ParseAddr(m.Addr)
		want := announced[m.ID]
		if want == "" || want == au {
			continue
		}
		if ra == "" {
			ra = n.cfg.Peers[m.ID]
		}
		addr := FormatAddr(ra, want)
		if err := checkAnnounced(ra, want, addr); err != nil {
			if ignored[m.ID] != want {
				ignored[m.ID] = want
				n.log.Warn("ignored the API URL a member announced", "member", m.ID, "api", want, "err", err)
			}
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		rep, _, err := n.submit(ctx, engine.ChangeMembers{Change: raft.ConfChange{
			Type: raft.ConfUpdateAddr, NodeID: m.ID, Addr: addr}})
		switch {
		case err != nil:
			n.log.Debug("record an announced API URL: not now", "member", m.ID, "err", err)
		case rep.Code == engine.ReplyOK:
			n.log.Info("recorded the API URL a member announced", "member", m.ID, "api", want, "index", rep.Index)
		case rep.Code == engine.ReplyInvalid:
			n.log.Warn("the core refused to record an announced API URL; trying again later",
				"member", m.ID, "api", want, "err", rep.Error, "in", announceRefused)
			return announceRefused
		default:
			n.log.Debug("record an announced API URL: not now", "member", m.ID, "code", rep.Code.String(), "err", rep.Error)
		}
		return announceRetry
	}
	return announceIdle
}

// checkAnnounced reports why the API URL api that a member with peer
// address raftAddr announced cannot be recorded as its Addr addr, or nil.
func checkAnnounced(raftAddr, api, addr string) error {
	switch {
	case raftAddr == "":
		return errors.New("server: the member's peer address is unknown")
	case len(addr) > wire.MaxAddrBytes:
		return fmt.Errorf("server: the member's address would be %d bytes, over %d", len(addr), wire.MaxAddrBytes)
	case strings.IndexFunc(api, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
		return errors.New("server: the API URL holds a space, a control character or a non-ASCII character")
	}
	if norm, err := normalizeAPI(api); err != nil || norm != api || !strings.Contains(api, "://") {
		return errors.New("server: not an API URL (http://host:port or https://host:port)")
	}
	return nil
}

// advertisedAPI returns the API URL other nodes reach this node at: the
// configured one (Config.APIURL), or the API listener's address, with an
// unspecified host (the API listens on 0.0.0.0 or ::) replaced by the host
// of this node's peer address. It returns "" when no usable host is known,
// or when the API listens on loopback but the peer address is not a
// loopback one: the peers are on other machines and cannot reach it.
func (n *Node) advertisedAPI() string {
	if n.cfg.APIURL != "" {
		if norm, err := normalizeAPI(n.apiURL); err == nil {
			return norm // as POST /v1/members would record it
		}
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
