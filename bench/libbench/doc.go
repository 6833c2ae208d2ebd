// Package libbench compares wraft's raft package with go.etcd.io/raft/v3
// on the same in-memory three-node commit loop: propose on the leader,
// deliver every message at once, acknowledge storage at once (no disk),
// until the leader has applied the entries. It measures only the
// consensus libraries: no network, no fsync, no state machine.
//
//	go test -bench . -benchmem ./libbench
package libbench
