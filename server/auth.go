package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wraft/wraft/api"
)

// AdminTokenFile is the file in the data directory that holds the admin
// token of a node started without one: generated on its first start (or
// taken from Config.JoinToken when it joins), readable by its owner only.
const AdminTokenFile = "admin-token"

// maxTokenBytes bounds an admin token, given or read from AdminTokenFile.
const maxTokenBytes = 1 << 10

// ReadAdminToken reads the admin token a node keeps in dataDir (see
// AdminTokenFile).
func ReadAdminToken(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, AdminTokenFile))
	if err != nil {
		return "", fmt.Errorf("server: read the admin token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if err := checkToken(tok); err != nil {
		return "", fmt.Errorf("server: %s: %w", filepath.Join(dataDir, AdminTokenFile), err)
	}
	return tok, nil
}

// checkToken reports whether tok can be an admin token: not empty, at most
// maxTokenBytes, printable ASCII without spaces (it travels in a header).
func checkToken(tok string) error {
	if tok == "" {
		return errors.New("server: the admin token is empty")
	}
	if len(tok) > maxTokenBytes {
		return fmt.Errorf("server: the admin token is too long (%d > %d bytes)", len(tok), maxTokenBytes)
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return errors.New("server: the admin token must be printable ASCII without spaces")
		}
	}
	return nil
}

// resolveAdminToken sets c.AdminToken: the one given; else the one kept
// in the data directory; else, for a node that joins, Config.JoinToken
// (the cluster's), kept; else a new random one, kept. It reports whether
// the token is new, so that the caller can show it once.
func (c *Config) resolveAdminToken() (created bool, err error) {
	if c.AdminToken != "" {
		return false, checkToken(c.AdminToken)
	}
	tok, err := ReadAdminToken(c.DataDir)
	if err == nil {
		c.AdminToken = tok
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	tok = c.JoinToken
	if tok == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return false, fmt.Errorf("server: generate an admin token: %w", err)
		}
		tok = hex.EncodeToString(b)
	}
	if err := checkToken(tok); err != nil {
		return false, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return false, fmt.Errorf("server: create the data directory: %w", err)
	}
	path := filepath.Join(c.DataDir, AdminTokenFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("server: keep the admin token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("server: keep the admin token: %w", err)
	}
	c.AdminToken = tok
	return true, nil
}

// authorized reports whether r carries "Authorization: Bearer <token>"
// with this node's admin token.
func (n *Node) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && n.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(n.cfg.AdminToken)) == 1
}

// mutating reports whether a request can change something.
func mutating(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// requireAdmin wraps the whole API: every request that can change
// something, except the key-value writes, needs the admin token. The rule
// holds for any route, so an admin endpoint added later is covered
// without being listed here. A browser cannot send the Authorization
// header cross-origin without a preflight, which CORS refuses to origins
// not listed, so a page elsewhere cannot reach these routes either.
func (n *Node) requireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mutating(r) && !strings.HasPrefix(r.URL.Path, "/v1/kv/") && !n.authorized(r) {
			n.log.Debug("refused a request without the admin token", "method", r.Method, "path", r.URL.Path, "from", r.RemoteAddr)
			writeJSON(w, http.StatusUnauthorized, api.Reply{Code: "unauthorized", Error: "server: " + r.Method + " " + r.URL.Path +
				" needs the admin token: Authorization: Bearer <token>, with the node's --admin-token or the one it keeps in DATA/" + AdminTokenFile})
			return
		}
		h.ServeHTTP(w, r)
	})
}
