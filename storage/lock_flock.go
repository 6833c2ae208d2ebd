//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive flock on the directory's LOCK file, which the
// kernel releases when the process dies, however it dies.
func (w *WAL) lockDir() error {
	f, err := os.OpenFile(filepath.Join(w.dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s", ErrLocked, w.dir)
		}
		return fmt.Errorf("storage: lock %s: %w", f.Name(), err)
	}
	w.lock = f
	return nil
}
