// Package sizeclass is the rounding rule by which the backends recycle
// storage: a request is rounded up to a class, and a freed storage is
// handed out again for any request of its class. Classes are 256 bytes
// and below, then eight per power of two, so a class wastes at most an
// eighth of the request (a power-of-two rule wastes up to half).
//
// Layering: a leaf the backends share; it imports no package of the
// module.
package sizeclass

import "math/bits"

// Min is the smallest class, in bytes.
const Min = 256

// perOctave is the number of classes between two powers of two.
const perOctave = 8

// minShift is log2(Min).
const minShift = 8

// Of returns the class of a request of the given size in bytes and the
// class's size, the smallest class size at least as large.
func Of(bytes uint64) (class int, size uint64) {
	if bytes <= Min {
		return 0, Min
	}
	k := bits.Len64(bytes-1) - 1 // 2^k < bytes <= 2^(k+1)
	step := uint64(1) << (k - 3) // 2^k / perOctave
	size = (bytes + step - 1) / step * step
	sub := int((size - 1<<k) / step) // 1..perOctave
	return 1 + (k-minShift)*perOctave + sub - 1, size
}

// Size returns the size in bytes of class c.
func Size(c int) uint64 {
	if c == 0 {
		return Min
	}
	k := (c-1)/perOctave + minShift
	sub := (c-1)%perOctave + 1
	return 1<<k + uint64(sub)<<(k-3)
}
