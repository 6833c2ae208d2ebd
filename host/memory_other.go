//go:build !linux

package host

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is wazero's default elsewhere.
var memoryAllocator experimental.MemoryAllocator
