package gpu

import (
	"fmt"

	"sargo/tensor"
)

// Matrix products: shaders/matmul.comp (the tiled GEMM of gemm.glsl with
// the epilogue of matmul_epilogue.glsl) and matmul_splitk.comp (the second
// pass of a split-K product).
//
// A product is planned in three choices (planMatMul):
//   - the tiling: 128x128 tiles with 8x8 outputs per invocation when the
//     output has enough such tiles to fill a large GPU and the device has
//     the shared memory and invocations, else 64x64 tiles with 8x4 (which
//     fit the Vulkan minimum limits);
//   - vec4 global loads for each operand whose contiguous axis, offset and
//     batch stride are multiples of 4;
//   - a split of K when the tiles are too few to occupy the device and K is
//     long (the weight gradients, M, N in the hundreds and K = B·T in the
//     thousands): a fixed number of K chunks, each summed by its own
//     workgroups into a partial buffer, added in chunk order by a second
//     pass, so results are deterministic.
//
// A kernel for KHR_cooperative_matrix devices would be one more shader in
// this plan (chosen by a device feature, with its own tilings), writing the
// same partial-buffer layout so that the split-K pass and the epilogue
// stay shared.

// matmulPush mirrors the push constants of shaders/matmul.comp.
type matmulPush struct {
	OffA, OffB, OffC, OffBias uint32
	M, N, K                   uint32
	StrideA, StrideB, StrideC uint32
	Batch, Splits, KChunk     uint32
	Alpha, Beta               float32
	Flags                     uint32
	OffRowSums                uint32
}

// splitkPush mirrors the push constants of shaders/matmul_splitk.comp.
type splitkPush struct {
	OffC, OffBias, M, N, StrideC, Batch, Splits uint32
	Alpha, Beta                                 float32
	Flags                                       uint32
}

// Flags of the matmul push constants; bits 8 and up hold the activation
// (actFlags).
const (
	matmulBias       = 1 << iota // add the bias
	matmulVecA                   // load A as vec4
	matmulVecB                   // load B as vec4
	matmulRowSums                // sum the rows of op(A) into RowSums
	matmulRowSumsAdd             // add them to its values
)

// actFlags is the activation field of the flags: 0 for none, else 1 + its
// unary op, from bit 8.
func actFlags(act tensor.Activation) uint32 {
	if op, ok := act.UnaryOp(); ok {
		return (uint32(op) + 1) << 8
	}
	return 0
}

// matmulTile is one tiling of the matmul shader: BM x BN tiles of C, BK
// deep steps of K, TM x TN outputs per invocation.
type matmulTile struct{ bm, bn, bk, tm, tn uint32 }

func (t matmulTile) threads() uint32 { return (t.bm / t.tm) * (t.bn / t.tn) }

// sharedBytes is the shared memory the tiling needs: two buffers of the A
// and B tiles, rows padded to BK+2 floats (SA in gemm.glsl).
func (t matmulTile) sharedBytes() uint32 { return 2 * 4 * (t.bk + 2) * (t.bm + t.bn) }

// String names the tiling: BMxBNxBK TMxTN.
func (t matmulTile) String() string {
	return fmt.Sprintf("%dx%dx%d %dx%d", t.bm, t.bn, t.bk, t.tm, t.tn)
}

var (
	// tileLarge: 128x128 tiles, 8 deep, an 8x8 block per invocation
	// (256 invocations, 20 KiB of shared memory).
	tileLarge = matmulTile{128, 128, 8, 8, 8}
	// tileMedium: 64x64 tiles, 8 deep, an 8x4 block per invocation (128
	// invocations, 10 KiB: within the Vulkan minimum limits).
	tileMedium = matmulTile{64, 64, 8, 8, 4}
)

// matmulTiles are the tilings planMatMul picks from.
var matmulTiles = []matmulTile{tileLarge, tileMedium}

// fits reports whether the device can run tiling t.
func (t matmulTile) fits(info Features) bool {
	return t.threads() <= info.MaxWorkgroupInvocations && t.threads() <= info.MaxWorkgroupSize[0] &&
		t.sharedBytes() <= info.MaxSharedMemory
}

