// Package client talks to a wraft cluster over its HTTP API: it finds the
// leader among the endpoints it is given, keeps a session so that a
// retried write applies at most once, and waits out elections.
//
// It routes around nodes in trouble: it asks the nodes' status all at
// once, each for a short time, rather than one after another; it sends a
// request that stalls at a frozen or cut-off node to the next one, and
// passes that node over for a while. A node that is frozen or slow costs
// a client at most one probe or stall timeout, not every request's whole
// deadline. See Client for the details and the knobs.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wraft/wraft/api"
)

// DefaultEndpoints are the API addresses of `wraft demo`'s nodes.
var DefaultEndpoints = []string{"http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003"}

// Errors a request can end with.
var (
	// ErrNoQuorum: a majority of the cluster is unreachable; nothing can
	// commit. The Reply says how many nodes are alive.
	ErrNoQuorum = errors.New("no quorum")
	// ErrUnavailable: no endpoint answered within the time allowed.
	ErrUnavailable = errors.New("cluster unavailable")
)

// Client is a session with a cluster. It is safe for concurrent use; each
// write takes the session's next sequence number.
//
// A Client routes around nodes in trouble. It remembers the leader (from
// status probes and from the leader named in every answer) and sends
// requests there; with no leader known it asks every endpoint's status at
// once and takes the first that says it leads, else it tries the
// endpoints in the order given. A request that goes unanswered for
// StallTimeout, at an endpoint that then does not answer a status probe
// within ProbeTimeout either (a frozen or cut-off node), is abandoned and
// sent to the next endpoint, and that endpoint is passed over for
// SuspectFor. Each request keeps within its context's deadline.
//
// Set the exported fields before the first request.
type Client struct {
	endpoints []string
	http      *http.Client
	clientID  uint64

	mu     sync.Mutex
	seq    uint64
	leader string // endpoint of the last known leader
	next   int    // index of the endpoint to try next when no leader is known
	ids    map[uint64]string
	// suspect holds the endpoints that stalled, with the time until which
	// they are passed over; probing, those with a status probe in flight.
	suspect map[string]time.Time
	probing map[string]bool
	round   *discovery // the leader discovery in progress, if any

	// OnPending, if set, is called (once per request) when the request has
	// to wait for an election.
	OnPending func()

	// ProbeTimeout bounds each status probe the client makes to find the
	// leader or to check that a slow endpoint is alive. Zero means
	// DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// StallTimeout is how long a request waits for an answer before the
	// client probes its endpoint; while the endpoint answers its probes
	// the request goes on waiting (a leader may take a while to commit),
	// and the probes are repeated at growing intervals. Zero means
	// DefaultStallTimeout.
	StallTimeout time.Duration
	// SuspectFor is how long an endpoint that stalled is passed over, as
	// long as another endpoint is left to try. Zero means
	// DefaultSuspectFor.
	SuspectFor time.Duration
	// Token is the cluster's admin token, sent as "Authorization: Bearer
	// <token>" with membership changes (key-value requests need none).
	Token string
}

// New returns a client of the cluster whose nodes' API endpoints are given
// ("http://host:port", or bare "host:port").
func New(endpoints []string) (*Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("client: no endpoints")
	}
	c := &Client{http: &http.Client{Timeout: 15 * time.Second}, clientID: rand.Uint64()>>1 | 1, ids: map[uint64]string{},
		suspect: map[string]time.Time{}, probing: map[string]bool{}}
	for _, e := range endpoints {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.Contains(e, "://") {
			e = "http://" + e
		}
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("client: bad endpoint %q", e)
		}
		c.endpoints = append(c.endpoints, strings.TrimRight(u.String(), "/"))
	}
	if len(c.endpoints) == 0 {
		return nil, errors.New("client: no endpoints")
	}
	return c, nil
}

// Endpoints returns the normalised endpoints.
func (c *Client) Endpoints() []string { return c.endpoints }

// Set stores value under key.
func (c *Client) Set(ctx context.Context, key string, value []byte) (api.Reply, error) {
	return c.write(ctx, http.MethodPut, key, nil, value)
}

// Delete removes key.
func (c *Client) Delete(ctx context.Context, key string) (api.Reply, error) {
	return c.write(ctx, http.MethodDelete, key, nil, nil)
}

// CAS stores value under key if the key's value is expect; with expect nil,
// only if the key does not exist. Reply.OK says whether it did.
func (c *Client) CAS(ctx context.Context, key string, expect, value []byte) (api.Reply, error) {
	q := url.Values{}
	if expect == nil {
		q.Set("absent", "1")
	} else {
		q.Set("expect", string(expect))
	}
	return c.write(ctx, http.MethodPut, key, q, value)
}

// Get reads key: linearizably, or from any node's possibly stale copy.
func (c *Client) Get(ctx context.Context, key string, stale bool) (api.Reply, error) {
	q := url.Values{}
	if stale {
		q.Set("consistency", "stale")
	}
	return c.do(ctx, http.MethodGet, key, q, nil, 0)
}

func (c *Client) write(ctx context.Context, method, key string, q url.Values, body []byte) (api.Reply, error) {
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.mu.Unlock()
	return c.do(ctx, method, key, q, body, seq)
}

