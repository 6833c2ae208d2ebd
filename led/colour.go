// Package led shows a node's state on a status light: a WS2812B pixel or
// strip, a plain RGB LED on three GPIO lines, a coloured line on the
// terminal, or nothing.
//
// ColourFor maps a status to a colour; a Driver lights a colour; an
// Indicator joins the two, following a node's status as it changes and
// blinking white on each commit where the driver can.
package led

import (
	"github.com/wraft/wraft/engine"
	"github.com/wraft/wraft/raft"
)

// Colour is what a status light shows.
type Colour uint8

// The colours. Off is the zero value.
const (
	Off    Colour = iota
	Red           // offline, or without a quorum
	Yellow        // campaigning: candidate or pre-candidate
	Green         // follower of a known leader
	Blue          // leader with a quorum
	White         // the short blink on a commit
)

// String returns the colour's name in lower case, such as "blue".
func (c Colour) String() string {
	switch c {
	case Off:
		return "off"
	case Red:
		return "red"
	case Yellow:
		return "yellow"
	case Green:
		return "green"
	case Blue:
		return "blue"
	case White:
		return "white"
	}
	return "unknown"
}

// Meaning returns what the colour says about a node, such as "leader".
func (c Colour) Meaning() string {
	switch c {
	case Off:
		return "not running"
	case Red:
		return "offline or no quorum"
	case Yellow:
		return "election in progress"
	case Green:
		return "follower"
	case Blue:
		return "leader"
	case White:
		return "commit"
	}
	return "unknown"
}

// RGB returns the colour's red, green and blue channels at full scale:
// each 0 or 255.
func (c Colour) RGB() (r, g, b uint8) {
	switch c {
	case Red:
		return 255, 0, 0
	case Yellow:
		return 255, 255, 0
	case Green:
		return 0, 255, 0
	case Blue:
		return 0, 0, 255
	case White:
		return 255, 255, 255
	}
	return 0, 0, 0
}

// ColourFor returns the colour for a node's status; up is false while the
// node is not running (starting, stopped, or failed), whatever status it
// last reported.
//
//   - Blue: a leader that heard from a quorum of voters (itself included)
//     within the last election timeout.
//   - Green: a follower that knows its leader. A follower hears only from
//     the leader, so its Alive is 2 whatever the cluster's size; the
//     leader vouches for the quorum (with CheckQuorum it steps down
//     without one).
//   - Yellow: a candidate or pre-candidate that heard from a quorum.
//   - Red: not up; a leader or candidate that heard from fewer voters than
//     a quorum; a follower that knows no leader.
func ColourFor(s engine.Status, up bool) Colour {
	if !up {
		return Red
	}
	quorate := s.Alive >= s.Quorum()
	switch s.Role {
	case raft.RoleLeader:
		if quorate {
			return Blue
		}
	case raft.RoleFollower:
		if s.Leader != 0 {
			return Green
		}
	case raft.RoleCandidate, raft.RolePreCandidate:
		if quorate {
			return Yellow
		}
	}
	return Red
}
