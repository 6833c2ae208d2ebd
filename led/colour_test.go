package led

import (
	"testing"

	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

func status(role raft.Role, voters, alive int, leader uint64) engine.Status {
	var s engine.Status
	s.Role = role
	for i := 1; i <= voters; i++ {
		s.Voters = append(s.Voters, uint64(i))
	}
	s.Alive = alive
	s.Leader = leader
	return s
}

func TestColourFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    engine.Status
		up   bool
		want Colour
	}{
		{"leader with all alive", status(raft.RoleLeader, 3, 3, 1), true, Blue},
		{"leader with a bare quorum", status(raft.RoleLeader, 3, 2, 1), true, Blue},
		{"leader of five with a bare quorum", status(raft.RoleLeader, 5, 3, 1), true, Blue},
		{"leader without quorum", status(raft.RoleLeader, 3, 1, 1), true, Red},
		{"leader of five without quorum", status(raft.RoleLeader, 5, 2, 1), true, Red},
		{"single-node leader", status(raft.RoleLeader, 1, 1, 1), true, Blue},
		{"follower of a leader", status(raft.RoleFollower, 3, 2, 3), true, Green},
		{"follower of five (hears only the leader)", status(raft.RoleFollower, 5, 2, 3), true, Green},
		{"follower knowing no leader", status(raft.RoleFollower, 3, 1, 0), true, Red},
		{"candidate with a quorum", status(raft.RoleCandidate, 3, 2, 0), true, Yellow},
		{"pre-candidate with a quorum", status(raft.RolePreCandidate, 3, 3, 0), true, Yellow},
		{"candidate alone", status(raft.RoleCandidate, 3, 1, 0), true, Red},
		{"pre-candidate alone (lost quorum)", status(raft.RolePreCandidate, 3, 1, 0), true, Red},
		{"leader, node down", status(raft.RoleLeader, 3, 3, 1), false, Red},
		{"follower, node down", status(raft.RoleFollower, 3, 2, 3), false, Red},
		{"nothing reported yet, node down", engine.Status{}, false, Red},
		{"unknown role", status(raft.Role(9), 3, 3, 1), true, Red},
	} {
		if have := ColourFor(tc.s, tc.up); have != tc.want {
			t.Errorf("%s: ColourFor(role %v, alive %d/%d, leader %d, up %v):\nhave %v\nwant %v",
				tc.name, tc.s.Role, tc.s.Alive, len(tc.s.Voters), tc.s.Leader, tc.up, have, tc.want)
		}
	}
}

func TestColourNames(t *testing.T) {
	for _, tc := range []struct {
		c             Colour
		name, meaning string
		r, g, b       uint8
	}{
		{Off, "off", "not running", 0, 0, 0},
		{Red, "red", "offline or no quorum", 255, 0, 0},
		{Yellow, "yellow", "election in progress", 255, 255, 0},
		{Green, "green", "follower", 0, 255, 0},
		{Blue, "blue", "leader", 0, 0, 255},
		{White, "white", "commit", 255, 255, 255},
		{Colour(99), "unknown", "unknown", 0, 0, 0},
	} {
		r, g, b := tc.c.RGB()
		if tc.c.String() != tc.name || tc.c.Meaning() != tc.meaning || r != tc.r || g != tc.g || b != tc.b {
			t.Errorf("Colour %d: have %q %q (%d,%d,%d), want %q %q (%d,%d,%d)",
				tc.c, tc.c, tc.c.Meaning(), r, g, b, tc.name, tc.meaning, tc.r, tc.g, tc.b)
		}
	}
}
