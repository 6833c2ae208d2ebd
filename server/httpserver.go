package server

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPLimits bound what a client connection to the API can hold. Zero
// fields take the defaults below.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers, and how long
	// a new connection may stay silent (default 10 s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (default
	// 30 s): a body sent slowly cannot hold a connection longer.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its answer (default 45 s). It must exceed the longest wait a
	// request is allowed: requestTimeout, and a membership request
	// forwarded to the leader. The event stream is exempt.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default
	// 60 s).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and headers (default
	// 512 KiB: room for a CAS expectation of kv.MaxValueBytes
	// percent-encoded in the URL).
	MaxHeaderBytes int
	// MaxConns caps the open client connections, event streams included
	// (default 1024). Past it, new connections wait to be accepted until
	// one closes.
	MaxConns int
}

// Defaults of HTTPLimits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 45 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxHeaderBytes    = 512 << 10
	DefaultMaxConns          = 1024
)

// withDefaults returns l with its zero fields set to the defaults.
func (l HTTPLimits) withDefaults() HTTPLimits {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	set(&l.ReadTimeout, DefaultReadTimeout)
	set(&l.WriteTimeout, DefaultWriteTimeout)
	set(&l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns
	}
	return l
}

// apiServer is the API's HTTP server with its connection cap: serve it on
// the listener that limit returns.
type apiServer struct {
	srv *http.Server
	// open counts the connections the server holds (hijacked ones, the
	// event streams, are counted by the limit listener only).
	open atomic.Int64
	max  int
}

// newAPIServer makes the API's HTTP server, bounded by n.cfg.HTTP, and
// publishes its open connections as a metric.
func (n *Node) newAPIServer() *apiServer {
	l := n.cfg.HTTP
	a := &apiServer{max: l.MaxConns}
	a.srv = &http.Server{
		Handler:           n.routes(),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				a.open.Add(1)
			case http.StateHijacked, http.StateClosed:
				a.open.Add(-1)
			}
		},
	}
	n.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "wraft_api_connections",
		Help:        "Open client connections to the API, event streams excluded.",
		ConstLabels: prometheus.Labels{"node": itoa(n.cfg.ID)},
	}, func() float64 { return float64(a.open.Load()) }))
	return a
}

// limit returns ln capped at the server's MaxConns open connections.
func (a *apiServer) limit(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, a.max), done: make(chan struct{})}
}

// APIConns returns how many client connections the API holds open, event
// streams excluded.
func (n *Node) APIConns() int { return int(n.api.open.Load()) }

// limitListener accepts a connection only while fewer than cap(sem) are
// open; a connection frees its place when closed.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn frees its place in the listener once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// stream exempts a long-lived answer (the event stream) from the server's
// read and write deadlines, which bound ordinary requests; the handler
// bounds each of its writes itself. (net/http also clears the deadlines
// of a connection it hands over, as the WebSocket upgrade does; this
// keeps the exemption whatever the stream is carried on.)
func stream(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		h(w, r)
	}
}
