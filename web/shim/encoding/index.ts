// The wraft binary encoding (docs/ABI.md), mirrored from Go's packages abi,
// wire and kv (kv/codec.go). The shared vectors in
// testdata/vectors/abi.json keep the two byte-compatible.

export * from './primitives.js';
export * from './raft.js';
export * from './command.js';
export * from './inputs.js';
export * from './effects.js';
export * from './init.js';