// do sends one request, retrying on other nodes and through elections
// until it gets a final answer or ctx ends. Writes keep their session
// sequence number across retries, so they apply at most once; reads
// change nothing. Both may therefore be sent again elsewhere as soon as
// an endpoint stalls (see attempt).
func (c *Client) do(ctx context.Context, method, key string, q url.Values, body []byte, seq uint64) (api.Reply, error) {
	var last api.Reply
	var lastErr error
	pendingSaid := false
	// verdict records endpoints that answered "no quorum" or did not
	// answer: when every endpoint is one or the other (or suspect), and at
	// least one said "no quorum", that is the answer.
	verdict := map[string]string{}
	var lastNoQuorum api.Reply
	pending := func() {
		if !pendingSaid && c.OnPending != nil {
			pendingSaid = true
			c.OnPending()
		}
	}
	// A stale read may be served by any node; everything else starts at
	// the leader, found by probing once per request if it is not known.
	discovered := method == http.MethodGet && q.Get("consistency") == "stale"
	// failed holds the endpoints that failed this request since it last
	// paused: the next attempts go to the others.
	failed := map[string]bool{}
	hopped := false
	backoff := 50 * time.Millisecond
	pause := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
		clear(failed)
		return true
	}
	for ctx.Err() == nil {
		if !discovered && c.leaderEndpoint() == "" {
			discovered = true
			c.discover(ctx)
		}
		ep, fresh := c.pick(failed)
		if !fresh && len(failed) > 0 {
			// Every endpoint has had its turn.
			if !pause() {
				break
			}
			continue
		}
		rep, err := c.send(ctx, ep, method, key, q, body, seq)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			lastErr = err
			failed[ep] = true
			c.forget(ep)
			if _, ok := verdict[ep]; !ok {
				verdict[ep] = "down"
			}
			if c.accounted(verdict) && lastNoQuorum.Code != "" {
				r := lastNoQuorum
				return r, fmt.Errorf("%w (only %d/%d alive)", ErrNoQuorum, r.Alive, r.Voters)
			}
			continue
		}
		if rep.Waited {
			pending()
		}
		last, lastErr = rep, nil
		switch rep.Code {
		case "ok", "invalid":
			c.learn(rep.Leader)
			return rep, nil
		case "no-quorum":
			// This node hears from too few voters; the others may know
			// better (it may have just restarted). Give up once every
			// endpoint has said so or cannot be reached.
			verdict[ep] = "no-quorum"
			lastNoQuorum = rep
			if c.accounted(verdict) {
				return rep, fmt.Errorf("%w (only %d/%d alive)", ErrNoQuorum, rep.Alive, rep.Voters)
			}
			failed[ep] = true
			c.forget(ep)
			continue
		case "timeout", "not-leader", "overloaded", "pending":
			if rep.Leader == 0 {
				pending()
			}
			c.follow(ctx, rep.Leader)
			// A hint that names another endpoint is followed at once, the
			// first time.
			if next := c.leaderEndpoint(); next != "" && next != ep && !hopped {
				hopped = true
				continue
			}
		default: // "unavailable": the node is stopping
			failed[ep] = true
			c.forget(ep)
		}
		if !pause() {
			break
		}
	}
	if lastErr == nil && last.Code != "" {
		lastErr = fmt.Errorf("%w: last answer %q: %s", ErrUnavailable, last.Code, last.Error)
	}
	return last, errors.Join(ErrUnavailable, lastErr)
}

// send makes one attempt at a key-value request on ep.
func (c *Client) send(ctx context.Context, ep, method, key string, q url.Values, body []byte, seq uint64) (api.Reply, error) {
	u := ep + "/v1/kv/" + url.PathEscape(key)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	status, b, err := c.attempt(ctx, ep, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if seq != 0 {
			req.Header.Set(api.HeaderClient, strconv.FormatUint(c.clientID, 10))
			req.Header.Set(api.HeaderSeq, strconv.FormatUint(seq, 10))
		}
		return req, nil
	})
	if err != nil {
		return api.Reply{}, err
	}
	var rep api.Reply
	if err := json.Unmarshal(b, &rep); err != nil {
		return api.Reply{}, fmt.Errorf("client: %s answered %d with a body that is not a reply: %w", ep, status, err)
	}
	return rep, nil
}

// FindLeader points the client at the leader and returns its id, or 0 if
// no endpoint says it leads. It asks every endpoint that is not suspect
// for its status at once, each for at most ProbeTimeout, and returns as
// soon as one says it is the leader, so a frozen or slow node does not
// hold it up. Requests find the leader by themselves; FindLeader is for
// callers that want its id.
func (c *Client) FindLeader(ctx context.Context) uint64 {
	return c.discover(ctx)
}

// Status fetches one endpoint's status.
func (c *Client) Status(ctx context.Context, ep string) (api.Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/v1/status", nil)
	if err != nil {
		return api.Status{}, fmt.Errorf("client: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return api.Status{}, fmt.Errorf("client: %s: %w", ep, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return api.Status{}, fmt.Errorf("client: %s/v1/status: %s", ep, resp.Status)
	}
	var st api.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return api.Status{}, fmt.Errorf("client: %s/v1/status: %w", ep, err)
	}
	return st, nil
}

// Admin posts body (JSON, or nil) to an admin endpoint such as "faults"
// on ep, with the admin token.
func (c *Client) Admin(ctx context.Context, ep, token, what string, body any) error {
	var r io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep+"/v1/admin/"+what, r)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s: %w", ep, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("client: %s/v1/admin/%s: %s: %s", ep, what, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
