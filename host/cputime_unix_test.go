//go:build unix

package host_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the process has used. A
// benchmark reports it per operation besides wall time, which on a shared
// machine also counts the time other processes had the CPU.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
