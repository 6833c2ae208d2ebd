package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wraft/wraft/host"
	"github.com/wraft/wraft/server"
)

// startLimited starts a one-node cluster with the given HTTP limits.
func startLimited(t *testing.T, limits server.HTTPLimits) *server.Node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := server.Start(server.Config{ID: 1, Peers: map[uint64]string{1: ln.Addr().String()}, Listener: ln, API: "127.0.0.1:0",
		DataDir: t.TempDir(), NewCore: host.Native, CoreName: "native", AdminToken: testToken, NoSync: true,
		Logger: slog.New(slog.DiscardHandler), HTTP: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

// openFDs counts this process's open file descriptors, or -1 if it cannot.
func openFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// readInt reads a number from a /proc file, or returns def.
func readInt(path string, def int) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return def
	}
	return v
}

// TestIdleAndSlowConnections opens 2,000 connections that send nothing or
// a body that never ends, to a node that takes 200 at a time: a write
// still commits, and the node closes every one of them once its timeouts
// pass, so their file descriptors are released.
func TestIdleAndSlowConnections(t *testing.T) {
	want := 2000
	const maxConns = 200
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		// Each connection costs two descriptors in this process (both
		// ends); keep a margin for the rest.
		if room := int(rl.Cur) - maxConns - 300; room < want {
			t.Logf("RLIMIT_NOFILE is %d: opening %d connections instead of %d", rl.Cur, max(room, 100), want)
			want = max(room, 100)
		}
	}
	if backlog := readInt("/proc/sys/net/core/somaxconn", 4096); backlog-maxConns-50 < want {
		t.Logf("somaxconn is %d: opening %d connections instead of %d", backlog, max(backlog-maxConns-50, 100), want)
		want = max(backlog-maxConns-50, 100)
	}
	n := startLimited(t, server.HTTPLimits{ReadHeaderTimeout: 500 * time.Millisecond, ReadTimeout: time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: time.Second, MaxConns: maxConns})
	addr := n.APIAddr()
	base := openFDs()

	conns := make([]net.Conn, want)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dialErrs []error
	for i := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 30*time.Second)
			if err == nil && i%2 == 1 { // a body that never ends
				_, err = fmt.Fprintf(c, "PUT /v1/kv/slow%d HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab", i)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				dialErrs = append(dialErrs, err)
				if c != nil {
					c.Close()
				}
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	if len(dialErrs) > 0 {
		t.Fatalf("%d of %d connections failed; first: %v", len(dialErrs), want, dialErrs[0])
	}

	// A write still commits: it waits its turn behind them, as the node
	// frees their places.
	hc := &http.Client{Timeout: 2 * time.Minute}
	r := doWith(t, hc, http.MethodPut, "http://"+addr+"/v1/kv/after", "1")
	if r.code != http.StatusOK {
		t.Fatalf("write after %d idle and slow connections: %d %s", want, r.code, r.body)
	}
	hc.CloseIdleConnections()

	// The node closed each one: reading ends (EOF, or a reset), and not
	// with the reader's own deadline.
	var timedOut, answered int
	deadline := time.Now().Add(2 * time.Minute)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(deadline)
			buf := make([]byte, 512)
			got := 0
			for {
				k, err := c.Read(buf)
				got += k
				if err != nil {
					mu.Lock()
					defer mu.Unlock()
					if errors.Is(err, os.ErrDeadlineExceeded) {
						timedOut++
					} else if got > 0 {
						answered++
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	if timedOut > 0 {
		t.Fatalf("%d of %d connections were still open 2 minutes later", timedOut, want)
	}
	t.Logf("%d connections closed by the node (%d with an answer first)", want, answered)
	for _, c := range conns {
		c.Close()
	}
	for i := 0; n.APIConns() != 0 || (base >= 0 && openFDs() > base+20); i++ {
		if i == 3000 { // 30 s
			t.Fatalf("the node holds %d connections; %d descriptors open, %d before the connections", n.APIConns(), openFDs(), base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// doWith sends one request with hc.
func doWith(t *testing.T, hc *http.Client, method, url, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		k, err := resp.Body.Read(buf)
		b.Write(buf[:k])
		if err != nil {
			break
		}
	}
	return response{code: resp.StatusCode, body: []byte(b.String())}
}

// TestEventsOutliveTimeouts: the event stream is exempt from the read and
// write timeouts that bound ordinary requests, so it goes on delivering
// long after them. (A guard: net/http clears a hijacked connection's
// deadlines too, so this passed before stream existed.)
func TestEventsOutliveTimeouts(t *testing.T) {
	n := startLimited(t, server.HTTPLimits{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+n.APIAddr()+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil {
		t.Fatalf("first message: %v", err)
	}
	// Let several times every timeout pass; then a write makes news.
	time.Sleep(2 * time.Second)
	r := do(t, http.MethodPut, "http://"+n.APIAddr()+"/v1/kv/news", []byte("1"))
	if r.code != http.StatusOK {
		t.Fatalf("write: %d %s", r.code, r.body)
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("the event stream ended after the timeouts: %v", err)
		}
		if strings.Contains(string(b), `"type":"status"`) {
			return
		}
	}
}
