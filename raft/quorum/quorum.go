// Package quorum holds the majority arithmetic of Raft: which index a
// majority has replicated, and whether an election is won, lost or open.
// It is pure: no state, no allocation beyond a scratch copy.
package quorum

import "slices"

// Size returns the number of voters that form a majority of n voters
// (n/2 + 1). Size(0) is 1: an empty configuration can decide nothing.
func Size(n int) int { return n/2 + 1 }

// CommittedIndex returns the highest index that a majority of the given
// match indexes has reached: the largest i such that at least Size(len(m))
// entries of m are >= i. It returns 0 for an empty m. m is not modified.
func CommittedIndex(m []uint64) uint64 {
	if len(m) == 0 {
		return 0
	}
	s := slices.Clone(m)
	slices.Sort(s)
	// Sorted ascending, the element at len-Size is reached by Size voters.
	return s[len(s)-Size(len(s))]
}

// VoteResult is the state of an election.
type VoteResult uint8

// The vote results.
const (
	// VotePending: neither side has a majority yet.
	VotePending VoteResult = iota
	// VoteWon: a majority granted.
	VoteWon
	// VoteLost: a majority refused, so no majority can grant.
	VoteLost
)

// Tally returns the result of an election among voters voters in which
// granted granted and rejected refused.
func Tally(voters, granted, rejected int) VoteResult {
	q := Size(voters)
	switch {
	case granted >= q:
		return VoteWon
	case rejected > voters-q:
		return VoteLost
	}
	return VotePending
}
