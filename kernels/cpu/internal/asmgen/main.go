// Command asmgen generates the amd64 GEMM micro-kernels of package cpu with
// avo. Run it through go generate in kernels/cpu:
//
//	go run ./internal/asmgen -out gemm_amd64.s -stubs gemm_stub_amd64.go
//
// Each kernel computes one MR×NR tile of C from a packed A micro-panel (MR
// values per k) and a packed B micro-panel (NR values per k):
//
//	C[r][j] = alpha * sum_k a[k*MR+r] * b[k*NR+j]  (+ C[r][j] when acc != 0)
//
// C is row-major with leading dimension ldc elements. When acc is 0 the
// kernel never reads C. A variant of the AVX-512 kernel (indirect.go)
// reads each B row from an offset table instead of a packed panel, for the
// implicit-GEMM convolution, which also uses the tile store of that file.
// It also emits AVX-512 packing routines: a 14-row A micro-panel from row-major A and a 32-column B micro-panel from
// transposed B (both by 16×16 transposes), and a 32-column B micro-panel
// from row-major B (a strided copy). Finally it emits the AVX-512
// activation kernels of activation.go (sigmoid, SiLU and tanh-GELU,
// forward and backward).
//
// With -set vector it emits instead the AVX-512 row kernels of rows.go
// (exp of a shifted row with its sum, row maximum, scale-and-shift) and the
// elementwise binary kernels of binary.go, and the AVX2 forms of those and
// of the activations (avx2.go), into files of their own:
//
//	go run ./internal/asmgen -set vector -out vector_amd64.s -stubs vector_stub_amd64.go
//
// Layering: a generator run by go generate; it imports no package of the
// module.
package main

import (
	"flag"
	"fmt"
	"os"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// signature is the Go declaration every micro-kernel shares.
const signature = "func(k int, a, b, c *float32, ldc int, alpha float32, acc int)"

// set selects the kernels to emit: "gemm" (the GEMM micro-kernels,
// packing and activations) or "vector" (row and binary kernels).
var set = flag.String("set", "gemm", "kernels to emit: gemm or vector")

// main emits the kernels of the -set flag and their Go declarations, as
// named by the -out and -stubs flags.
func main() {
	flag.Parse()
	ConstraintExpr("amd64")
	switch *set {
	case "gemm":
		genGemmSet()
	case "vector":
		genVectorSet()
	default:
		fmt.Fprintf(os.Stderr, "asmgen: unknown kernel set %q\n", *set)
		os.Exit(2)
	}
	Generate()
}

// genGemmSet emits the GEMM micro-kernels, the packing routines and the
// activation kernels.
func genGemmSet() {
	genFMAKernel(isaAVX512, 14, 2)
	genIndirect(isaAVX512, 14, 2)
	genConvScatterAVX512()
	genFMAKernel(isaAVX2, 6, 2)
	genPackA14AVX512()
	genPackA14RowsAVX512()
	genPackB32AVX512()
	genPackBT32AVX512()
	genAVX2GemmSet()
	for _, kind := range []activation{actSigmoid, actSilu, actGeluTanh} {
		genActivationAVX512(kind, false)
		genActivationAVX512(kind, true)
	}
}

// genVectorSet emits the row kernels, the elementwise binary kernels and
// the group-norm kernels.
func genVectorSet() {
	genExpShiftAVX512(true)
	genExpShiftAVX512(false)
	genRowMaxAVX512()
	genScaleShiftAVX512()
	for _, op := range binaryOps {
		genBinaryAVX512(op)
	}
	genAddWidenAVX512()
	genVectorSetAVX2()
	genNormSumsAVX2()
	genAffineAVX2()
	genGradSumsAVX2()
	genGradRowAVX2()
}

// kernelArgs holds the registers of the common kernel arguments.
type kernelArgs struct {
	k, a, b, c, ldc, acc reg.Register
}

// loadArgs loads the common kernel arguments, ldc converted to bytes.
func loadArgs() kernelArgs {
	var r kernelArgs
	r.k = Load(Param("k"), GP64())
	r.a = Load(Param("a"), GP64())
	r.b = Load(Param("b"), GP64())
	r.c = Load(Param("c"), GP64())
	r.ldc = Load(Param("ldc"), GP64())
	SHLQ(U8(2), r.ldc) // elements to bytes
	r.acc = Load(Param("acc"), GP64())
	return r
}

// zmmRegs and ymmRegs are the vector registers the kernels assign by hand.
var (
	zmmRegs = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7, reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15, reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23, reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31}
	ymmRegs = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7, reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}
)

