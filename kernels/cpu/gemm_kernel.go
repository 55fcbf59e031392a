package cpu

import "unsafe"

// gemmKernel is a GEMM micro-kernel together with the register tile it
// computes and the cache blocking that suits it.
//
// fn computes one mr×nr tile of C from a packed A micro-panel (mr values per
// k, k-major) and a packed B micro-panel (nr values per k, k-major):
//
//	C[r*ldc+j] = alpha * sum_k a[k*mr+r] * b[k*nr+j]   (+ C[r*ldc+j] if acc != 0)
//
// When acc is 0 it never reads C.
type gemmKernel struct {
	name   string
	mr, nr int
	// kc is the depth of a packed block, mc the rows of a packed A block
	// (a multiple of mr) and nc the columns of a packed B block.
	kc, mc, nc int
	fn         func(k int, a, b, c *float32, ldc int, alpha float32, acc int)
	// packA, when set, packs groups blocks of packADepth depths of a full
	// micro-panel from row-major A (rows lda elements apart) into dst.
	packA func(dst, src *float32, lda, groups int)
	// packB, when set, packs kc depths of a full micro-panel from
	// row-major B (rows ldb elements apart) into dst; packBT packs groups
	// blocks of packADepth depths of a full micro-panel from transposed B
	// (the panel's columns are rows ldb elements apart).
	packB  func(dst, src *float32, ldb, kc int)
	packBT func(dst, src *float32, ldb, groups int)
}

// packADepth is the number of depths a gemmKernel.packA group covers.
const packADepth = 16

// goKernel is the portable micro-kernel, used where no assembly kernel
// applies and as the reference the assembly kernels are tested against.
var goKernel = &gemmKernel{name: "go-4x4", mr: 4, nr: 4, kc: 256, mc: 128, nc: 2048, fn: gemmKernelGo4x4}

// gemmKernelGo4x4 is the pure-Go 4×4 micro-kernel.
func gemmKernelGo4x4(k int, ap, bp, cp *float32, ldc int, alpha float32, acc int) {
	a := unsafe.Slice(ap, 4*k)
	b := unsafe.Slice(bp, 4*k)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for len(a) >= 4 && len(b) >= 4 {
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		a, b = a[4:], b[4:]
	}
	c := unsafe.Slice(cp, 3*ldc+4)
	rows := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for r := range rows {
		dst := c[r*ldc : r*ldc+4]
		if acc != 0 {
			for j, v := range rows[r] {
				dst[j] += alpha * v
			}
		} else {
			for j, v := range rows[r] {
				dst[j] = alpha * v
			}
		}
	}
}
