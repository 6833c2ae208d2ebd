package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/wraft/wraft/api"
)

// Errors a membership request can end with, besides ErrUnavailable.
var (
	// ErrConflict: the change cannot be made in the cluster's present state
	// (another change is in progress, the learner to promote has not
	// caught up); it was not applied. Retry later.
	ErrConflict = errors.New("conflict")
	// ErrRefused: the change is impossible or the request malformed (a
	// member added twice, an unknown id, the last voter removed), or it
	// lacks the admin token (Client.Token).
	ErrRefused = errors.New("refused")
	// ErrOutcomeUnknown: the change did not finish in time, or the node
	// it was sent to stopped answering or broke the connection after
	// taking it (the change is not sent again: it has no session); it may
	// still apply. List the members to find out.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// Members returns the cluster's configuration, with the leader's
// replication progress to each member when the leader answers (a
// follower forwards the request to it when it can).
func (c *Client) Members(ctx context.Context) (api.Members, error) {
	return c.members(ctx, http.MethodGet, "/v1/members", nil)
}

// AddMember adds a member, as a learner unless m.Learner points to false.
// It returns the configuration after the change.
func (c *Client) AddMember(ctx context.Context, m api.AddMember) (api.Members, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return api.Members{}, fmt.Errorf("client: %w", err)
	}
	return c.members(ctx, http.MethodPost, "/v1/members", b)
}

// PromoteMember makes learner id a voter. The leader refuses with
// ErrConflict until the learner has caught up.
func (c *Client) PromoteMember(ctx context.Context, id uint64) (api.Members, error) {
	return c.members(ctx, http.MethodPost, "/v1/members/"+strconv.FormatUint(id, 10)+"/promote", nil)
}

// RemoveMember removes member id, voter or learner. A leader that removes
// itself steps down once the change commits.
func (c *Client) RemoveMember(ctx context.Context, id uint64) (api.Members, error) {
	return c.members(ctx, http.MethodDelete, "/v1/members/"+strconv.FormatUint(id, 10), nil)
}

// members sends a membership request and follows the leader through
// elections until a final answer or ctx ends. A read goes to any node
// (the leader if known), and is sent again elsewhere when one fails. A
// change goes to the leader, found first if need be; it is sent again
// only when it cannot have reached the node it was sent to (the
// connection was refused, say): a change that may have reached a node
// which then timed out, stalled or broke the connection may still apply,
// and ends in ErrOutcomeUnknown.
func (c *Client) members(ctx context.Context, method, path string, body []byte) (api.Members, error) {
	change := method != http.MethodGet
	backoff := 100 * time.Millisecond
	var last error
	failed := map[string]bool{}
	discovered := false
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
		if change && !discovered && c.leaderEndpoint() == "" {
			discovered = true
			c.discover(ctx)
		}
		ep, fresh := c.pick(failed)
		if !fresh && len(failed) > 0 {
			if !pause() {
				break
			}
			continue
		}
		code, b, err := c.attempt(ctx, ep, func(ctx context.Context) (*http.Request, error) {
			var r io.Reader = http.NoBody
			if body != nil {
				r = bytes.NewReader(body)
			}
			req, err := http.NewRequestWithContext(ctx, method, ep+path, r)
			if err != nil {
				return nil, err
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.Token != "" && method != http.MethodGet {
				req.Header.Set("Authorization", "Bearer "+c.Token)
			}
			return req, nil
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if change && mayHaveArrived(err) {
				return api.Members{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
			}
			last = err
			failed[ep] = true
			c.forget(ep)
			continue
		}
		var out api.Members
		var rep api.Reply
		switch {
		case code == http.StatusOK:
			if err := json.Unmarshal(b, &out); err != nil {
				return api.Members{}, fmt.Errorf("client: %s%s answered with something other than the members: %w", ep, path, err)
			}
			c.learn(out.Leader)
			return out, nil
		case json.Unmarshal(b, &rep) != nil:
			last = fmt.Errorf("client: %s%s: %d: %s", ep, path, code, bytes.TrimSpace(b))
			failed[ep] = true
			c.forget(ep)
		case code == http.StatusConflict:
			return api.Members{}, fmt.Errorf("%w: %s", ErrConflict, rep.Error)
		case code == http.StatusBadRequest, code == http.StatusNotFound, code == http.StatusUnauthorized, code == http.StatusForbidden:
			return api.Members{}, fmt.Errorf("%w: %s", ErrRefused, rep.Error)
		case code == http.StatusGatewayTimeout && change:
			return api.Members{}, fmt.Errorf("%w: %s", ErrOutcomeUnknown, rep.Error)
		default: // not leader, no quorum, overloaded, unavailable
			last = fmt.Errorf("client: %s: %s: %s", ep, rep.Code, rep.Error)
			c.forget(ep)
			c.follow(ctx, rep.Leader)
		}
		if !pause() {
			break
		}
	}
	return api.Members{}, errors.Join(ErrUnavailable, last)
}