// tiles is the number of tiles of t over an M x N output.
func (t matmulTile) tiles(m, n int) int {
	return ((m + int(t.bm) - 1) / int(t.bm)) * ((n + int(t.bn) - 1) / int(t.bn))
}

// Split-K and tiling thresholds, in workgroups: a large GPU has 60 to 130
// compute units, each holding several workgroups.
const (
	// largeTileGroups is the fewest 128x128 tiles for which they are
	// chosen over 64x64 ones (which are 4 times as many).
	largeTileGroups = 128
	// splitTargetGroups is the workgroup count a split-K product aims for.
	splitTargetGroups = 256
	// splitMinK is the least K per split.
	splitMinK = 256
	// maxSplits bounds the partial buffer to this many copies of C.
	maxSplits = 16
)

// matmulPlan is how one product runs.
type matmulPlan struct {
	tile       matmulTile
	vecA, vecB bool
	splits     int // K chunks; 1 is no split
	kChunk     int // K per chunk, a multiple of the tile depth
}

// gemmPlan chooses the tiling and the K split of a batch of M x N x K
// products (shared by matmul and the convolutions): 128x128 tiles when
// there are at least largeTileGroups of them, and a split of K into
// chunks, a multiple of the tile depth long, when the workgroups are
// fewer than splitTargetGroups and K is long.
func (b *Kernels) gemmPlan(m, n, k, batch int) (t matmulTile, splits, kChunk int) {
	t = tileMedium
	if tileLarge.fits(b.info) && tileLarge.tiles(m, n)*batch >= largeTileGroups {
		t = tileLarge
	}
	splits, kChunk = 1, k
	groups := t.tiles(m, n) * batch
	if groups < splitTargetGroups && k >= 2*splitMinK {
		s := min((splitTargetGroups+groups-1)/groups, k/splitMinK, maxSplits)
		bk := int(t.bk)
		chunk := ((k+s-1)/s + bk - 1) / bk * bk
		if s = (k + chunk - 1) / chunk; s > 1 {
			splits, kChunk = s, chunk
		}
	}
	return t, splits, kChunk
}

// planMatMul chooses the tiling, the vec4 loads and the K split of a.
func (b *Kernels) planMatMul(a tensor.MatMulArgs) matmulPlan {
	pl := matmulPlan{}
	pl.tile, pl.splits, pl.kChunk = b.gemmPlan(a.M, a.N, a.K, a.Batch)
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
	pl.vecA = contA%4 == 0 && a.A.Offset%4 == 0 && a.StrideA%4 == 0 && !b.noVec4
	pl.vecB = contB%4 == 0 && a.B.Offset%4 == 0 && a.StrideB%4 == 0 && !b.noVec4
	return pl
}

// matmulSpec is the specialization of matmul.comp. The first pass of a
// split-K product never reads C, so it takes beta false.
func matmulSpec(t matmulTile, transA, transB, beta, split bool) []uint32 {
	return []uint32{t.bm, t.bn, t.bk, t.tm, t.tn, t.threads(), b2u(transA), b2u(transB), b2u(beta), b2u(split)}
}

// splitkSpec is the specialization of matmul_splitk.comp.
func (t Tuning) splitkSpec(beta bool) []uint32 { return []uint32{t.Elem, b2u(beta)} }

// matmulVariants lists every tiling the device can run with both
// transposes, accumulating or not, and as the first pass of a split-K
// product; and the split-K second pass. (vec4 loads, the bias and the
// activation are push-constant flags.)
func matmulVariants(info Features, t Tuning) []Variant {
	var vs []Variant
	for _, t := range matmulTiles {
		if t != tileMedium && !t.fits(info) {
			continue
		}
		for bits := range 4 {
			ta, tb := bits&1 != 0, bits&2 != 0
			trans := fmt.Sprintf("ta=%d tb=%d", b2u(ta), b2u(tb))
			for _, beta := range []bool{false, true} {
				vs = append(vs, Variant{Shader: "matmul", Spec: matmulSpec(t, ta, tb, beta, false), Bindings: 5,
					Group: "matmul " + t.String(), Label: fmt.Sprintf("%s beta=%d", trans, b2u(beta))})
			}
			vs = append(vs, Variant{Shader: "matmul", Spec: matmulSpec(t, ta, tb, false, true), Bindings: 5,
				Group: "matmul " + t.String() + " split-K", Label: trans})
		}
	}
	for _, beta := range []bool{false, true} {
		vs = append(vs, Variant{Shader: "matmul_splitk", Spec: t.splitkSpec(beta), Bindings: 3,
			Group: "matmul_splitk", Label: fmt.Sprintf("beta=%d", b2u(beta))})
	}
	return vs
}

