package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/wraft/wraft/api"
)

// driver is the client side of one system under test.
type driver interface {
	// leader returns the id (1..3) of the node that leads, or 0.
	leader(ctx context.Context) (uint64, error)
	// up reports whether node id answers and knows a leader (so a
	// restarted node has rejoined).
	up(ctx context.Context, id uint64) bool
	// writer returns a client session that sends to node id first (the
	// leader, in steady state, as a tuned client does). HTTP writers follow
	// "not-leader" answers; etcd's members forward writes to the leader.
	writer(ctx context.Context, id uint64) (writer, error)
	// state returns what node id reports of itself (soak and memory
	// modes).
	state(ctx context.Context, id uint64) (nodeState, error)
	close()
}

// nodeState is one node's view of the cluster, as its status API reports
// it. Leader is a node id (1..3) or 0.
type nodeState struct {
	Term, Leader, Commit, Applied uint64
	// Snapshot is the index of the newest snapshot; SnapshotKnown is
	// false where the system does not report it (etcd).
	Snapshot      uint64
	SnapshotKnown bool
	// Keys is the number of keys in the node's store, or -1 if the
	// system does not report it (etcd).
	Keys int
}

// writer is one client: it has at most one request outstanding.
type writer interface {
	// put stores value under key and returns once the write is
	// acknowledged as committed, or ctx ends.
	put(ctx context.Context, key string, value []byte) error
	close()
}

// httpDriver drives wraft and the hashicorp/raft KV server, which share
// the HTTP shape PUT /v1/kv/{key}, GET /v1/status.
type httpDriver struct {
	eps []string // "http://host:port", in id order
	hc  *http.Client
	tr  *http.Transport
}

func newHTTPDriver(eps []string) *httpDriver {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	d := &httpDriver{hc: &http.Client{Transport: tr}, tr: tr}
	for _, e := range eps {
		d.eps = append(d.eps, "http://"+e)
	}
	return d
}

func (d *httpDriver) status(ctx context.Context, id uint64) (api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.eps[id-1]+"/v1/status", nil)
	if err != nil {
		return api.Status{}, fmt.Errorf("status of node %d: %w", id, err)
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return api.Status{}, fmt.Errorf("status of node %d: %w", id, err)
	}
	defer resp.Body.Close()
	var st api.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return api.Status{}, fmt.Errorf("status of node %d: %w", id, err)
	}
	return st, nil
}

func (d *httpDriver) leader(ctx context.Context) (uint64, error) {
	var errs []error
	for i := range d.eps {
		st, err := d.status(ctx, uint64(i+1))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Role == "leader" {
			return uint64(i + 1), nil
		}
	}
	return 0, errors.Join(errs...)
}

func (d *httpDriver) up(ctx context.Context, id uint64) bool {
	st, err := d.status(ctx, id)
	return err == nil && st.Leader != 0
}

func (d *httpDriver) writer(_ context.Context, id uint64) (writer, error) {
	if id < 1 || int(id) > len(d.eps) {
		return nil, fmt.Errorf("writer: no node %d", id)
	}
	return &httpWriter{d: d, client: rand.Uint64()>>1 | 1, cur: int(id - 1)}, nil
}

func (d *httpDriver) state(ctx context.Context, id uint64) (nodeState, error) {
	if id < 1 || int(id) > len(d.eps) {
		return nodeState{}, fmt.Errorf("state: no node %d", id)
	}
	st, err := d.status(ctx, id)
	if err != nil {
		return nodeState{}, err
	}
	return nodeState{Term: st.Term, Leader: st.Leader, Commit: st.Commit, Applied: st.Applied,
		Snapshot: st.Snapshot, SnapshotKnown: true, Keys: st.Keys}, nil
}

func (d *httpDriver) close() { d.tr.CloseIdleConnections() }

// httpWriter is one wraft client session (X-Wraft-Client and X-Wraft-Seq,
// so a retried write applies once; the hashicorp/raft server ignores
// them). It sends to the node it believes leads and follows "not-leader"
// answers.
type httpWriter struct {
	d      *httpDriver
	client uint64
	seq    uint64
	cur    int // index of the endpoint believed to lead
	// attempt, if set, bounds each request to one node, so that a node
	// that does not answer costs that long before the next is tried.
	attempt time.Duration
}

