package vulkan

import (
	"fmt"

	"sargo/tensor"
)

// matmulPush mirrors the push constants of shaders/matmul.comp.
type matmulPush struct {
	OffA, OffB, OffC          uint32
	M, N, K                   uint32
	StrideA, StrideB, StrideC uint32
	Batch                     uint32
	Alpha                     float32
}

// matmulTile is one tiling of the matmul shader.
type matmulTile struct{ bm, bn, bk, tm, tn uint32 }

func (t matmulTile) threads() uint32 { return (t.bm / t.tm) * (t.bn / t.tn) }

// sharedBytes is the shared memory the tiling needs.
func (t matmulTile) sharedBytes() uint32 { return 4 * t.bk * (t.bm + 1 + t.bn + 1) }

// String names the tiling: BMxBNxBK TMxTN.
func (t matmulTile) String() string {
	return fmt.Sprintf("%dx%dx%d %dx%d", t.bm, t.bn, t.bk, t.tm, t.tn)
}

var (
	// tileLarge: 64x64 tiles, 16 deep, a 4x4 block per invocation (256).
	tileLarge = matmulTile{64, 64, 16, 4, 4}
	// tileSmall: 32x32 tiles, 16 deep, a 2x2 block per invocation (256).
	tileSmall = matmulTile{32, 32, 16, 2, 2}
	// tileMinimal fits the Vulkan minimum limits (128 invocations,
	// 16 KiB shared memory): 32x32 tiles, 8 deep, 4x2 per invocation.
	tileMinimal = matmulTile{32, 32, 8, 4, 2}
)

// matmulTiles are the tilings chooseTile picks from.
var matmulTiles = []matmulTile{tileLarge, tileSmall, tileMinimal}

// fits reports whether the device can run tiling t.
func (t matmulTile) fits(info DeviceInfo) bool {
	return t.threads() <= info.MaxWorkgroupInvocations && t.threads() <= info.MaxWorkgroupSize[0] &&
		t.sharedBytes() <= info.MaxSharedMemory
}

// chooseTile picks the tiling for an M x N output on this device.
func (b *Backend) chooseTile(m, n int) matmulTile {
	if m >= 64 && n >= 64 && tileLarge.fits(b.info) {
		return tileLarge
	}
	if tileSmall.fits(b.info) {
		return tileSmall
	}
	return tileMinimal
}

// matmulSpec is the specialization of matmul.comp.
func matmulSpec(t matmulTile, transA, transB, beta, vecA, vecB bool) []uint32 {
	return []uint32{t.bm, t.bn, t.bk, t.tm, t.tn, t.threads(), b2u(transA), b2u(transB), b2u(beta), b2u(vecA), b2u(vecB)}
}

// matmulVariants lists every tiling the device can run with every
// combination of transposes, accumulation and vec4 loads.
func matmulVariants(info DeviceInfo) []variant {
	var vs []variant
	for _, t := range matmulTiles {
		if t != tileMinimal && !t.fits(info) {
			continue
		}
		for bits := range 32 {
			ta, tb, beta, va, vb := bits&1 != 0, bits&2 != 0, bits&4 != 0, bits&8 != 0, bits&16 != 0
			label := fmt.Sprintf("ta=%d tb=%d beta=%d vec=%d%d", b2u(ta), b2u(tb), b2u(beta), b2u(va), b2u(vb))
			vs = append(vs, variant{shader: "matmul", spec: matmulSpec(t, ta, tb, beta, va, vb), nbuf: 3, group: "matmul " + t.String(), label: label})
		}
	}
	return vs
}

// MatMul runs a batched GEMM, C = Alpha·op(A)·op(B) + Beta·C with Beta 0
// (overwrite) or non-zero (accumulate).
func (b *Backend) MatMul(a tensor.MatMulArgs) {
	if a.Batch == 0 || a.M == 0 || a.N == 0 {
		return
	}
	t := b.chooseTile(a.M, a.N)
	p := matmulPush{
		OffA: uint32(a.A.Offset), OffB: uint32(a.B.Offset), OffC: uint32(a.C.Offset),
		M: uint32(a.M), N: uint32(a.N), K: uint32(a.K),
		StrideA: uint32(a.StrideA), StrideB: uint32(a.StrideB), StrideC: uint32(a.StrideC),
		Batch: uint32(a.Batch), Alpha: a.Alpha,
	}
	// vec4 loads along each operand's contiguous axis when whole vec4s
	// stay inside rows: that axis, the offset and the batch stride are
	// multiples of 4 (storage offsets are 16-byte aligned by the pool).
	contA, contB := a.K, a.N
	if a.TransA {
		contA = a.M
	}
	if a.TransB {
		contB = a.K
	}
	vecA := contA%4 == 0 && a.A.Offset%4 == 0 && a.StrideA%4 == 0 && !b.noVec4
	vecB := contB%4 == 0 && a.B.Offset%4 == 0 && a.StrideB%4 == 0 && !b.noVec4
	spec := matmulSpec(t, a.TransA, a.TransB, a.Beta != 0, vecA, vecB)
	groups := [3]uint32{
		uint32((a.N + int(t.bn) - 1) / int(t.bn)),
		uint32((a.M + int(t.bm) - 1) / int(t.bm)),
		uint32(min(a.Batch, maxGroups)),
	}
	b.launch("matmul", spec, &p, groups, read(a.A.Buf), read(a.B.Buf), write(a.C.Buf))
}

func b2u(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}
