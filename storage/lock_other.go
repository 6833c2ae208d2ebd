//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package storage

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens the directory's LOCK file. On this platform it takes no
// lock: keeping two WALs off one directory is up to the caller.
func (w *WAL) lockDir() error {
	f, err := os.OpenFile(filepath.Join(w.dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	w.lock = f
	return nil
}
