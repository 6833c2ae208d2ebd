package transport_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wraft/wraft/internal/certs"
	"github.com/wraft/wraft/raft"
	"github.com/wraft/wraft/transport"
	"github.com/wraft/wraft/transport/transporttest"
)

// idPKI is a CA made by package certs (the code behind `wraft certs`) and
// the files of the certificates it issued.
type idPKI struct {
	ca  *certs.CA
	dir string
}

func newIDPKI(t *testing.T) *idPKI {
	t.Helper()
	ca, err := certs.NewCA("wraft test CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := &idPKI{ca: ca, dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(p.dir, "ca.crt"), ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// write stores a certificate and key as name.crt and name.key.
func (p *idPKI) write(t *testing.T, name string, certPEM, keyPEM []byte) transporttest.Files {
	t.Helper()
	f := transporttest.Files{Cert: filepath.Join(p.dir, name+".crt"), Key: filepath.Join(p.dir, name+".key"),
		CA: filepath.Join(p.dir, "ca.crt")}
	if err := os.WriteFile(f.Cert, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// node issues node id's certificate as `wraft certs` does.
func (p *idPKI) node(t *testing.T, id uint64, hosts ...string) transporttest.Files {
	t.Helper()
	certPEM, keyPEM, err := p.ca.Issue(id, hosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, transport.NodeName(id), certPEM, keyPEM)
}

// crafted issues, with the same CA, a certificate with the DNS names
// given, which package certs would not make.
func (p *idPKI) crafted(t *testing.T, name string, dnsNames ...string) transporttest.Files {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: dnsNames,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca.Cert, &key.PublicKey, p.ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func loadTLS(t *testing.T, f transporttest.Files) *tls.Config {
	t.Helper()
	c, err := transport.LoadTLS(f.Cert, f.Key, f.CA)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTLSPeerIdentity: a listener admits a dialler only if its certificate
// names exactly the node its hello claims to be: not another node's valid
// certificate, not a wildcard, not a certificate that names two nodes.
// (The certificate that names two nodes passed the host name check the
// transport made before it compared identities exactly.)
func TestTLSPeerIdentity(t *testing.T) {
	p := newIDPKI(t)
	one := p.node(t, 1, "pi1.local", "10.0.0.11")
	tests := []struct {
		name  string
		cert  transporttest.Files
		claim uint64
		log   string // "" for admitted
	}{
		{"valid certificate of node 2 claims node 3", p.node(t, 2), 3, "the certificate is node-2's, not node-3's"},
		{"wildcard claims node 3", p.crafted(t, "wild", "node-2", "*"), 3, "the certificate is node-2's, not node-3's"},
		{"wildcard alone claims node 3", p.crafted(t, "wild-only", "*"), 3, "certificate names no node"},
		{"two nodes' names claim one of them", p.crafted(t, "both", "node-2", "node-3"), 3, "names both node-2 and node-3"},
		{"near miss claims node 3", p.crafted(t, "zero", "node-03"), 3, "certificate names no node"},
		{"valid certificate of node 3 claims node 3", p.node(t, 3, "pi3.local"), 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			a := startNode(t, 1, listen(t), map[uint64]string{2: "127.0.0.1:9", 3: "127.0.0.1:9"},
				func(c *transport.Config) { c.TLS = loadTLS(t, one) })
			conn := identityClient(t, a.addr, tt.cert, "node-1")
			answer := rawHello(t, conn, tt.claim, 1)
			if tt.log == "" {
				if len(answer) == 0 {
					t.Fatalf("hello refused:\n%s", a.logs)
				}
				return
			}
			if len(answer) != 0 {
				t.Errorf("hello answered with % x", answer)
			}
			waitFor(t, "the refusal", func() bool { return a.tr.Stats().Refused == 1 })
			if !a.logs.contains("level=WARN", "refused connection", "client certificate does not name node-3", tt.log) {
				t.Errorf("logs lack a warning with %q:\n%s", tt.log, a.logs)
			}
		})
	}
}

// identityClient dials addr with TLS, presenting cert and trusting its CA.
func identityClient(t *testing.T, addr string, cert transporttest.Files, serverName string) *tls.Conn {
	t.Helper()
	c := loadTLS(t, cert)
	c.ServerName = serverName
	conn, err := tls.Dial("tcp", addr, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestTLSListenerIdentity: a dialler refuses a listener whose certificate
// names the node dialled and another.
func TestTLSListenerIdentity(t *testing.T) {
	checkGoroutines(t)
	p := newIDPKI(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", loadTLS(t, p.crafted(t, "both", "node-3", "node-2")))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	a := startNode(t, 1, listen(t), map[uint64]string{2: ln.Addr().String()},
		func(c *transport.Config) { c.TLS = loadTLS(t, p.node(t, 1)) })
	a.tr.Send(msg(1, 2, 1))
	waitFor(t, "the failed dial", func() bool {
		return a.logs.contains("level=WARN", "cannot connect to peer", "peer=2", "listener is not node-2", "names both node-2 and node-3")
	})
	if a.peerStats(t, 2).Connected {
		t.Error("connected to a listener that names two nodes")
	}
}

// TestTLSOwnIdentity: a node refuses to start with a certificate that
// names two nodes.
func TestTLSOwnIdentity(t *testing.T) {
	p := newIDPKI(t)
	_, err := transport.New(transport.Config{ID: 1, Listen: "127.0.0.1:0", TLS: loadTLS(t, p.crafted(t, "both", "node-1", "node-2"))},
		func(raft.Message) {})
	if want := "names both node-1 and node-2"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("transport.New: have %v, want an error containing %q", err, want)
	}
}

func TestNodeIdentity(t *testing.T) {
	for name, want := range map[string]uint64{"node-1": 1, "node-18446744073709551615": 1<<64 - 1, "NODE-7": 7} {
		if id, err := transport.NodeIdentity(name); err != nil || id != want {
			t.Errorf("NodeIdentity(%q) = %d, %v; want %d", name, id, err, want)
		}
	}
	for _, name := range []string{"node-0", "node-01", "node-", "node-x", "node--1", "*", "node-1.local", "pi1", ""} {
		if id, err := transport.NodeIdentity(name); err == nil {
			t.Errorf("NodeIdentity(%q) = %d, want an error", name, id)
		}
	}
}
