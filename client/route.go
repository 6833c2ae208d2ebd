package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// Routing: which endpoint an attempt goes to, what the client remembers
// about each endpoint, and how it notices one that stopped answering.

// Defaults of the Client's timing fields. The probe and stall timeouts
// are about one election timeout (a follower campaigns 200-400 ms after
// it last heard a leader with wraft's default tick): a node that answers
// nothing, not even its status, for that long is frozen, cut off or badly
// overloaded, and the request is better sent elsewhere.
const (
	DefaultProbeTimeout = 500 * time.Millisecond
	DefaultStallTimeout = 500 * time.Millisecond
	DefaultSuspectFor   = 5 * time.Second
)

// maxProbeInterval bounds the growing interval between the status probes
// of a request that waits at a live endpoint.
const maxProbeInterval = 4 * time.Second

func (c *Client) probeTimeout() time.Duration { return orDefault(c.ProbeTimeout, DefaultProbeTimeout) }
func (c *Client) stallTimeout() time.Duration { return orDefault(c.StallTimeout, DefaultStallTimeout) }
func (c *Client) suspectFor() time.Duration   { return orDefault(c.SuspectFor, DefaultSuspectFor) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// StallError is the error of an attempt abandoned because its endpoint
// stopped answering. Sent says whether the request had been written out,
// and so may reach the node and apply when it recovers.
type StallError struct {
	Endpoint string
	Sent     bool
	// Err is why the status probe failed.
	Err error
}

func (e *StallError) Error() string {
	return fmt.Sprintf("client: %s stopped answering (nor did it answer a status probe: %v)", e.Endpoint, e.Err)
}

func (e *StallError) Unwrap() error { return e.Err }

// sendError is an attempt that got no answer for another reason than a
// stall: the connection was refused or broke.
type sendError struct {
	ep   string
	sent bool
	err  error
}

func (e *sendError) Error() string { return fmt.Sprintf("client: %s: %v", e.ep, e.err) }
func (e *sendError) Unwrap() error { return e.err }

// mayHaveArrived reports whether a failed attempt's request may have
// reached its node, and so may apply.
func mayHaveArrived(err error) bool {
	var s *StallError
	var se *sendError
	switch {
	case errors.As(err, &s):
		return s.Sent
	case errors.As(err, &se):
		return se.sent
	}
	return true
}

// attempt sends the request newReq builds (with the attempt's context) to
// ep, and returns the answer's HTTP status and body. When no answer has
// come after StallTimeout it probes ep's status: if ep answers, the
// request goes on waiting, probed again at doubling intervals; if not, ep
// is taken to be frozen or cut off: the request is abandoned, ep marked
// suspect, and the error is a *StallError.
func (c *Client) attempt(ctx context.Context, ep string, newReq func(context.Context) (*http.Request, error)) (int, []byte, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sent atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent.Store(true) },
	})
	req, err := newReq(actx)
	if err != nil {
		return 0, nil, fmt.Errorf("client: %w", err)
	}
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := c.http.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		done <- answer{resp.StatusCode, b, err}
	}()
	wait := c.stallTimeout()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var alive chan error // the status probe in flight, if any
	for {
		select {
		case a := <-done:
			if a.err != nil {
				return 0, nil, &sendError{ep: ep, sent: sent.Load(), err: a.err}
			}
			c.markAlive(ep)
			return a.status, a.body, nil
		case <-timer.C:
			alive = make(chan error, 1)
			go func(out chan<- error) {
				pctx, cancel := context.WithTimeout(ctx, c.probeTimeout())
				defer cancel()
				_, err := c.Status(pctx, ep)
				out <- err
			}(alive)
		case err := <-alive:
			alive = nil
			if err != nil && ctx.Err() == nil {
				cancel()
				<-done
				c.markSuspect(ep)
				return 0, nil, &StallError{Endpoint: ep, Sent: sent.Load(), Err: err}
			}
			wait = min(2*wait, maxProbeInterval)
			timer.Reset(wait)
		}
	}
}

// pick returns the endpoint for the next attempt: the leader if it is
// known and has not failed this request; else the endpoints in the order
// given, from where the last pick left off, first those that have not
// failed this request (failed) and are not suspect, then those that are
// not suspect, then the rest. fresh reports that the endpoint is of the
// first kind.
func (c *Client) pick(failed map[string]bool) (ep string, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.leader != "" && !failed[c.leader] && !c.suspectLocked(c.leader, now) {
		return c.leader, true
	}
	n := len(c.endpoints)
	best, bestRank := 0, 4
	for i := range n {
		j := (c.next + i) % n
		rank := 0
		if failed[c.endpoints[j]] {
			rank++
		}
		if c.suspectLocked(c.endpoints[j], now) {
			rank += 2
		}
		if rank < bestRank {
			best, bestRank = j, rank
		}
	}
	c.next = (best + 1) % n
	return c.endpoints[best], bestRank == 0
}