// fmaISA is what a GEMM micro-kernel needs to know of a vector extension.
type fmaISA struct {
	name  string // in the kernel's name: AVX512, AVX2
	doc   string // in its doc: "AVX-512F", "AVX2 and FMA"
	regs  []reg.VecPhysical
	lanes int                   // float32 values per register
	zero  func(reg.VecPhysical) // clears a register
}

var (
	isaAVX512 = fmaISA{"AVX512", "AVX-512F", zmmRegs, 16, func(z reg.VecPhysical) { VPXORD(z, z, z) }}
	isaAVX2   = fmaISA{"AVX2", "AVX2 and FMA", ymmRegs, 8, func(y reg.VecPhysical) { VXORPS(y, y, y) }}
)

// splitRegs divides regs into mr·nv accumulators, nv registers for a row
// of B and the rest for broadcasts of A (at least one).
func splitRegs(regs []reg.VecPhysical, mr, nv int) (accs, bregs, bc []reg.VecPhysical) {
	accs = regs[:mr*nv]
	bregs = regs[mr*nv : mr*nv+nv]
	bc = regs[mr*nv+nv:]
	if len(bc) < 1 {
		panic("asmgen: too many accumulators")
	}
	return accs, bregs, bc
}

// emitRankOne emits the products of depth u of the current group: each of
// the mr values of the packed A panel at a, broadcast, times the B row in
// bregs, added into accs.
func emitRankOne(a reg.Register, mr, nv, u int, bregs, bc, accs []reg.VecPhysical) {
	for r := 0; r < mr; r++ {
		t := bc[r%len(bc)]
		VBROADCASTSS(Mem{Base: a, Disp: 4*mr*u + 4*r}, t)
		for v := 0; v < nv; v++ {
			VFMADD231PS(bregs[v], t, accs[r*nv+v])
		}
	}
}

// genFMAKernel emits an mr×(lanes·nv) kernel of isa: mr·nv accumulators,
// nv registers for the B row and one or more for broadcasts.
func genFMAKernel(isa fmaISA, mr, nv int) {
	nr := isa.lanes * nv
	name := fmt.Sprintf("gemmKernel%sx%dx%d", isa.name, mr, nr)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile of C with %s.", name, mr, nr, isa.doc))
	args := loadArgs()
	accs, bregs, bc := splitRegs(isa.regs, mr, nv)
	emitPrefetchC(args, mr, 4*nr)
	for _, z := range accs {
		isa.zero(z)
	}
	vbytes := 4 * isa.lanes
	emitLoop(args, mr, nr, func(u int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: args.b, Disp: 4*nr*u + vbytes*v}, bregs[v])
		}
		emitRankOne(args.a, mr, nv, u, bregs, bc, accs)
	})
	alpha := bc[0]
	VBROADCASTSS(paramAddr("alpha"), alpha)
	emitStore(args, mr, nv, vbytes, accs, alpha)
	VZEROUPPER()
	RET()
}

// emitLoop runs step k times, unrolled by four with a remainder loop;
// step(u) handles the u-th k of the current group and the panel pointers
// advance once per group.
func emitLoop(args kernelArgs, mr, nr int, step func(u int)) {
	emitLoopAdvance(args, step, func(ks int) {
		ADDQ(U32(ks*4*mr), args.a)
		ADDQ(U32(ks*4*nr), args.b)
	})
}

// emitLoopAdvance is emitLoop with the pointer updates left to advance,
// called with the number of depths a group (or remainder step) covered.
func emitLoopAdvance(args kernelArgs, step func(u int), advance func(ks int)) {
	const unroll = 4
	n4 := GP64()
	MOVQ(args.k, n4)
	SHRQ(U8(2), n4)
	ANDQ(U32(unroll-1), args.k)
	TESTQ(n4, n4)
	JZ(LabelRef("tail"))
	Label("loop4")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	advance(unroll)
	DECQ(n4)
	JNZ(LabelRef("loop4"))
	Label("tail")
	TESTQ(args.k, args.k)
	JZ(LabelRef("done"))
	Label("loop1")
	step(0)
	advance(1)
	DECQ(args.k)
	JNZ(LabelRef("loop1"))
	Label("done")
}

