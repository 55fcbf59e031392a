//go:build unix

package cpu

import (
	"syscall"
	"unsafe"
)

// mapFloats returns n zeroed float32 values of anonymous memory mapped
// from the system, outside the Go heap, or nil when the system refuses.
func mapFloats(n int) []float32 {
	b, err := syscall.Mmap(-1, 0, 4*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// unmapFloats returns the memory of d, whole as mapFloats made it, to the
// system; a slice mapFloats did not make is left alone.
func unmapFloats(d []float32) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), 4*cap(d))
	_ = syscall.Munmap(b) // refuses (EINVAL) a slice it did not map
}
