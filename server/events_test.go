package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wraft/wraft/api"
)

// message is one message of /v1/events: a status or an event.
type message struct {
	Type   string // "status" or "event"
	Status api.Status
	Event  api.Event
}

// subscribe opens node id's event stream and returns a function that reads
// its next message, failing the test when the stream ends or ctx does.
func (c *cluster) subscribe(ctx context.Context, id uint64) func() message {
	c.t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws://"+c.nodes[id].APIAddr()+"/v1/events", nil)
	if err != nil {
		c.t.Fatalf("dial node %d's events: %v", id, err)
	}
	c.t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return func() message {
		c.t.Helper()
		typ, b, err := conn.Read(ctx)
		if err != nil {
			c.t.Fatalf("read node %d's events: %v", id, err)
		}
		if typ != websocket.MessageText {
			c.t.Fatalf("node %d sent a %v message, want text", id, typ)
		}
		var m message
		var head struct {
			Type string `json:"type"`
		}
		err = json.Unmarshal(b, &head)
		switch m.Type = head.Type; {
		case err != nil:
		case m.Type == "status":
			err = json.Unmarshal(b, &m.Status)
		case m.Type == "event":
			err = json.Unmarshal(b, &m.Event)
		default:
			err = fmt.Errorf("unknown type %q", m.Type)
		}
		if err != nil {
			c.t.Fatalf("node %d sent %s: %v", id, b, err)
		}
		return m
	}
}

// next reads messages until one satisfies ok, at most limit of them.
func next(t *testing.T, read func() message, limit int, what string, ok func(message) bool) message {
	t.Helper()
	for range limit {
		if m := read(); ok(m) {
			return m
		}
	}
	t.Fatalf("no %s in %d messages", what, limit)
	return message{}
}

// TestEvents follows the event stream of the leader and of a follower: a
// status first, then a committed event after a write, and an elected and
// a leader-changed event after a leadership transfer.
func TestEvents(t *testing.T) {
	c := newCluster(t)
	leader := c.waitLeader()
	target := c.follower(leader)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	readLeader := c.subscribe(ctx, leader)
	first := readLeader()
	if first.Type != "status" || first.Status.ID != leader || first.Status.Role != "leader" || len(first.Status.Voters) != 3 {
		t.Fatalf("first message from the leader: %+v, want its status as leader", first)
	}
	readTarget := c.subscribe(ctx, target)
	firstTarget := readTarget()
	if firstTarget.Type != "status" || firstTarget.Status.ID != target {
		t.Fatalf("first message from node %d: %+v, want its status", target, firstTarget)
	}

	w := do(t, http.MethodPut, c.url(leader, "/v1/kv/k"), []byte("v")).reply(t)
	if w.Code != "ok" {
		t.Fatalf("PUT: %+v", w)
	}
	next(t, readLeader, 1000, fmt.Sprintf("committed event at index %d or later", w.Index), func(m message) bool {
		return m.Type == "event" && m.Event.Kind == "committed" && m.Event.Node == leader && m.Event.Index >= w.Index
	})
	next(t, readLeader, 1000, fmt.Sprintf("status with commit %d or later", w.Index), func(m message) bool {
		return m.Type == "status" && m.Status.Commit >= w.Index
	})

	term := first.Status.Term
	if r := c.admin(leader, testToken, "transfer", fmt.Sprintf(`{"to":%d}`, target)); r.code != http.StatusAccepted {
		t.Fatalf("transfer: %d %s", r.code, r.body)
	}
	next(t, readTarget, 1000, "elected event in a later term", func(m message) bool {
		return m.Type == "event" && m.Event.Kind == "elected" && m.Event.Node == target && m.Event.Term > term
	})
	next(t, readLeader, 1000, fmt.Sprintf("leader-changed event naming node %d", target), func(m message) bool {
		return m.Type == "event" && m.Event.Kind == "leader-changed" && m.Event.Peer == target && m.Event.Term > term
	})
}
