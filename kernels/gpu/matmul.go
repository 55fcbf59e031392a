package gpu

import "sargo/tensor"

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

var (
	// tileLarge: 64x64 tiles, 16 deep, a 4x4 block per invocation (256).
	tileLarge = matmulTile{64, 64, 16, 4, 4}
	// tileSmall: 32x32 tiles, 16 deep, a 2x2 block per invocation (256).
	tileSmall = matmulTile{32, 32, 16, 2, 2}
	// tileMinimal fits the Vulkan minimum limits (128 invocations,
	// 16 KiB shared memory): 32x32 tiles, 8 deep, 4x2 per invocation.
	tileMinimal = matmulTile{32, 32, 8, 4, 2}
)

// chooseTile picks the tiling for an M x N output on this device.
func (b *Kernels) chooseTile(m, n int) matmulTile {
	fits := func(t matmulTile) bool {
		return t.threads() <= b.info.MaxWorkgroupInvocations && t.threads() <= b.info.MaxWorkgroupSize[0] &&
			t.sharedBytes() <= b.info.MaxSharedMemory
	}
	if m >= 64 && n >= 64 && fits(tileLarge) {
		return tileLarge
	}
	if fits(tileSmall) {
		return tileSmall
	}
	return tileMinimal
}

// MatMul runs a batched GEMM, C = Alpha·op(A)·op(B) + Beta·C with Beta 0
// (overwrite) or non-zero (accumulate).
func (b *Kernels) MatMul(a tensor.MatMulArgs) {
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
	spec := []uint32{t.bm, t.bn, t.bk, t.tm, t.tn, t.threads(), b2u(a.TransA), b2u(a.TransB), b2u(a.Beta != 0), b2u(vecA), b2u(vecB)}
	groups := [3]uint32{
		uint32((a.N + int(t.bn) - 1) / int(t.bn)),
		uint32((a.M + int(t.bm) - 1) / int(t.bm)),
		uint32(min(a.Batch, maxGroups)),
	}
	launch(b, "matmul", spec, &p, groups, read(a.A.Buf), read(a.B.Buf), write(a.C.Buf))
}

func b2u(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}
