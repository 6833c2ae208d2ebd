package server

import "testing"

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
