package main

// The indirect micro-kernels of the implicit-GEMM convolution
// (conv_implicit.go in package cpu). Each is a kernel of genFMAKernel (the
// AVX-512 14×32 one, the AVX2 6×16 one)
// except for where B comes from: instead of a packed micro-panel, row kk
// of B is the nr floats at b + 4·off[kk], read straight from a padded
// input image. For a stride-1 convolution computed in the "extended"
// output layout, that row is a contiguous run of one padded input plane,
// so the kernel needs neither an im2col copy nor a packed B panel. The
// kernel writes a scratch tile, which convScatterAVX512 then moves into
// the output, dropping the extended layout's garbage columns
// (convScatterAVX512, or convScatterAVX2 of avx2pack.go).

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// genIndirect emits gemmKernel<ISA>x<mr>x<nr>Indirect:
//
//	C[r*ldc+j] = alpha * sum_kk a[kk*mr+r] * b[off[kk]+j]   (+ C when acc != 0)
//
// with A a packed micro-panel and off k element offsets into b. Where
// genFMAKernel prefetches the C tile, this one prefetches mr rows of nr
// values at pf, ldpf elements apart: the tile's final destination.
func genIndirect(isa fmaISA, mr, nv int) {
	nr := isa.lanes * nv
	name := fmt.Sprintf("gemmKernel%sx%dx%dIndirect", isa.name, mr, nr)
	TEXT(name, NOSPLIT, "func(k int, a, b *float32, off *int, c *float32, ldc int, alpha float32, acc int, pf *float32, ldpf int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile of C with %s from a packed A micro-panel and B rows at b+off[kk], prefetching %d rows of %d values at pf, ldpf apart.", name, mr, nr, isa.doc, mr, nr))
	args := loadArgs()
	off := Load(Param("off"), GP64())
	// C is a scratch tile already in L1; what the caller will move it to
	// is prefetched instead, so that those misses overlap the products.
	pfArgs := kernelArgs{c: Load(Param("pf"), GP64()), ldc: Load(Param("ldpf"), GP64())}
	SHLQ(U8(2), pfArgs.ldc)
	emitPrefetchC(pfArgs, mr, 4*nr)
	accs, bregs, bc := splitRegs(isa.regs, mr, nv)
	for _, z := range accs {
		isa.zero(z)
	}
	vbytes := 4 * isa.lanes
	// Two index registers, alternated, so that the offset load of one row
	// need not wait for the B loads of the previous one.
	idx := []reg.GPVirtual{GP64(), GP64()}
	step := func(u int) {
		ix := idx[u%2]
		MOVQ(Mem{Base: off, Disp: 8 * u}, ix)
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: args.b, Index: ix, Scale: 4, Disp: vbytes * v}, bregs[v])
		}
		emitRankOne(args.a, mr, nv, u, bregs, bc, accs)
	}
	emitLoopAdvance(args, step, func(ks int) {
		ADDQ(U32(ks*4*mr), args.a)
		ADDQ(U32(ks*8), off)
	})
	alpha := bc[0]
	VBROADCASTSS(paramAddr("alpha"), alpha)
	emitStore(args, mr, nv, vbytes, accs, alpha)
	VZEROUPPER()
	RET()
}

// genConvScatterAVX512 emits convScatterAVX512, which copies one run of up
// to 32 columns of a 32-wide tile into rows rows of an output, adding a
// per-row bias: dst[r·ldd + i] = src[32·r + i] + bias[r] for the columns
// i set in the masks m1 (0–15) and m2 (16–31). The implicit-GEMM
// convolution moves each tile into place this way, one call per run of
// real output pixels for all the tile's rows.
func genConvScatterAVX512() {
	TEXT("convScatterAVX512", NOSPLIT, "func(dst *float32, ldd int, src, bias *float32, rows, m1, m2 int)")
	Pragma("noescape")
	Doc("convScatterAVX512 adds bias[r] to the masked columns of rows rows of a 32-wide tile and stores them ldd elements apart with AVX-512F.")
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd)
	src := Load(Param("src"), GP64())
	bias := Load(Param("bias"), GP64())
	rows := Load(Param("rows"), GP64())
	m1, m2 := GP64(), GP64()
	Load(Param("m1"), m1)
	Load(Param("m2"), m2)
	KMOVW(m1.As32(), reg.K1)
	KMOVW(m2.As32(), reg.K2)
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	Label("row")
	VBROADCASTSS(Mem{Base: bias}, reg.Z2)
	VMOVUPS_Z(Mem{Base: src}, reg.K1, reg.Z0)
	VMOVUPS_Z(Mem{Base: src, Disp: 64}, reg.K2, reg.Z1)
	VADDPS(reg.Z2, reg.Z0, reg.Z0)
	VADDPS(reg.Z2, reg.Z1, reg.Z1)
	VMOVUPS(reg.Z0, reg.K1, Mem{Base: dst})
	VMOVUPS(reg.Z1, reg.K2, Mem{Base: dst, Disp: 64})
	ADDQ(U32(4), bias)
	ADDQ(U32(128), src)
	ADDQ(ldd, dst)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
