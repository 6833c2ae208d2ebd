package certs_test

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/internal/certs"
	"github.com/wraft/wraft/transport"
)

func parse(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	p, _ := pem.Decode(b)
	if p == nil {
		t.Fatalf("not PEM: %q", b)
	}
	c, err := x509.ParseCertificate(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A node certificate names its node and hosts, serves both ends of a
// connection and verifies against the CA, also after a reload of the CA.
func TestIssue(t *testing.T) {
	now := time.Now()
	ca, err := certs.NewCA("test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	again, err := certs.LoadCA(ca.CertPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _, err := again.Issue(3, []string{"pi3.local", "10.0.0.13", "127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	c := parse(t, certPEM)
	if id, err := transport.CertIdentity(c); err != nil || id != 3 {
		t.Errorf("identity %d, %v; want 3", id, err)
	}
	if want := []string{"node-3", "pi3.local", "localhost"}; !slices.Equal(c.DNSNames, want) {
		t.Errorf("DNS names %q, want %q", c.DNSNames, want)
	}
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"10.0.0.13", "127.0.0.1", "::1"}; !slices.Equal(ips, want) {
		t.Errorf("IP addresses %q, want %q", ips, want)
	}
	if c.Subject.CommonName != "wraft node 3" {
		t.Errorf("common name %q", c.Subject.CommonName)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parse(t, ca.CertPEM))
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: "node-3", KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("verify for usage %v: %v", usage, err)
		}
	}
	if err := c.VerifyHostname("10.0.0.13"); err != nil {
		t.Error(err)
	}
	if !c.NotAfter.After(now.Add(4 * 365 * 24 * time.Hour)) {
		t.Errorf("valid until %v only", c.NotAfter)
	}
}

func TestIssueRefuses(t *testing.T) {
	ca, err := certs.NewCA("test CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id    uint64
		hosts []string
		want  string
	}{
		{0, nil, "node id 0 is reserved"},
		{2, []string{"node-3"}, `host "node-3" would name a second node in node 2's certificate`},
		{2, []string{""}, `"" is not a host name`},
	} {
		if _, _, err := ca.Issue(tc.id, tc.hosts, time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Issue(%d, %q): %v, want an error containing %q", tc.id, tc.hosts, err, tc.want)
		}
	}
}

func TestLoadCARefuses(t *testing.T) {
	a, _ := certs.NewCA("a", time.Now())
	b, _ := certs.NewCA("b", time.Now())
	bKey, _ := b.KeyPEM()
	node, nodeKey, _ := a.Issue(1, nil, time.Now())
	for _, tc := range []struct {
		name      string
		cert, key []byte
		want      string
	}{
		{"another CA's key", a.CertPEM, bKey, "does not match"},
		{"a node certificate", node, nodeKey, "not a CA's"},
		{"garbage", []byte("x"), bKey, "not a PEM CERTIFICATE"},
		{"no key", a.CertPEM, nil, "not a PEM PRIVATE KEY"},
	} {
		if _, err := certs.LoadCA(tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
