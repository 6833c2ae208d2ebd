// The wraft shim: everything a host of raft.wasm needs outside the core.
//
//   encoding/  the ABI's byte encoding (docs/ABI.md), mirrored from Go
//   node.ts    RaftNode: one engine in its own raft.wasm instance
//   host.ts    NodeHost: a node's loop of inputs, effects, storage and network
//   storage.ts durable node storage (IndexedDB) and an in-memory one
//   network.ts the network interface and an in-memory network with faults
//   refsim.ts  the reference simulation, twin of Go's refsim

export * from './encoding/index.js';
export * from './node.js';
export * from './host.js';
export * from './storage.js';
export * from './network.js';
export * from './broadcast.js';
export * from './refsim.js';
