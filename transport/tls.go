package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// NodeName returns the name that a node's certificate must carry as a DNS
// subject alternative name: "node-" and the id in decimal, such as
// "node-3".
func NodeName(id uint64) string { return "node-" + strconv.FormatUint(id, 10) }

// LoadTLS builds a Config.TLS from PEM files: the node's certificate chain
// (certFile) and private key (keyFile), and the certificates of the CA that
// issues the cluster's node certificates (caFile), which it trusts both to
// verify listeners it dials and to verify clients it accepts. It requires
// TLS 1.3 and client certificates. Errors name the file at fault.
func LoadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("transport: load certificate %s and key %s: %w", certFile, keyFile, err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("transport: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("transport: CA file %s holds no PEM certificate", caFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// checkTLS checks that c can secure node id's connections.
func checkTLS(c *tls.Config, id uint64) error {
	if c.InsecureSkipVerify {
		return errors.New("transport: TLS config skips verification (InsecureSkipVerify)")
	}
	if c.RootCAs == nil && c.ClientCAs == nil {
		return errors.New("transport: TLS config has no CA pool (RootCAs or ClientCAs)")
	}
	if len(c.Certificates) == 0 || len(c.Certificates[0].Certificate) == 0 {
		return errors.New("transport: TLS config has no certificate")
	}
	leaf := c.Certificates[0].Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificates[0].Certificate[0]); err != nil {
			return fmt.Errorf("transport: parse own certificate: %w", err)
		}
	}
	have, err := CertIdentity(leaf)
	if err != nil {
		return fmt.Errorf("transport: own certificate does not name %s: %w", NodeName(id), err)
	}
	if have != id {
		return fmt.Errorf("transport: own certificate does not name %s: it is %s's", NodeName(id), NodeName(have))
	}
	return nil
}

// serverTLS derives the listening side's config from c.
func serverTLS(c *tls.Config) *tls.Config {
	s := c.Clone()
	s.ClientAuth = tls.RequireAndVerifyClientCert
	if s.ClientCAs == nil {
		s.ClientCAs = s.RootCAs
	}
	return s
}

// clientTLS derives the dialling side's config from c; dial sets
// ServerName per peer, and the listener's certificate must name that
// node and no other (verifyServerIdentity), after any check c has.
func clientTLS(c *tls.Config) *tls.Config {
	s := c.Clone()
	if s.RootCAs == nil {
		s.RootCAs = s.ClientCAs
	}
	own := s.VerifyConnection
	s.VerifyConnection = func(cs tls.ConnectionState) error {
		if own != nil {
			if err := own(cs); err != nil {
				return err
			}
		}
		return verifyServerIdentity(cs)
	}
	return s
}

// checkClientCert checks that the verified client certificate of cs is
// node id's, the node its hello claims to be (CheckPeerIdentity).
func checkClientCert(cs tls.ConnectionState, id uint64) error {
	if err := CheckPeerIdentity(cs, id); err != nil {
		return fmt.Errorf("transport: client certificate does not name %s: %w", NodeName(id), err)
	}
	return nil
}
