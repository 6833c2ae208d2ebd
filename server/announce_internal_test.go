package server

import (
	"strings"
	"testing"

	"github.com/wraft/wraft/wire"
)

// TestAdvertisedAPI: the API URL a node announces is one its peers can
// reach, or none.
func TestAdvertisedAPI(t *testing.T) {
	for _, tc := range []struct {
		apiURL, configured, peer, want string
	}{
		{"http://127.0.0.1:8001", "", "127.0.0.1:7001", "http://127.0.0.1:8001"},
		{"http://127.0.0.1:8001", "", "localhost:7001", "http://127.0.0.1:8001"},
		{"http://127.0.0.1:8001", "", "10.0.0.1:7001", ""},
		{"http://127.0.0.1:8001", "", "pi1.local:7001", ""},
		{"http://10.0.0.1:8001", "", "10.0.0.1:7001", "http://10.0.0.1:8001"},
		{"http://0.0.0.0:8001", "", "10.0.0.1:7001", "http://10.0.0.1:8001"},
		{"http://[::]:8001", "", "pi1.local:7001", "http://pi1.local:8001"},
		{"http://[::]:8001", "", ":7001", ""},
		{"http://0.0.0.0:8001", "", "0.0.0.0:7001", ""},
		{"https://api.example:443", "https://api.example:443", "0.0.0.0:7001", "https://api.example:443"},
	} {
		n := &Node{cfg: Config{ID: 1, Peers: map[uint64]string{1: tc.peer}, APIURL: tc.configured}, apiURL: tc.apiURL}
		if have := n.advertisedAPI(); have != tc.want {
			t.Errorf("API %s, peer address %s: have %q, want %q", tc.apiURL, tc.peer, have, tc.want)
		}
	}
}

// TestCheckAnnounced: an API URL a member announced is recorded only if
// it is an http or https URL as POST /v1/members would store it, and the
// member's Addr stays within wire.MaxAddrBytes.
func TestCheckAnnounced(t *testing.T) {
	long := "http://" + strings.Repeat("a", wire.MaxAddrBytes)
	for _, tc := range []struct {
		raft, api string
		ok        bool
	}{
		{"10.0.0.1:7001", "http://10.0.0.1:8001", true},
		{"10.0.0.1:7001", "https://n1.example:8443", true},
		{"10.0.0.1:7001", "https://n1.example/prefix", true},
		{"", "http://10.0.0.1:8001", false},
		{"10.0.0.1:7001", "10.0.0.1:8001", false},
		{"10.0.0.1:7001", "ftp://10.0.0.1:8001", false},
		{"10.0.0.1:7001", "http://", false},
		{"10.0.0.1:7001", "http://10.0.0.1:8001/", false},
		{"10.0.0.1:7001", "http://10.0.0.1:8001 raft=1.2.3.4:5", false},
		{"10.0.0.1:7001", "http://10.0.0.1:8001\n", false},
		{"10.0.0.1:7001", "http://nœud:8001", false},
		{"10.0.0.1:7001", "http://%zz", false},
		{"10.0.0.1:7001", long, false},
	} {
		err := checkAnnounced(tc.raft, tc.api, FormatAddr(tc.raft, tc.api))
		if (err == nil) != tc.ok {
			t.Errorf("raft %q, api %q: have %v, want ok %v", tc.raft, tc.api, err, tc.ok)
		}
	}
}
