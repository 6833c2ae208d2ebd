// Package transporttest creates certificates for tests of wraft's mutual
// TLS: a throw-away CA and node certificates that follow package
// transport's naming convention, in memory or as the PEM files that
// transport.LoadTLS and the daemon's --tls-cert, --tls-key and --tls-ca
// flags read. Keys are ECDSA P-256; certificates are valid from an hour ago
// for a year. For tests only: nothing here is fit to secure a real cluster.
package transporttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/wraft/wraft/transport"
)

// CA is a certificate authority that issues node certificates.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// NewCA creates a self-signed CA whose subject's CommonName is name.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("transporttest: generate CA key: %w", err)
	}
	tmpl, err := template(name)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("transporttest: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("transporttest: parse CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, pem: pemBlock("CERTIFICATE", der)}, nil
}

// CertPEM returns the CA's certificate in PEM form: the contents of a CA
// file.
func (ca *CA) CertPEM() []byte { return ca.pem }

// Issue creates a key and a certificate signed by ca for both server and
// client authentication, with subject CommonName commonName and DNS
// subject alternative names dnsNames, and returns both in PEM form.
func (ca *CA) Issue(commonName string, dnsNames ...string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("transporttest: generate key: %w", err)
	}
	tmpl, err := template(commonName)
	if err != nil {
		return nil, nil, err
	}
	tmpl.DNSNames = dnsNames
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("transporttest: create certificate for %s: %w", commonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("transporttest: marshal key: %w", err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

// IssueNode issues the certificate of node id: CommonName and DNS name
// transport.NodeName(id).
func (ca *CA) IssueNode(id uint64) (certPEM, keyPEM []byte, err error) {
	name := transport.NodeName(id)
	return ca.Issue(name, name)
}

// Files are the paths of a node's PEM files.
type Files struct {
	Cert, Key, CA string
}

// WriteNode issues node id's certificate and writes it, its key and ca's
// certificate into dir as node-<id>.crt, node-<id>.key and ca.crt, for
// transport.LoadTLS or the daemon's flags.
func (ca *CA) WriteNode(dir string, id uint64) (Files, error) {
	certPEM, keyPEM, err := ca.IssueNode(id)
	if err != nil {
		return Files{}, err
	}
	name := transport.NodeName(id)
	f := Files{
		Cert: filepath.Join(dir, name+".crt"),
		Key:  filepath.Join(dir, name+".key"),
		CA:   filepath.Join(dir, "ca.crt"),
	}
	for _, w := range []struct {
		path string
		data []byte
		perm os.FileMode
	}{{f.Cert, certPEM, 0o644}, {f.Key, keyPEM, 0o600}, {f.CA, ca.pem, 0o644}} {
		if err := os.WriteFile(w.path, w.data, w.perm); err != nil {
			return Files{}, fmt.Errorf("transporttest: %w", err)
		}
	}
	return f, nil
}

func template(commonName string) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("transporttest: serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
	}, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
