package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A peer's identity is the node id its certificate names: the one DNS
// subject alternative name of the form NodeName(id), "node-<id>", matched
// exactly (a wildcard such as "*" names no node). A certificate that names
// no node, or more than one, identifies no one: one shared certificate for
// every node would let any holder claim any id. The CA that signs the
// certificates must be the cluster's own (see wraft certs): any
// certificate it signs is believed.

// NodeIdentity returns the id that name, a DNS name, gives a node:
// 3 for "node-3" (or, as DNS names ignore case, "NODE-3"). Only
// NodeName's spelling of the id counts: "node-03" is no node's name.
func NodeIdentity(name string) (uint64, error) {
	digits, ok := strings.CutPrefix(strings.ToLower(name), "node-")
	if !ok {
		return 0, fmt.Errorf("transport: %q is not a node name (node-<id>)", name)
	}
	id, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || id == 0 || NodeName(id) != strings.ToLower(name) {
		return 0, fmt.Errorf("transport: %q is not a node name (node-<id>)", name)
	}
	return id, nil
}

// CertIdentity returns the node id that cert names, or an error if it
// names none or more than one.
func CertIdentity(cert *x509.Certificate) (uint64, error) {
	var id uint64
	for _, name := range cert.DNSNames {
		n, err := NodeIdentity(name)
		if err != nil {
			continue
		}
		if id != 0 && n != id {
			return 0, fmt.Errorf("transport: certificate names both %s and %s; it must name exactly one node",
				NodeName(min(id, n)), NodeName(max(id, n)))
		}
		id = n
	}
	if id == 0 {
		return 0, errors.New("transport: certificate names no node (it needs the DNS name node-<id>)")
	}
	return id, nil
}

// PeerIdentity returns the node id that the peer's verified certificate
// in cs names. It fails if the handshake verified no certificate (cs of a
// plain TLS client, or of a config that skips verification).
func PeerIdentity(cs tls.ConnectionState) (uint64, error) {
	if len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return 0, errors.New("transport: no verified peer certificate")
	}
	return CertIdentity(cs.PeerCertificates[0])
}

// CheckPeerIdentity checks that the peer's verified certificate in cs is
// node id's.
func CheckPeerIdentity(cs tls.ConnectionState, id uint64) error {
	have, err := PeerIdentity(cs)
	if err != nil {
		return err
	}
	if have != id {
		return fmt.Errorf("transport: the certificate is %s's, not %s's", NodeName(have), NodeName(id))
	}
	return nil
}

// verifyServerIdentity is the dialling side's tls.Config.VerifyConnection:
// the listener's certificate must be that of the node dialled, whose
// NodeName is the connection's ServerName.
func verifyServerIdentity(cs tls.ConnectionState) error {
	want, err := NodeIdentity(cs.ServerName)
	if err != nil {
		return fmt.Errorf("transport: dialled %q, not a node", cs.ServerName)
	}
	if err := CheckPeerIdentity(cs, want); err != nil {
		// A verification failure, as a failed chain is.
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates,
			Err: fmt.Errorf("transport: listener is not %s: %w", cs.ServerName, err)}
	}
	return nil
}
