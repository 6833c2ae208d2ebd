// Package corewasm embeds the raft.wasm that `make wasm` built, so that the
// daemon carries its core inside its own binary.
//
// The file is a build product and is not in version control: `make wasm`
// copies bin/raft.wasm to host/corewasm/core/raft.wasm before the daemon is
// built. Without it this package still compiles (the embedded directory
// always holds its README) and Bytes returns ErrNotBuilt. Tests do not use
// this package: they build raft.wasm from the checkout themselves (see
// package hosttest).
package corewasm

import (
	"embed"
	"errors"
	"io/fs"
)

//go:embed core
var files embed.FS

// ErrNotBuilt is returned by Bytes when no raft.wasm was embedded.
var ErrNotBuilt = errors.New("corewasm: raft.wasm was not embedded in this binary: run `make wasm`, then build again")

// Bytes returns the embedded raft.wasm. The caller must not modify it.
func Bytes() ([]byte, error) {
	b, err := files.ReadFile("core/raft.wasm")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotBuilt
	}
	return b, err
}