// MatMul runs a batched GEMM, C = act(Alpha·op(A)·op(B) + Beta·C + bias).
func (b *Kernels) MatMul(a tensor.MatMulArgs) {
	if a.Batch == 0 || a.M == 0 || a.N == 0 {
		return
	}
	pl := b.planMatMul(a)
	t := pl.tile
	bias, freeBias := b.placeholder(a.Bias)
	defer freeBias()
	p := matmulPush{
		OffA: uint32(a.A.Offset), OffB: uint32(a.B.Offset), OffC: uint32(a.C.Offset), OffBias: uint32(a.Bias.Offset),
		M: uint32(a.M), N: uint32(a.N), K: uint32(a.K),
		StrideA: uint32(a.StrideA), StrideB: uint32(a.StrideB), StrideC: uint32(a.StrideC),
		Batch: uint32(a.Batch), Splits: uint32(pl.splits), KChunk: uint32(pl.kChunk),
		Alpha: a.Alpha, Beta: a.Beta, Flags: actFlags(a.Act),
	}
	if a.Bias.Buf != nil {
		p.Flags |= matmulBias
	}
	if pl.vecA {
		p.Flags |= matmulVecA
	}
	if pl.vecB {
		p.Flags |= matmulVecB
	}
	sums := a.C.Buf // bound, unused, when there are no row sums
	if a.RowSums.Buf != nil {
		if a.Batch != 1 {
			panic(fmt.Sprintf("gpu: MatMul: row sums of a batch of %d products", a.Batch))
		}
		sums, p.OffRowSums = a.RowSums.Buf, uint32(a.RowSums.Offset)
		p.Flags |= matmulRowSums
		if a.RowSumsAdd {
			p.Flags |= matmulRowSumsAdd
		}
	}
	groups := [3]uint32{
		uint32((a.N + int(t.bn) - 1) / int(t.bn)),
		uint32(min((a.M+int(t.bm)-1)/int(t.bm), maxGroups)),
		uint32(min(a.Batch*pl.splits, maxGroups)),
	}
	if pl.splits == 1 {
		spec := matmulSpec(t, a.TransA, a.TransB, a.Beta != 0, false)
		launch(b, "matmul", spec, &p, groups, read(a.A.Buf), read(a.B.Buf), write(a.C.Buf), read(bias), write(sums))
		return
	}
	n := pl.splits * a.Batch * a.M * a.N
	part := b.dev.Alloc(n)
	defer b.dev.Free(part)
	p.OffC = 0
	spec := matmulSpec(t, a.TransA, a.TransB, false, true)
	if a.RowSums.Buf == nil {
		sums = part
	}
	launch(b, "matmul", spec, &p, groups, read(a.A.Buf), read(a.B.Buf), write(part), read(bias), write(sums))
	sp := splitkPush{OffC: uint32(a.C.Offset), OffBias: uint32(a.Bias.Offset), M: uint32(a.M), N: uint32(a.N),
		StrideC: uint32(a.StrideC), Batch: uint32(a.Batch), Splits: uint32(pl.splits), Alpha: a.Alpha, Beta: a.Beta, Flags: p.Flags &^ (matmulVecA | matmulVecB | matmulRowSums | matmulRowSumsAdd)}
	b.splitk(&sp, a.Beta != 0, part, a.C.Buf, bias)
}

// splitk launches the second pass of a split-K product: the partials in
// part, added in order, through the epilogue of sp into c.
func (b *Kernels) splitk(sp *splitkPush, beta bool, part, c, bias tensor.Storage) {
	launch(b, "matmul_splitk", b.tune.splitkSpec(beta), sp, groups1D(int(sp.Batch*sp.M*sp.N), int(b.tune.Elem)), read(part), write(c), read(bias))
}

func b2u(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}
