//go:build tools

// Package etcd pins the etcd server and etcdctl modules so that the bench
// harness can build the etcd binary from the Go module proxy with
// `go build -o <cache>/etcd go.etcd.io/etcd/server/v3`.
package etcd

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
