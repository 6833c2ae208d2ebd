// Package client talks to a wraft cluster over its HTTP API: it finds the
// leader among the endpoints it is given, keeps a session so that a
// retried write applies at most once, and waits out elections.
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
type Client struct {
	endpoints []string
	http      *http.Client
	clientID  uint64

	mu     sync.Mutex
	seq    uint64
	leader string // endpoint of the last known leader
	next   int    // round-robin position when no leader is known
	ids    map[uint64]string

	// OnPending, if set, is called (once per request) when the request has
	// to wait for an election.
	OnPending func()
}

// New returns a client of the cluster whose nodes' API endpoints are given
// ("http://host:port", or bare "host:port").
func New(endpoints []string) (*Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("client: no endpoints")
	}
	c := &Client{http: &http.Client{Timeout: 15 * time.Second}, clientID: rand.Uint64()>>1 | 1, ids: map[uint64]string{}}
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
// sequence number across retries, so they apply at most once.
func (c *Client) do(ctx context.Context, method, key string, q url.Values, body []byte, seq uint64) (api.Reply, error) {
	var last api.Reply
	var lastErr error
	pendingSaid := false
	// verdict records endpoints that answered "no quorum" or did not
	// answer: when every endpoint is one or the other, and at least one
	// said "no quorum", that is the answer.
	verdict := map[string]string{}
	var lastNoQuorum api.Reply
	pending := func() {
		if !pendingSaid && c.OnPending != nil {
			pendingSaid = true
			c.OnPending()
		}
	}
	backoff := 50 * time.Millisecond
	for {
		ep := c.pick()
		rep, err := c.send(ctx, ep, method, key, q, body, seq)
		switch {
		case err != nil:
			lastErr = err
			c.forget(ep)
			if _, ok := verdict[ep]; !ok {
				verdict[ep] = "down"
			}
			if len(verdict) >= len(c.endpoints) && lastNoQuorum.Code != "" {
				r := lastNoQuorum
				return r, fmt.Errorf("%w (only %d/%d alive)", ErrNoQuorum, r.Alive, r.Voters)
			}
		case rep.Waited:
			pending()
			fallthrough
		default:
			switch rep.Code {
			case "ok", "invalid":
				return rep, nil
			case "no-quorum":
				// This node hears from too few voters; the others may know
				// better (it may have just restarted). Give up once every
				// endpoint has said so.
				verdict[ep] = "no-quorum"
				lastNoQuorum = rep
				if len(verdict) >= len(c.endpoints) {
					return rep, fmt.Errorf("%w (only %d/%d alive)", ErrNoQuorum, rep.Alive, rep.Voters)
				}
				c.forget(ep)
				c.skip(ep)
			case "timeout", "not-leader", "overloaded", "pending":
				if rep.Leader == 0 {
					pending()
				}
				c.follow(rep.Leader)
			}
			last, lastErr = rep, nil
		}
		select {
		case <-ctx.Done():
			if lastErr == nil && last.Code != "" {
				lastErr = fmt.Errorf("%w: last answer %q: %s", ErrUnavailable, last.Code, last.Error)
			}
			return last, errors.Join(ErrUnavailable, lastErr)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// pick returns the endpoint for an attempt: the leader if known, else the
// endpoints in turn.
func (c *Client) pick() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader != "" {
		return c.leader
	}
	c.next++
	return c.endpoints[c.next%len(c.endpoints)]
}

// skip moves the round-robin past ep if ep is the endpoint it would pick
// next. (pick advances before it picks, so the one it picked last is
// passed over anyway.)
func (c *Client) skip(ep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endpoints[(c.next+1)%len(c.endpoints)] == ep {
		c.next++
	}
}

func (c *Client) forget(ep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader == ep {
		c.leader = ""
	}
}

// follow points the client at node id's endpoint, if it knows it.
func (c *Client) follow(id uint64) {
	c.mu.Lock()
	ep, ok := c.ids[id]
	c.mu.Unlock()
	if !ok && id != 0 {
		c.learnIDs()
		c.mu.Lock()
		ep, ok = c.ids[id]
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.leader = ep
	} else {
		c.leader = ""
	}
}

// learnIDs asks every endpoint for its node id.
func (c *Client) learnIDs() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, ep := range c.endpoints {
		if st, err := c.Status(ctx, ep); err == nil {
			c.mu.Lock()
			c.ids[st.ID] = ep
			c.mu.Unlock()
		}
	}
}

// FindLeader asks the endpoints for their status and points the client at
// the leader. It returns the leader's id, or 0 if none is known.
func (c *Client) FindLeader(ctx context.Context) uint64 {
	var leader uint64
	for _, ep := range c.endpoints {
		st, err := c.Status(ctx, ep)
		if err != nil {
			continue
		}
		c.mu.Lock()
		c.ids[st.ID] = ep
		c.mu.Unlock()
		if st.Role == "leader" {
			leader = st.ID
		}
	}
	if leader != 0 {
		c.follow(leader)
	}
	return leader
}

func (c *Client) send(ctx context.Context, ep, method, key string, q url.Values, body []byte, seq uint64) (api.Reply, error) {
	u := ep + "/v1/kv/" + url.PathEscape(key)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return api.Reply{}, fmt.Errorf("client: %w", err)
	}
	if seq != 0 {
		req.Header.Set(api.HeaderClient, strconv.FormatUint(c.clientID, 10))
		req.Header.Set(api.HeaderSeq, strconv.FormatUint(seq, 10))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return api.Reply{}, fmt.Errorf("client: %s: %w", ep, err)
	}
	defer resp.Body.Close()
	var rep api.Reply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&rep); err != nil {
		return api.Reply{}, fmt.Errorf("client: %s answered %s with a body that is not a reply: %w", ep, resp.Status, err)
	}
	return rep, nil
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
