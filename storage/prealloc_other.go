//go:build !linux

package storage

import (
	"errors"
	"os"
)

// preallocate is not implemented on this platform: segments grow as they
// are written, and every fsync is a full one.
func preallocate(*os.File, int64) error { return errors.ErrUnsupported }

// datasync is a full fsync on this platform (on darwin, F_FULLFSYNC).
func datasync(f *os.File) error { return f.Sync() }