// emitPrefetchC starts loading the rows of the C tile, rowBytes each, so
// that they are in cache by the time the tile is stored.
func emitPrefetchC(args kernelArgs, mr, rowBytes int) {
	p := GP64()
	MOVQ(args.c, p)
	for r := 0; r < mr; r++ {
		for off := 0; off < rowBytes; off += 64 {
			PREFETCHT0(Mem{Base: p, Disp: off})
		}
		PREFETCHT0(Mem{Base: p, Disp: rowBytes - 4})
		if r < mr-1 {
			ADDQ(args.ldc, p)
		}
	}
}

// emitStore writes alpha·acc to the tile, adding C when acc != 0.
func emitStore(args kernelArgs, mr, nv, vbytes int, accs []reg.VecPhysical, alpha reg.VecPhysical) {
	p := GP64()
	MOVQ(args.c, p)
	TESTQ(args.acc, args.acc)
	JZ(LabelRef("overwrite"))
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: p, Disp: vbytes * v}
			VFMADD213PS(m, alpha, accs[r*nv+v])
			VMOVUPS(accs[r*nv+v], m)
		}
		if r < mr-1 {
			ADDQ(args.ldc, p)
		}
	}
	JMP(LabelRef("end"))
	Label("overwrite")
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: p, Disp: vbytes * v}
			VMULPS(alpha, accs[r*nv+v], accs[r*nv+v])
			VMOVUPS(accs[r*nv+v], m)
		}
		if r < mr-1 {
			ADDQ(args.ldc, p)
		}
	}
	Label("end")
}

