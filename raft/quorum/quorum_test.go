package quorum

import "testing"

func TestCommittedIndex(t *testing.T) {
	tests := []struct {
		match []uint64
		want  uint64
	}{
		{nil, 0},
		{[]uint64{5}, 5},
		{[]uint64{5, 3}, 3},
		{[]uint64{5, 3, 1}, 3},
		{[]uint64{1, 5, 3}, 3},
		{[]uint64{9, 9, 1, 1}, 1},
		{[]uint64{9, 9, 9, 1}, 9},
		{[]uint64{7, 2, 8, 4, 6}, 6},
		{[]uint64{0, 0, 4}, 0},
	}
	for _, tt := range tests {
		if have := CommittedIndex(tt.match); have != tt.want {
			t.Errorf("CommittedIndex(%v): have %d, want %d", tt.match, have, tt.want)
		}
	}
}

func TestTally(t *testing.T) {
	tests := []struct {
		voters, granted, rejected int
		want                      VoteResult
	}{
		{1, 1, 0, VoteWon},
		{1, 0, 0, VotePending},
		{1, 0, 1, VoteLost},
		{3, 1, 0, VotePending},
		{3, 2, 0, VoteWon},
		{3, 1, 1, VotePending},
		{3, 1, 2, VoteLost},
		{4, 2, 2, VoteLost},
		{4, 2, 1, VotePending},
		{4, 3, 1, VoteWon},
		{5, 3, 2, VoteWon},
		{5, 2, 3, VoteLost},
	}
	for _, tt := range tests {
		if have := Tally(tt.voters, tt.granted, tt.rejected); have != tt.want {
			t.Errorf("Tally(%d, %d, %d): have %d, want %d", tt.voters, tt.granted, tt.rejected, have, tt.want)
		}
	}
}
