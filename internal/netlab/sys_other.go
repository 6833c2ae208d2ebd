//go:build !linux

package netlab

// system is empty where labs cannot be built.
type system struct{}

func (s *system) close() error { return nil }

// Available returns ErrUnsupported: labs need Linux.
func Available() error { return ErrUnsupported }

// New returns ErrUnsupported: labs need Linux.
func New(Config) (*Lab, error) { return nil, ErrUnsupported }

// Sweep does nothing where labs cannot be built.
func Sweep() {}
