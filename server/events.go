package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func eventJSON(node uint64, ev raft.Event) []byte {
	b, _ := json.Marshal(api.Event{Type: "event", Node: node, Kind: ev.Kind.String(), Term: ev.Term,
		Peer: ev.Peer, Index: ev.Index, Text: ev.Text})
	return b
}

func statusJSON(s engine.Status) []byte {
	b, _ := json.Marshal(struct {
		Type string `json:"type"` // "status"
		api.Status
	}{"status", toStatusJSON(s)})
	return b
}

// hub fans events out to WebSocket subscribers. A subscriber that cannot
// keep up loses messages rather than slowing the node.
type hub struct {
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

func newHub() *hub { return &hub{subs: map[chan []byte]struct{}{}} }

func (h *hub) subscribe() chan []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := make(chan []byte, 256)
	if h.closed {
		close(c)
		return c
	}
	h.subs[c] = struct{}{}
	return c
}

func (h *hub) unsubscribe(c chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[c]; ok {
		delete(h.subs, c)
		close(c)
	}
}

func (h *hub) publish(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- msg:
		default:
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.subs {
		delete(h.subs, c)
		close(c)
	}
}

// handleEvents streams status and events as JSON text messages: first the
// current status and the recent events, then everything as it happens.
func (n *Node) handleEvents(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context())
	// Take the current status and recent events and subscribe at one
	// moment (the loop publishes under the same lock): nothing is missed
	// and nothing is sent twice.
	n.mu.RLock()
	status, recent := n.status, append([]raft.Event(nil), n.events...)
	sub := n.hub.subscribe()
	n.mu.RUnlock()
	defer n.hub.unsubscribe(sub)
	send := func(b []byte) error {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	if err := send(statusJSON(status)); err != nil {
		return
	}
	for _, ev := range recent {
		if err := send(eventJSON(n.cfg.ID, ev)); err != nil {
			return
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case b, ok := <-sub:
			if !ok {
				conn.Close(websocket.StatusGoingAway, "node stopping")
				return
			}
			if err := send(b); err != nil {
				return
			}
		}
	}
}
