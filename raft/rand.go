package raft

import "strconv"

// splitmix64 is a tiny deterministic pseudo-random generator (Steele,
// Lea and Flood's SplitMix64). Each node owns one, seeded from its Config,
// so election jitter is reproducible.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func itoa(v int) string { return strconv.Itoa(v) }
