// Package sim is a deterministic cluster simulator for the wraft engine.
//
// A Cluster drives N cores (the native engine, or anything else served
// through a Factory, such as raft.wasm inside wazero) through a simulated
// network, simulated disks and a simulated clock, all drawn from one seeded
// random source. Nothing in a run depends on the wall clock, on goroutine
// scheduling or on map iteration order, so a seed replays exactly, and the
// run's trace hash (sha256 over every node's effect batches, in order) is
// the same on every machine and through every Factory that implements the
// same engine.
//
// # Time
//
// Simulated time is counted in milliseconds. Each node receives a Tick every
// TickMillis milliseconds (10 by default; a slow node's clock may run
// slower), with a random phase so that nodes do not tick in lockstep. A
// step is one event: a node handling the inputs that arrived for it, a disk
// write completing, a client acting. The invariant checker runs after every
// step.
//
// # The host contract, as simulated
//
// Effects are carried out in order. A Persist occupies the node's disk for a
// random latency, and every effect behind it waits: no Send leaves the node
// before the state it depends on is durable. Inputs keep arriving meanwhile.
// When a Persist completes, its entries replace the stored suffix from
// Entries[0].Index on, its HardState replaces the stored one, and a
// StorageAck for its last entry is fed back. A crash loses the engine's
// memory, everything queued, and the persist in progress, of which a prefix
// of the entries may have landed (a torn write; the hard state, written
// after the entries, then does not land). A restart builds a new core from
// what the disk holds.
//
// # Checks
//
// After every step the checker verifies election safety, leader
// append-only, log matching (on the disks), leader completeness, state
// machine safety and monotonic commit, plus the host-visible promises the
// engine documents (one final reply per request, votes never retracted,
// durable commit within the durable log). Client operations are recorded and
// checked for linearizability with porcupine. A failure is a *Violation: the
// seed, the step, the rule, and the last events of the run as a story.
package sim
