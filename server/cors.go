package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/wraft/wraft/api"
)

// DefaultCORSOrigins are the browser origins a node lets call its API when
// Config.CORSOrigins is nil: the dashboard `wraft demo` serves.
var DefaultCORSOrigins = []string{"http://127.0.0.1:8080", "http://localhost:8080"}

// normalizeOrigins checks a list of browser origins ("http://host:port")
// and returns them in the form browsers send in the Origin header.
func normalizeOrigins(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, o := range list {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			return nil, fmt.Errorf("server: CORS origin * would let every web page call the API; list the dashboard's origins (http://host:port)")
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("server: CORS origin %q is not an origin (http://host:port)", o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// corsHeaders are the request headers a dashboard may send.
var corsHeaders = strings.Join([]string{"Authorization", "Content-Type", api.HeaderClient, api.HeaderSeq}, ", ")

// cors lets the dashboards served from the listed origins call the API,
// and no other web page: a request with an Origin header not listed is
// refused (403) before it reaches a handler, reads included (the API
// answers no page of its own, so every browser request to it comes from
// elsewhere, DNS rebinding included). Requests without an Origin (curl,
// the CLI, other nodes) pass.
func (n *Node) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		if !slices.Contains(n.cfg.CORSOrigins, strings.ToLower(origin)) {
			n.log.Debug("refused a request from a web page of another origin", "origin", origin, "method", r.Method, "path", r.URL.Path)
			writeJSON(w, http.StatusForbidden, api.Reply{Code: "forbidden",
				Error: "server: web pages at " + origin + " may not call this API (start the node with --cors-origin " + origin + " to allow it)"})
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE")
			w.Header().Set("Access-Control-Allow-Headers", corsHeaders)
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}
