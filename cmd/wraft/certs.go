package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wraft/wraft/internal/certs"
	"github.com/wraft/wraft/transport"
)

func certsCmd() *cobra.Command {
	var dir, nodes, hosts string
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Make a CA and the nodes' certificates for mutual TLS between peers",
		Long: `Make the certificates of a cluster's mutual TLS: a CA of your own (DIR/ca.crt, and
DIR/ca.key, which stays on this machine) and, for each node, DIR/node-<id>/ with
node.crt, node.key and a copy of ca.crt: what deploy/install.sh -t takes and what
wraft node --tls-cert, --tls-key and --tls-ca read.

A node's certificate names its id (the DNS name node-<id>, which peers check against
the id a connection claims), the hosts given for it with --hosts, and localhost,
127.0.0.1 and ::1. If DIR already holds a CA, it signs the new certificates (to add a
node later); existing files are never overwritten.`,
		Example: `  wraft certs --dir certs --nodes 1,2,3 --hosts 1=pi1.local,2=pi2.local,3=pi3.local
  # later, a fourth node, signed by the same CA:
  wraft certs --dir certs --nodes 4 --hosts 4=10.0.0.14`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return makeCerts(cmd.OutOrStdout(), dir, nodes, hosts, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "dir", "certs", "directory to write to")
	fl.StringVar(&nodes, "nodes", "", "node ids to make certificates for: 1,2,3")
	fl.StringVar(&hosts, "hosts", "", "extra host names or addresses per node: id=host,... (an id may repeat)")
	return cmd
}

// makeCerts writes the CA (unless dir holds one) and the certificates of
// the nodes listed, refusing before it writes anything if a file exists.
func makeCerts(out io.Writer, dir, nodesFlag, hostsFlag string, now time.Time) error {
	ids, err := parseNodes(nodesFlag)
	if err != nil {
		return err
	}
	hosts, err := parseHosts(hostsFlag, ids)
	if err != nil {
		return err
	}
	caCert, caKey := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	for _, id := range ids {
		for _, name := range []string{"node.crt", "node.key", "ca.crt"} {
			if p := filepath.Join(dir, transport.NodeName(id), name); exists(p) {
				return fmt.Errorf("certs: %s exists; remove it first to make node %d's certificate again", p, id)
			}
		}
	}
	ca, made, err := loadOrMakeCA(caCert, caKey, now)
	if err != nil {
		return err
	}
	if made {
		keyPEM, err := ca.KeyPEM()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("certs: %w", err)
		}
		if err := writeNew(caKey, keyPEM, 0o600); err != nil {
			return err
		}
		if err := writeNew(caCert, ca.CertPEM, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "✓ CA %s (its key %s stays here, off the nodes)\n", caCert, caKey)
	} else {
		fmt.Fprintf(out, "✓ using the CA in %s\n", caCert)
	}
	for _, id := range ids {
		certPEM, keyPEM, err := ca.Issue(id, hosts[id], now)
		if err != nil {
			return err
		}
		nd := filepath.Join(dir, transport.NodeName(id))
		if err := os.MkdirAll(nd, 0o755); err != nil {
			return fmt.Errorf("certs: %w", err)
		}
		for _, f := range []struct {
			name string
			data []byte
			perm fs.FileMode
		}{{"node.key", keyPEM, 0o600}, {"node.crt", certPEM, 0o644}, {"ca.crt", ca.CertPEM, 0o644}} {
			if err := writeNew(filepath.Join(nd, f.name), f.data, f.perm); err != nil {
				return err
			}
		}
		names := append([]string{transport.NodeName(id)}, hosts[id]...)
		fmt.Fprintf(out, "✓ node %d: %s/{node.crt,node.key,ca.crt} for %s\n", id, nd, strings.Join(names, ", "))
	}
	fmt.Fprintf(out, "Give each node its directory: wraft node --tls-cert node.crt --tls-key node.key --tls-ca ca.crt "+
		"(deploy/install.sh -t %s installs them)\n", filepath.Join(dir, "node-<id>"))
	return nil
}

// loadOrMakeCA loads the CA at certPath and keyPath, or makes one if
// neither exists; it reports whether it made it.
func loadOrMakeCA(certPath, keyPath string, now time.Time) (*certs.CA, bool, error) {
	switch c, k := exists(certPath), exists(keyPath); {
	case !c && !k:
		ca, err := certs.NewCA("wraft CA", now)
		return ca, true, err
	case c != k:
		return nil, false, fmt.Errorf("certs: %s and %s go together, and only one exists", certPath, keyPath)
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, false, fmt.Errorf("certs: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, false, fmt.Errorf("certs: %w", err)
	}
	ca, err := certs.LoadCA(certPEM, keyPEM)
	if err != nil {
		return nil, false, fmt.Errorf("%w (%s, %s)", err, certPath, keyPath)
	}
	return ca, false, nil
}

// parseNodes parses --nodes: "1,2,3".
func parseNodes(s string) ([]uint64, error) {
	ids, err := parseIDs("--nodes", s)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errors.New("--nodes is required (such as 1,2,3)")
	}
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			return nil, fmt.Errorf("--nodes: node %d is listed twice", id)
		}
	}
	return ids, nil
}

// parseHosts parses --hosts: "1=pi1.local,1=10.0.0.11,2=pi2.local", for
// nodes among ids.
func parseHosts(s string, ids []uint64) (map[uint64][]string, error) {
	hosts := map[uint64][]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		idStr, host, ok := strings.Cut(part, "=")
		id, err := strconv.ParseUint(idStr, 10, 64)
		if !ok || err != nil || host == "" || strings.ContainsAny(host, " /=") || strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return nil, fmt.Errorf("--hosts: %q is not id=host (a name or an address, no port)", part)
		}
		if !slices.Contains(ids, id) {
			return nil, fmt.Errorf("--hosts: node %d is not among --nodes", id)
		}
		hosts[id] = append(hosts[id], host)
	}
	return hosts, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}
