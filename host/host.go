// Package host runs the wraft core for a host: either the engine linked
// into this binary (Native) or raft.wasm in the wazero WebAssembly runtime
// (Runtime.NewCore). Both are engine.Core values made by a Factory, so
// everything above them (the daemon, the simulator, tests) picks one with
// a single argument, and a seeded run gives the same effects, byte for
// byte, through either.
//
// docs/ABI.md describes what raft.wasm exports and what a host owes it.
package host

import "github.com/wraft/wraft/engine"

// Factory makes a core for one node from its configuration and what its
// storage holds. Native and (*Runtime).Factory are Factories.
type Factory func(engine.Config, engine.Restored) (engine.Core, error)

// Native returns the engine linked into this binary: engine.New.
func Native(cfg engine.Config, r engine.Restored) (engine.Core, error) {
	e, err := engine.New(cfg, r)
	if err != nil {
		return nil, err
	}
	return e, nil
}