// paramAddr is the stack address of a scalar parameter.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// genPackA14AVX512 emits the packing of a full 14-row A micro-panel from
// row-major A: groups blocks of 16 depths, each a 14×16 block read row by
// row (lda elements apart) and written transposed, 14 values per depth.
// Rows 14 and 15 of the 16×16 transpose are zero and never stored.
func genPackA14AVX512() {
	TEXT("gemmPackA14AVX512", NOSPLIT, "func(dst, src *float32, lda, groups int)")
	Pragma("noescape")
	Doc("gemmPackA14AVX512 packs groups 16-deep blocks of a 14-row A micro-panel with AVX-512F.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	groups := Load(Param("groups"), GP64())
	lda3 := GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	b1, b2 := GP64(), GP64()
	LEAQ(Mem{Base: src, Index: lda, Scale: 4}, b1)
	ADDQ(lda, b1) // src + 5·lda
	LEAQ(Mem{Base: b1, Index: lda, Scale: 4}, b2)
	ADDQ(lda, b2) // src + 10·lda
	mask := GP32()
	MOVL(U32(0x3fff), mask)
	KMOVW(mask, reg.K1)
	z := zmmRegs
	rows := []Mem{
		{Base: src}, {Base: src, Index: lda, Scale: 1}, {Base: src, Index: lda, Scale: 2}, {Base: src, Index: lda3, Scale: 1}, {Base: src, Index: lda, Scale: 4},
		{Base: b1}, {Base: b1, Index: lda, Scale: 1}, {Base: b1, Index: lda, Scale: 2}, {Base: b1, Index: lda3, Scale: 1}, {Base: b1, Index: lda, Scale: 4},
		{Base: b2}, {Base: b2, Index: lda, Scale: 1}, {Base: b2, Index: lda, Scale: 2}, {Base: b2, Index: lda3, Scale: 1},
	}
	Label("group")
	for r, m := range rows {
		VMOVUPS(m, z[r])
	}
	packA14Store(z, dst)
	ADDQ(U32(64), src)
	ADDQ(U32(64), b1)
	ADDQ(U32(64), b2)
	ADDQ(U32(4*14*16), dst)
	DECQ(groups)
	JNZ(LabelRef("group"))
	VZEROUPPER()
	RET()
}

// genPackA14RowsAVX512 emits the packing of a full 14-row A micro-panel
// whose rows are runs of one buffer at arbitrary offsets (the taps of a
// convolution's padded input plane): row i of the panel starts at
// base + offs[i] elements. groups blocks of 16 depths are packed as by
// gemmPackA14AVX512.
func genPackA14RowsAVX512() {
	TEXT("gemmPackA14RowsAVX512", NOSPLIT, "func(dst, base *float32, offs *int, groups int)")
	Pragma("noescape")
	Doc("gemmPackA14RowsAVX512 packs groups 16-deep blocks of a 14-row A micro-panel whose row i starts at base+offs[i] with AVX-512F.")
	dst := Load(Param("dst"), GP64())
	base := Load(Param("base"), GP64())
	offs := Load(Param("offs"), GP64())
	groups := Load(Param("groups"), GP64())
	t := []reg.GPVirtual{GP64(), GP64()}
	mask := GP32()
	MOVL(U32(0x3fff), mask)
	KMOVW(mask, reg.K1)
	z := zmmRegs
	Label("group")
	for r := 0; r < 14; r++ {
		MOVQ(Mem{Base: offs, Disp: 8 * r}, t[r%2])
		VMOVUPS(Mem{Base: base, Index: t[r%2], Scale: 4}, z[r])
	}
	packA14Store(z, dst)
	ADDQ(U32(64), base)
	ADDQ(U32(4*14*16), dst)
	DECQ(groups)
	JNZ(LabelRef("group"))
	VZEROUPPER()
	RET()
}

// packA14Store transposes the 14 rows of 16 depths held in z[0:14] and
// stores them at dst, 14 values per depth under mask K1. Rows 14 and 15
// of the 16×16 transpose are zero and never stored.
func packA14Store(z []reg.VecPhysical, dst reg.Register) {
	x := make([]reg.VecPhysical, 16)
	copy(x, z[:14])
	VPXORD(z[14], z[14], z[14])
	x[14], x[15] = z[14], z[14]
	// Stage 1: interleave pairs of rows.
	t := z[16:32]
	for i := 0; i < 8; i++ {
		VUNPCKLPS(x[2*i+1], x[2*i], t[2*i])
		VUNPCKHPS(x[2*i+1], x[2*i], t[2*i+1])
	}
	// Stage 2: interleave pairs of pairs; u[4i+j] lane L then holds rows
	// 4i..4i+3 at depth 4L+j.
	u := z[0:16]
	for i := 0; i < 4; i++ {
		VUNPCKLPD(t[4*i+2], t[4*i], u[4*i])
		VUNPCKHPD(t[4*i+2], t[4*i], u[4*i+1])
		VUNPCKLPD(t[4*i+3], t[4*i+1], u[4*i+2])
		VUNPCKHPD(t[4*i+3], t[4*i+1], u[4*i+3])
	}
	// Stages 3 and 4: transpose the 128-bit lanes of u[j], u[4+j],
	// u[8+j], u[12+j] to get depths j, 4+j, 8+j and 12+j.
	w := z[16:20]
	o := z[20:24]
	for j := 0; j < 4; j++ {
		v0, v1, v2, v3 := u[j], u[4+j], u[8+j], u[12+j]
		VSHUFF32X4(U8(0x44), v1, v0, w[0])
		VSHUFF32X4(U8(0xEE), v1, v0, w[1])
		VSHUFF32X4(U8(0x44), v3, v2, w[2])
		VSHUFF32X4(U8(0xEE), v3, v2, w[3])
		VSHUFF32X4(U8(0x88), w[2], w[0], o[0])
		VSHUFF32X4(U8(0xDD), w[2], w[0], o[1])
		VSHUFF32X4(U8(0x88), w[3], w[1], o[2])
		VSHUFF32X4(U8(0xDD), w[3], w[1], o[3])
		for l := 0; l < 4; l++ {
			VMOVUPS(o[l], reg.K1, Mem{Base: dst, Disp: 4 * 14 * (4*l + j)})
		}
	}
}

// genPackB32AVX512 emits the packing of a full 32-column B micro-panel from
// row-major B: kc rows of 32 values, ldb elements apart, copied to
// consecutive 128-byte rows of dst.
func genPackB32AVX512() {
	genPackBRows("gemmPackB32AVX512", "gemmPackB32AVX512 packs kc depths of a 32-column B micro-panel from row-major B with AVX-512F.",
		reg.Z0, reg.Z1, 64)
}

// genPackBRows emits a B packing routine, func(dst, src *float32, ldb, kc
// int), that copies kc rows of two vector registers (r0 and r1, vec bytes
// each), ldb elements apart, to consecutive rows of 2·vec bytes of dst.
func genPackBRows(name, doc string, r0, r1 reg.Register, vec int) {
	TEXT(name, NOSPLIT, "func(dst, src *float32, ldb, kc int)")
	Pragma("noescape")
	Doc(doc)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	kc := Load(Param("kc"), GP64())
	TESTQ(kc, kc)
	JZ(LabelRef("done"))
	Label("row")
	VMOVUPS(Mem{Base: src}, r0)
	VMOVUPS(Mem{Base: src, Disp: vec}, r1)
	VMOVUPS(r0, Mem{Base: dst})
	VMOVUPS(r1, Mem{Base: dst, Disp: vec})
	ADDQ(ldb, src)
	ADDQ(U32(2*vec), dst)
	DECQ(kc)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// genPackBT32AVX512 emits the packing of a full 32-column B micro-panel
// from transposed B (stored N×K, so the panel's 32 columns are 32 rows ldb
// elements apart): groups blocks of 16 depths, each two 16×16 transposes
// (columns 0–15 and 16–31) written as 32 values per depth.
func genPackBT32AVX512() {
	TEXT("gemmPackBT32AVX512", NOSPLIT, "func(dst, src *float32, ldb, groups int)")
	Pragma("noescape")
	Doc("gemmPackBT32AVX512 packs groups 16-deep blocks of a 32-column B micro-panel from transposed B with AVX-512F.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	groups := Load(Param("groups"), GP64())
	row := GP64()
	z := zmmRegs
	Label("group")
	MOVQ(src, row)
	for half := 0; half < 2; half++ {
		x := z[0:16]
		for r := range x {
			VMOVUPS(Mem{Base: row}, x[r])
			ADDQ(ldb, row)
		}
		out := transpose16(z)
		for d, o := range out {
			VMOVUPS(o, Mem{Base: dst, Disp: 4 * (32*d + 16*half)})
		}
	}
	ADDQ(U32(64), src)
	ADDQ(U32(4*32*16), dst)
	DECQ(groups)
	JNZ(LabelRef("group"))
	VZEROUPPER()
	RET()
}

// transpose16 transposes the 16×16 block held in z[0:16] (row r in z[r])
// using z[16:32] as scratch, and returns the registers that hold depths
// 0–15 in order (each with the 16 rows of that depth).
func transpose16(z []reg.VecPhysical) []reg.VecPhysical {
	x := z[0:16]
	t := z[16:32]
	for i := 0; i < 8; i++ {
		VUNPCKLPS(x[2*i+1], x[2*i], t[2*i])
		VUNPCKHPS(x[2*i+1], x[2*i], t[2*i+1])
	}
	u := z[0:16]
	for i := 0; i < 4; i++ {
		VUNPCKLPD(t[4*i+2], t[4*i], u[4*i])
		VUNPCKHPD(t[4*i+2], t[4*i], u[4*i+1])
		VUNPCKLPD(t[4*i+3], t[4*i+1], u[4*i+2])
		VUNPCKHPD(t[4*i+3], t[4*i+1], u[4*i+3])
	}
	// u[j], u[4+j], u[8+j], u[12+j] give depths j, 4+j, 8+j, 12+j; the
	// results go to z[16:32] (depth d in out[d]).
	out := make([]reg.VecPhysical, 16)
	w := []reg.VecPhysical{z[16], z[17], z[18], z[19]}
	res := z[20:32]
	for j := 0; j < 4; j++ {
		v0, v1, v2, v3 := u[j], u[4+j], u[8+j], u[12+j]
		VSHUFF32X4(U8(0x44), v1, v0, w[0])
		VSHUFF32X4(U8(0xEE), v1, v0, w[1])
		VSHUFF32X4(U8(0x44), v3, v2, w[2])
		VSHUFF32X4(U8(0xEE), v3, v2, w[3])
		// The last group writes its results over v0..v3, which it no
		// longer reads; the others use the free registers of res.
		dsts := []reg.VecPhysical{v0, v1, v2, v3}
		if j < 3 {
			dsts = res[4*j : 4*j+4]
		}
		VSHUFF32X4(U8(0x88), w[2], w[0], dsts[0])
		VSHUFF32X4(U8(0xDD), w[2], w[0], dsts[1])
		VSHUFF32X4(U8(0x88), w[3], w[1], dsts[2])
		VSHUFF32X4(U8(0xDD), w[3], w[1], dsts[3])
		for l := 0; l < 4; l++ {
			out[4*l+j] = dsts[l]
		}
	}
	return out
}
