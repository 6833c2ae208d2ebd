package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProcessTLS (issue 16 item 6): three nodes on the certificates that
// `wraft certs` makes talk mutual TLS and commit writes; a node started
// with another node's certificate refuses to start.
func TestProcessTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("process tests are not short")
	}
	certs := filepath.Join(t.TempDir(), "certs")
	if out, err := exec.Command(bins.wraft, "certs", "--dir", certs, "--nodes", "1,2,3").CombinedOutput(); err != nil {
		t.Fatalf("wraft certs: %v\n%s", err, out)
	}
	tlsFlags := func(certID, id int) []string {
		nd := filepath.Join(certs, fmt.Sprintf("node-%d", certID))
		return []string{"--tls-cert", filepath.Join(nd, "node.crt"), "--tls-key", filepath.Join(nd, "node.key"),
			"--tls-ca", filepath.Join(nd, "ca.crt")}
	}
	c := newClusterNoPeerAPIs(t, "native", func(id int) []string { return tlsFlags(id, id) })
	c.leader(0)
	c.set("secret", "1")
	c.get("secret", "1")
	for id := 1; id <= 3; id++ {
		if log := c.log(id); !strings.Contains(log, "tls=true") {
			t.Errorf("node %d does not listen with TLS; log:\n%s", id, log)
		}
	}

	// Node 3's place, node 2's certificate.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"node", "--id", "3", "--peers", strings.Join(c.peers, ","), "--api", "127.0.0.1:0",
		"--data", t.TempDir(), "--core", "native"}, tlsFlags(2, 3)...)
	out, err := exec.CommandContext(ctx, bins.wraft, args...).CombinedOutput()
	if want := "own certificate does not name node-3"; err == nil || !strings.Contains(string(out), want) {
		t.Errorf("node 3 with node 2's certificate: %v, output:\n%s\nwant it to exit saying %q", err, out, want)
	}
}
