package host

import "testing"

// TestMappedMemoryFallback checks that a maximum no mapping can hold
// gets the growing slice instead.
func TestMappedMemoryFallback(t *testing.T) {
	if _, ok := allocateMapped(0, 0).(*sliceMemory); !ok {
		t.Error("allocateMapped(0, 0) is not the fallback")
	}
	m := allocateMapped(0, 1<<24)
	defer m.Free()
	if b := m.Reallocate(1 << 25); b != nil {
		t.Errorf("Reallocate beyond the maximum returned %d bytes, want nil", len(b))
	}
}