// suspectLocked reports whether ep is to be passed over at now. c.mu is
// held.
func (c *Client) suspectLocked(ep string, now time.Time) bool {
	until, ok := c.suspect[ep]
	if ok && !now.Before(until) {
		delete(c.suspect, ep)
		return false
	}
	return ok
}

// markSuspect passes ep over for SuspectFor.
func (c *Client) markSuspect(ep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.suspect[ep] = time.Now().Add(c.suspectFor())
	if c.leader == ep {
		c.leader = ""
	}
}

// markAlive clears ep's suspicion: it answered.
func (c *Client) markAlive(ep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.suspect, ep)
}

// accounted reports whether every endpoint is in verdict or suspect.
func (c *Client) accounted(verdict map[string]string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for _, ep := range c.endpoints {
		if _, ok := verdict[ep]; !ok && !c.suspectLocked(ep, now) {
			return false
		}
	}
	return true
}

// leaderEndpoint returns the endpoint of the known leader, or "" if none
// is known or it is suspect.
func (c *Client) leaderEndpoint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader == "" || c.suspectLocked(c.leader, time.Now()) {
		return ""
	}
	return c.leader
}

// forget drops ep as the leader.
func (c *Client) forget(ep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader == ep {
		c.leader = ""
	}
}

// learn points the client at node id, named as the leader in a final
// answer, if it knows id's endpoint and that is not suspect. It asks
// nobody: a final answer needs no detour.
func (c *Client) learn(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ep, ok := c.ids[id]; ok && id != 0 && !c.suspectLocked(ep, time.Now()) {
		c.leader = ep
	}
}

// follow points the client at node id, named as the leader in an answer
// that was not final, finding id's endpoint by probing if need be. With
// id 0, or id's endpoint unknown or suspect, no leader is known.
func (c *Client) follow(ctx context.Context, id uint64) {
	c.mu.Lock()
	_, known := c.ids[id]
	c.mu.Unlock()
	if !known && id != 0 {
		c.discover(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leader = ""
	if ep, ok := c.ids[id]; ok && id != 0 && !c.suspectLocked(ep, time.Now()) {
		c.leader = ep
	}
}

// discovery is one round of status probes looking for the leader; the
// requests that need the leader meanwhile wait for it rather than start
// probes of their own.
type discovery struct {
	done   chan struct{}
	leader uint64 // set before done is closed
}

// probed is the outcome of one status probe.
type probed struct {
	ep     string
	role   string
	id     uint64
	failed bool
}

// discover probes the status of every endpoint that is neither suspect
// nor already being probed, all at once, each for at most ProbeTimeout.
// It points the client at the first that says it leads and returns its
// id, or 0 when none does (or ctx ends first). Probes that outlast it
// run on to their timeout and record what they learn: a node's id, or
// that the node is suspect.
func (c *Client) discover(ctx context.Context) uint64 {
	c.mu.Lock()
	d := c.round
	if d == nil {
		d = &discovery{done: make(chan struct{})}
		c.round = d
		go c.runDiscovery(d)
	}
	c.mu.Unlock()
	select {
	case <-d.done:
		return d.leader
	case <-ctx.Done():
		return 0
	}
}

func (c *Client) runDiscovery(d *discovery) {
	results := make(chan probed, len(c.endpoints))
	n := 0
	c.mu.Lock()
	now := time.Now()
	for _, ep := range c.endpoints {
		if c.probing[ep] || c.suspectLocked(ep, now) {
			continue
		}
		c.probing[ep] = true
		n++
		go c.probe(ep, results)
	}
	c.mu.Unlock()
	var leader uint64
	for range n {
		if r := <-results; !r.failed && r.role == "leader" {
			leader = r.id
			break
		}
	}
	c.mu.Lock()
	if ep, ok := c.ids[leader]; ok && leader != 0 {
		c.leader = ep
	}
	c.round = nil
	c.mu.Unlock()
	d.leader = leader
	close(d.done)
}

// probe asks ep's status, for at most ProbeTimeout, records what it
// learns and sends it on out (which has room for it).
func (c *Client) probe(ep string, out chan<- probed) {
	ctx, cancel := context.WithTimeout(context.Background(), c.probeTimeout())
	defer cancel()
	st, err := c.Status(ctx, ep)
	c.mu.Lock()
	delete(c.probing, ep)
	switch {
	case err == nil:
		c.ids[st.ID] = ep
		delete(c.suspect, ep)
	case ctx.Err() != nil: // no answer in time
		c.suspect[ep] = time.Now().Add(c.suspectFor())
		if c.leader == ep {
			c.leader = ""
		}
	}
	c.mu.Unlock()
	out <- probed{ep: ep, role: st.Role, id: st.ID, failed: err != nil}
}