func (w *httpWriter) put(ctx context.Context, key string, value []byte) error {
	w.seq++
	clientID, seq := strconv.FormatUint(w.client, 10), strconv.FormatUint(w.seq, 10)
	var last error
	for {
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), last)
		}
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if w.attempt > 0 {
			sctx, cancel = context.WithTimeout(ctx, w.attempt)
		}
		rep, err := w.send(sctx, w.d.eps[w.cur]+"/v1/kv/"+key, clientID, seq, value)
		cancel()
		switch {
		case err != nil:
			last = err
			w.cur = (w.cur + 1) % len(w.d.eps)
			pause(ctx, 5*time.Millisecond)
		case rep.Code == "ok":
			return nil
		case rep.Code == "invalid":
			return fmt.Errorf("put %s: %s", key, rep.Error)
		default:
			last = fmt.Errorf("put %s: %s %s", key, rep.Code, rep.Error)
			if rep.Leader >= 1 && int(rep.Leader) <= len(w.d.eps) && int(rep.Leader-1) != w.cur {
				w.cur = int(rep.Leader - 1)
			} else {
				w.cur = (w.cur + 1) % len(w.d.eps)
				pause(ctx, 10*time.Millisecond)
			}
		}
	}
}

func (w *httpWriter) send(ctx context.Context, url, clientID, seq string, value []byte) (api.Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(value))
	if err != nil {
		return api.Reply{}, fmt.Errorf("put: %w", err)
	}
	req.Header.Set(api.HeaderClient, clientID)
	req.Header.Set(api.HeaderSeq, seq)
	resp, err := w.d.hc.Do(req)
	if err != nil {
		return api.Reply{}, fmt.Errorf("put: %w", err)
	}
	defer resp.Body.Close()
	var rep api.Reply
	err = json.NewDecoder(resp.Body).Decode(&rep)
	_, _ = io.Copy(io.Discard, resp.Body)
	if err != nil {
		return api.Reply{}, fmt.Errorf("put: %s: %w", resp.Status, err)
	}
	return rep, nil
}

func (w *httpWriter) close() {}

// pause sleeps for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// etcdDriver drives etcd through its own Go client (gRPC).
type etcdDriver struct {
	eps []string // "127.0.0.1:port", in id order
	adm *clientv3.Client

	mu      sync.Mutex
	members map[uint64]uint64 // member id -> node id, as statuses reveal them
}

func newEtcdDriver(eps []string) (driver, error) {
	adm, err := newEtcdClient(eps)
	if err != nil {
		return nil, err
	}
	return &etcdDriver{eps: eps, adm: adm, members: map[uint64]uint64{}}, nil
}

func newEtcdClient(eps []string) (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return c, nil
}

func (d *etcdDriver) leader(ctx context.Context) (uint64, error) {
	ids := map[uint64]uint64{} // member id -> node id
	var lead uint64
	var errs []error
	for i, ep := range d.eps {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := d.adm.Status(sctx, ep)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("status of %s: %w", ep, err))
			continue
		}
		ids[st.Header.MemberId] = uint64(i + 1)
		if st.Leader != 0 {
			lead = st.Leader
		}
	}
	if id, ok := ids[lead]; ok {
		return id, nil
	}
	return 0, errors.Join(errs...)
}

func (d *etcdDriver) up(ctx context.Context, id uint64) bool {
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := d.adm.Status(sctx, d.eps[id-1])
	return err == nil && st.Leader != 0
}

func (d *etcdDriver) writer(_ context.Context, id uint64) (writer, error) {
	if id < 1 || int(id) > len(d.eps) {
		return nil, fmt.Errorf("writer: no node %d", id)
	}
	c, err := newEtcdClient([]string{d.eps[id-1]})
	if err != nil {
		return nil, err
	}
	return &etcdWriter{c: c}, nil
}

// state maps the member's status onto nodeState: Commit is its raft
// index, Applied its applied index, Leader a node id once every member's
// id is known (0 before).
func (d *etcdDriver) state(ctx context.Context, id uint64) (nodeState, error) {
	if id < 1 || int(id) > len(d.eps) {
		return nodeState{}, fmt.Errorf("state: no node %d", id)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := d.adm.Status(sctx, d.eps[id-1])
	if err != nil {
		return nodeState{}, fmt.Errorf("status of %s: %w", d.eps[id-1], err)
	}
	d.mu.Lock()
	d.members[st.Header.MemberId] = id
	lead := d.members[st.Leader]
	if lead == 0 && st.Leader != 0 {
		// The leader's member id is not known yet: ask every member once.
		for i, ep := range d.eps {
			if s2, err := d.adm.Status(sctx, ep); err == nil {
				d.members[s2.Header.MemberId] = uint64(i + 1)
			}
		}
		lead = d.members[st.Leader]
	}
	d.mu.Unlock()
	return nodeState{Term: st.RaftTerm, Leader: lead, Commit: st.RaftIndex, Applied: st.RaftAppliedIndex, Keys: -1}, nil
}

func (d *etcdDriver) close() { _ = d.adm.Close() }

// etcdWriter is one etcd client connection.
type etcdWriter struct{ c *clientv3.Client }

func (w *etcdWriter) put(ctx context.Context, key string, value []byte) error {
	if _, err := w.c.Put(ctx, key, string(value)); err != nil {
		return fmt.Errorf("etcd put %s: %w", key, err)
	}
	return nil
}

func (w *etcdWriter) close() { _ = w.c.Close() }
