// Package server is the wraft daemon: it hosts one core (raft.wasm in
// wazero, or the engine linked natively), persists to a write-ahead log,
// talks to its peers over TCP and serves clients over HTTP.
package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"time"

	"github.com/wraft/wraft/engine"
)

// CoreFactory creates a core from its configuration and recovered state.
type CoreFactory func(engine.Config, engine.Restored) (engine.Core, error)

// Config configures a Node.
type Config struct {
	// ID is this node's id, one of the keys of Peers.
	ID uint64
	// Peers maps every member's id to its peer (raft) address, this node's
	// included: that entry is the address to listen on. It is the initial
	// configuration of a new cluster; a node that joins (see Join) lists
	// only itself. Once the log or a snapshot holds a configuration, that
	// one counts, and the transport follows it.
	Peers map[uint64]string
	// PeerAPIs maps members' ids to their client API URLs
	// (http://host:port), for the bootstrap members of Peers: a follower
	// forwards membership requests to the leader's. Optional; members
	// added later carry their own.
	PeerAPIs map[uint64]string
	// APIURL is the URL other nodes reach this node's API at (default
	// http:// and the API listener's address).
	APIURL string
	// Join is the API URL of any member of a running cluster. A node with
	// an empty data directory asks it to add the node as a learner, keeps
	// the configuration it answers in ClusterFile, catches up and then asks
	// to be promoted to voter. With data present, Join is ignored.
	Join string
	// JoinTimeout bounds the join (default 2 minutes); PromoteTimeout how
	// long a joined node asks to be promoted before it gives up and stays
	// a learner (default 10 minutes).
	JoinTimeout    time.Duration
	PromoteTimeout time.Duration
	// Listener, if set, is the peer listener, used instead of listening at
	// Peers[ID] (which must still be its address, for status). Start takes
	// ownership of it: it is closed by Stop, or at once if Start fails.
	// Tests listen at 127.0.0.1:0 to learn every node's address first.
	Listener net.Listener
	// API is the HTTP address of the client API, such as 127.0.0.1:8001
	// (port 0 picks a free port; APIAddr says which).
	API string
	// DataDir holds the write-ahead log.
	DataDir string
	// Tick is the interval between engine ticks (default 20ms).
	Tick time.Duration
	// Engine configures the core; Raft.ID and Raft.Members are filled in
	// from ID and the initial configuration.
	Engine engine.Config
	// NewCore creates the core.
	NewCore CoreFactory
	// CoreName says which core runs ("wasm sha256:…", "native"), for status.
	CoreName string
	// AdminToken is what every request that changes something other than
	// the key-value store (membership, the chaos endpoints under
	// /v1/admin) must carry as "Authorization: Bearer <token>". Empty:
	// the token kept in DataDir/admin-token (AdminTokenFile), made on the
	// first start (JoinToken for a node that joins, else random) and
	// logged once then.
	AdminToken string
	// JoinToken is the admin token of the cluster that Join joins; the
	// join and the promotion requests carry it. Empty: AdminToken.
	JoinToken string
	// CORSOrigins are the browser origins ("http://host:port") whose web
	// pages may call the API, such as the dashboard's; a request from any
	// other page is refused. Nil: DefaultCORSOrigins; empty: none.
	CORSOrigins []string
	// HTTP bounds the API's client connections.
	HTTP HTTPLimits
	// Crash, when set, is what POST /v1/admin/crash calls: the daemon
	// exits at once, as kill -9 would stop it.
	Crash func()
	// TLS, when set, secures peer traffic with mutual TLS.
	TLS *tls.Config
	// NoSync skips fsync. For tests only: acknowledged writes can be lost.
	NoSync bool
	// Logger receives the node's logs (default slog.Default()).
	Logger *slog.Logger
	// OnStatus, if set, is called with each status the core reports (a
	// status LED follows it), on the node's loop goroutine: it must
	// return at once and must not keep s.Voters or s.Progress.
	OnStatus func(s engine.Status)
}

// DefaultTick is the engine tick interval. With the default 10 election
// ticks, a follower campaigns 200-400 ms after it last heard a leader.
const DefaultTick = 20 * time.Millisecond

func (c *Config) check() error {
	if c.ID == 0 {
		return errors.New("server: node id must be set and non-zero")
	}
	if _, ok := c.Peers[c.ID]; !ok {
		return fmt.Errorf("server: node %d is not among the peers", c.ID)
	}
	if c.DataDir == "" {
		return errors.New("server: data directory must be set")
	}
	if c.API == "" {
		return errors.New("server: API address must be set")
	}
	if c.NewCore == nil {
		return errors.New("server: no core factory")
	}
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.Tick < time.Millisecond {
		return fmt.Errorf("server: tick %v is too short (minimum 1ms)", c.Tick)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.PeerAPIs = maps.Clone(c.PeerAPIs)
	for id, u := range c.PeerAPIs {
		norm, err := normalizeAPI(u)
		if err != nil {
			return fmt.Errorf("server: API URL of node %d: %w", id, err)
		}
		c.PeerAPIs[id] = norm
	}
	if c.Join != "" {
		norm, err := normalizeAPI(c.Join)
		if err != nil {
			return fmt.Errorf("server: join: %w", err)
		}
		c.Join = norm
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = 2 * time.Minute
	}
	if c.PromoteTimeout == 0 {
		c.PromoteTimeout = 10 * time.Minute
	}
	if c.CORSOrigins == nil {
		c.CORSOrigins = DefaultCORSOrigins
	}
	origins, err := normalizeOrigins(c.CORSOrigins)
	if err != nil {
		return err
	}
	c.CORSOrigins = origins
	c.HTTP = c.HTTP.withDefaults()
	created, err := c.resolveAdminToken()
	if err != nil {
		return err
	}
	if created {
		c.Logger.Warn("admin token created; membership changes and the chaos endpoints need it (Authorization: Bearer <token>); it is shown only now",
			"token", c.AdminToken, "file", filepath.Join(c.DataDir, AdminTokenFile))
	}
	c.Engine.Raft.ID = c.ID
	c.Engine.Raft.Voters, c.Engine.Raft.Learners = nil, nil
	return nil
}
