//go:build linux

package storage

import (
	"errors"
	"os"
	"syscall"
)

// preallocate makes f size bytes long, allocating the blocks beyond its
// data now (fallocate(2), mode 0), so that later writes there change no
// file size and can be made durable with fdatasync. The new bytes read as
// zeros. It fails with errors.ErrUnsupported where the filesystem cannot
// (tmpfs before Linux 3.5, NFS before 4.2, ZFS before 2.2, ...).
func preallocate(f *os.File, size int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
			return errors.ErrUnsupported
		}
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: err}
	}
}

// datasync flushes f's data and whatever metadata reading it back needs
// (fdatasync(2)), but not its timestamps. Use it only when f's size has not
// changed since the last full fsync.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
		}
		return nil
	}
}
