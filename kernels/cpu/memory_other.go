//go:build !unix

package cpu

// mapFloats maps no memory where the system has no mmap: storages are Go
// memory.
func mapFloats(int) []float32 { return nil }

func unmapFloats([]float32) {}
