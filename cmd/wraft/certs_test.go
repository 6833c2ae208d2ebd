package main

import (
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wraft/wraft/transport"
)

// TestMakeCerts: wraft certs makes a CA and per-node files that the
// transport loads and whose identities are the nodes'; keys are 0600; a
// second run refuses to overwrite, and a later node is signed by the same
// CA.
func TestMakeCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if err := makeCerts(io.Discard, dir, "1,2,3", "1=pi1.local,1=10.0.0.11,2=pi2.local", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		perm os.FileMode
	}{{"ca.key", 0o600}, {"ca.crt", 0o644}, {"node-1/node.key", 0o600}, {"node-3/node.crt", 0o644}, {"node-2/ca.crt", 0o644}} {
		st, err := os.Stat(filepath.Join(dir, f.path))
		if err != nil || st.Mode().Perm() != f.perm {
			t.Errorf("%s: %v, %v; want mode %v", f.path, st.Mode(), err, f.perm)
		}
	}
	leaf := func(id uint64) *x509.Certificate {
		t.Helper()
		nd := filepath.Join(dir, transport.NodeName(id))
		c, err := transport.LoadTLS(filepath.Join(nd, "node.crt"), filepath.Join(nd, "node.key"), filepath.Join(dir, "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		l, err := x509.ParseCertificate(c.Certificates[0].Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Verify(x509.VerifyOptions{Roots: c.RootCAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("node %d: %v", id, err)
		}
		return l
	}
	for id := uint64(1); id <= 3; id++ {
		if have, err := transport.CertIdentity(leaf(id)); err != nil || have != id {
			t.Errorf("node %d's certificate is node %d's (%v)", id, have, err)
		}
	}
	if err := leaf(1).VerifyHostname("10.0.0.11"); err != nil {
		t.Error(err)
	}
	err := makeCerts(io.Discard, dir, "3", "", time.Now())
	if want := "node-3/node.crt exists"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("second run: %v, want an error containing %q", err, want)
	}
	if err := makeCerts(io.Discard, dir, "4", "4=10.0.0.14", time.Now()); err != nil {
		t.Fatal(err)
	}
	_ = leaf(4) // verified against the first run's ca.crt
}

func TestMakeCertsBadFlags(t *testing.T) {
	for _, tc := range []struct{ nodes, hosts, want string }{
		{"", "", "--nodes is required"},
		{"1,x", "", `--nodes: member id "x" is not a non-zero integer`},
		{"1,1", "", "node 1 is listed twice"},
		{"1", "2=pi2", "node 2 is not among --nodes"},
		{"1", "1=pi1:7001", `"1=pi1:7001" is not id=host`},
		{"1", "1=node-2", `host "node-2" would name a second node`},
	} {
		err := makeCerts(io.Discard, t.TempDir(), tc.nodes, tc.hosts, time.Now())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--nodes %q --hosts %q: %v, want an error containing %q", tc.nodes, tc.hosts, err, tc.want)
		}
	}
}
