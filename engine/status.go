package engine

import "github.com/wraft/wraft/raft"

// Status is a node's status as the engine reports it: the protocol's view
// plus the state machine's.
type Status struct {
	raft.Status
	// Applied is the highest log index applied to the state machine.
	Applied uint64
	// Keys is the number of keys in the state machine.
	Keys int
	// Pending is the number of client requests waiting for an answer.
	Pending int
}
