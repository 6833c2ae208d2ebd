package transport_test

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/transport"
	"github.com/wraft/wraft/transport/transporttest"
)

// pki is a CA with node certificates written to files.
type pki struct {
	ca    *transporttest.CA
	dir   string
	files map[uint64]transporttest.Files
}

func newPKI(t *testing.T, name string, ids ...uint64) *pki {
	t.Helper()
	ca, err := transporttest.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{ca: ca, dir: t.TempDir(), files: map[uint64]transporttest.Files{}}
	for _, id := range ids {
		if p.files[id], err = ca.WriteNode(p.dir, id); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// config loads node id's TLS config.
func (p *pki) config(t *testing.T, id uint64) *tls.Config {
	t.Helper()
	f := p.files[id]
	c, err := transport.LoadTLS(f.Cert, f.Key, f.CA)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTLSExchange(t *testing.T) {
	checkGoroutines(t)
	p := newPKI(t, "wraft test CA", 1, 2, 3)
	nodes := newCluster(t, 3, func(id uint64, c *transport.Config) { c.TLS = p.config(t, id) })
	for _, a := range nodes {
		for _, b := range nodes {
			a.tr.Send(msg(a.id, b.id, 1))
		}
	}
	for _, b := range nodes {
		waitFor(t, "messages over TLS", func() bool { return b.inbox.len() == 2 })
	}
	if !nodes[0].logs.contains("listening", "tls=true") {
		t.Errorf("logs do not say TLS is on:\n%s", nodes[0].logs)
	}
}

// TestTLSOtherCA runs node 2 with a certificate from another CA.
func TestTLSOtherCA(t *testing.T) {
	checkGoroutines(t)
	good := newPKI(t, "wraft test CA", 1)
	other := newPKI(t, "rogue CA", 2)
	nodes := newCluster(t, 2, func(id uint64, c *transport.Config) {
		if id == 1 {
			c.TLS = good.config(t, id)
		} else {
			c.TLS = other.config(t, id)
		}
	})
	a, b := nodes[0], nodes[1]
	b.tr.Send(msg(2, 1, 1))
	a.tr.Send(msg(1, 2, 1))
	waitFor(t, "refusals on both sides", func() bool { return a.tr.Stats().Refused >= 1 && b.tr.Stats().Refused >= 1 })
	if a.inbox.len()+b.inbox.len() != 0 {
		t.Error("a message crossed between CAs")
	}
	if !a.logs.contains("level=WARN", "refused connection", "TLS handshake", "certificate") {
		t.Errorf("node 1's logs lack the refusal:\n%s", a.logs)
	}
	waitFor(t, "node 1's failed dial", func() bool {
		return a.logs.contains("level=WARN", "cannot connect to peer", "peer=2", "certificate signed by unknown authority")
	})
}

// tlsClient dials addr with the given certificate, trusting good's CA.
func tlsClient(t *testing.T, addr string, cert transporttest.Files, good *pki, serverName string) net.Conn {
	t.Helper()
	c, err := transport.LoadTLS(cert.Cert, cert.Key, good.files[1].CA)
	if err != nil {
		t.Fatal(err)
	}
	c.ServerName = serverName
	conn, err := tls.Dial("tcp", addr, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestTLSRefusals(t *testing.T) {
	good := newPKI(t, "wraft test CA", 1, 2, 3)
	other := newPKI(t, "rogue CA", 2)
	unnamed := good.ca
	certPEM, keyPEM, err := unnamed.Issue("node-2") // CommonName only
	if err != nil {
		t.Fatal(err)
	}
	cnOnly := transporttest.Files{Cert: filepath.Join(t.TempDir(), "cn.crt"), Key: filepath.Join(t.TempDir(), "cn.key")}
	os.WriteFile(cnOnly.Cert, certPEM, 0o644)
	os.WriteFile(cnOnly.Key, keyPEM, 0o600)

	tests := []struct {
		name string
		cert transporttest.Files
		from uint64
		log  string
	}{
		{"other CA", other.files[2], 2, "TLS handshake"},
		{"claims another member", good.files[3], 2, "client certificate does not name node-2"},
		{"common name only", cnOnly, 2, "client certificate does not name node-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9", 3: "127.0.0.1:9"}, func(c *transport.Config) { c.TLS = good.config(t, 1) })
			conn := tlsClient(t, a.addr, tt.cert, good, "node-1")
			if answer := rawHello(t, conn, tt.from, 1); len(answer) != 0 {
				t.Errorf("hello answered with % x", answer)
			}
			waitFor(t, "the refusal", func() bool { return a.tr.Stats().Refused == 1 })
			if !a.logs.contains("level=WARN", "refused connection", "remote="+conn.LocalAddr().String(), tt.log) {
				t.Errorf("logs lack a warning with the remote address and %q:\n%s", tt.log, a.logs)
			}
		})
	}

	t.Run("plain TCP", func(t *testing.T) {
		checkGoroutines(t)
		a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, func(c *transport.Config) { c.TLS = good.config(t, 1) })
		conn := dial(t, a.addr)
		rawHello(t, conn, 2, 1)
		waitFor(t, "the refusal", func() bool { return a.tr.Stats().Refused == 1 })
		if !a.logs.contains("refused connection", "TLS handshake") {
			t.Errorf("logs lack the refusal:\n%s", a.logs)
		}
	})

	t.Run("valid client accepted", func(t *testing.T) {
		checkGoroutines(t)
		a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9"}, func(c *transport.Config) { c.TLS = good.config(t, 1) })
		conn := tlsClient(t, a.addr, good.files[2], good, "node-1")
		if answer := rawHello(t, conn, 2, 1); len(answer) == 0 {
			t.Fatalf("hello refused:\n%s", a.logs)
		}
		conn.Write(messageFrame(msg(2, 1, 1)))
		waitFor(t, "the message", func() bool { return a.inbox.len() == 1 })
	})
}

// TestTLSWrongListener points node 1 at node 3's address for node 2: the
// dialler must notice that the certificate names another node.
func TestTLSWrongListener(t *testing.T) {
	checkGoroutines(t)
	p := newPKI(t, "wraft test CA", 1, 3)
	c := startNode(t, 3, listen(t), map[uint64]string{1: "127.0.0.1:9"}, func(c *transport.Config) { c.TLS = p.config(t, 3) })
	a := startNode(t, 1, listen(t), map[uint64]string{2: c.addr}, func(cfg *transport.Config) { cfg.TLS = p.config(t, 1) })
	a.tr.Send(msg(1, 2, 1))
	waitFor(t, "the failed dial", func() bool { return a.logs.contains("level=WARN", "cannot connect to peer", "peer=2", "not node-2") })
	if a.peerStats(t, 2).Connected {
		t.Error("connected to the wrong node")
	}
}

func TestTLSConfigErrors(t *testing.T) {
	p := newPKI(t, "wraft test CA", 1, 2)
	deliver := func(raft.Message) {}
	tests := []struct {
		name string
		tls  func() *tls.Config
		want string
	}{
		{"certificate of another node", func() *tls.Config { return p.config(t, 2) }, "own certificate does not name node-1"},
		{"no CA", func() *tls.Config { c := p.config(t, 1); c.RootCAs, c.ClientCAs = nil, nil; return c }, "no CA pool"},
		{"no certificate", func() *tls.Config { c := p.config(t, 1); c.Certificates = nil; return c }, "no certificate"},
		{"insecure", func() *tls.Config { c := p.config(t, 1); c.InsecureSkipVerify = true; return c }, "InsecureSkipVerify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := transport.New(transport.Config{ID: 1, Listen: "127.0.0.1:0", TLS: tt.tls()}, deliver)
			if err == nil {
				tr.Close()
				t.Fatalf("have nil error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("have %q, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadTLSErrors(t *testing.T) {
	p := newPKI(t, "wraft test CA", 1, 2)
	f1, f2 := p.files[1], p.files[2]
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not PEM"), 0o644)
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name          string
		cert, key, ca string
		want          string
	}{
		{"missing certificate", missing, f1.Key, f1.CA, "load certificate " + missing},
		{"mismatched key", f1.Cert, f2.Key, f1.CA, "private key does not match public key"},
		{"missing CA", f1.Cert, f1.Key, missing, "read CA file: open " + missing},
		{"CA without certificates", f1.Cert, f1.Key, garbage, "CA file " + garbage + " holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := transport.LoadTLS(tt.cert, tt.key, tt.ca)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "transport: ") {
				t.Errorf("have %v, want a transport error containing %q", err, tt.want)
			}
		})
	}
	c, err := transport.LoadTLS(f1.Cert, f1.Key, f1.CA)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientAuth != tls.RequireAndVerifyClientCert || c.MinVersion != tls.VersionTLS13 || c.RootCAs == nil || c.ClientCAs == nil || len(c.Certificates) != 1 {
		t.Errorf("LoadTLS: unexpected config %+v", c)
	}
}
