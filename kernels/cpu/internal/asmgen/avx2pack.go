package main

// The AVX2 packing routines of the 6×16 GEMM micro-kernel and the pieces of
// its implicit-GEMM convolution, the AVX2 forms of the AVX-512 ones of
// main.go and indirect.go:
//
//	gemmPackA6AVX2       a 6-row A micro-panel from row-major A
//	gemmPackA6RowsAVX2   the same from rows at arbitrary offsets of one buffer
//	gemmPackB16AVX2      a 16-column B micro-panel from row-major B
//	gemmPackBT16AVX2     the same from transposed B
//	convScatterAVX2      a run of tile columns into the output, plus bias
//
// The A and transposed-B packings go through 8×8 register transposes
// (transpose8). A 6-row panel stores each depth's 8 transposed values at
// 6-value steps, each store overwriting the two padding values of the one
// before; the last depth of a group is stored under a 6-lane mask, so
// nothing is written past the group.

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Rows of the gemm set's AVX2 table.
const (
	gLaneIndex = 0 // 0, 1, …, 7 as int32
	gMask6     = 1 // all bits set in lanes 0–5
	gRows      = 2
)

// avx2GemmTable is the gemm set's table, declared by genAVX2GemmSet.
var avx2GemmTable Mem

// gy is the memory operand of row r of the gemm set's table.
func gy(r int) Mem { return avx2GemmTable.Offset(yBytes * r) }

// genAVX2GemmSet emits the AVX2 indirect kernel, scatter and packings.
func genAVX2GemmSet() {
	avx2GemmTable = GLOBL("avx2GemmConsts", RODATA|NOPTR)
	// The assembler takes the entries in increasing order.
	for l := range yLanes {
		DATA(yBytes*gLaneIndex+4*l, U32(l))
	}
	for l := range yLanes {
		m := uint32(0)
		if l < 6 {
			m = 0xffffffff
		}
		DATA(yBytes*gMask6+4*l, U32(m))
	}
	genIndirect(isaAVX2, 6, 2)
	genConvScatterAVX2()
	genPackA6AVX2(false)
	genPackA6AVX2(true)
	genPackB16AVX2()
	genPackBT16AVX2()
}

// transpose8 transposes the 8×8 block held in x (row r in x[r]) and
// returns the registers holding its columns in order.
func transpose8(x []reg.VecVirtual) []reg.VecVirtual {
	t := make([]reg.VecVirtual, 8)
	for i := 0; i < 4; i++ {
		t[2*i], t[2*i+1] = YMM(), YMM()
		VUNPCKLPS(x[2*i+1], x[2*i], t[2*i])   // r0 r1 interleaved, low pairs
		VUNPCKHPS(x[2*i+1], x[2*i], t[2*i+1]) // high pairs
	}
	u := make([]reg.VecVirtual, 8)
	for i := 0; i < 2; i++ {
		a, b, c, d := t[4*i], t[4*i+1], t[4*i+2], t[4*i+3]
		u[4*i], u[4*i+1], u[4*i+2], u[4*i+3] = YMM(), YMM(), YMM(), YMM()
		VSHUFPS(U8(0x44), c, a, u[4*i])   // columns 0 (and 4) of rows 4i..4i+3
		VSHUFPS(U8(0xEE), c, a, u[4*i+1]) // columns 1 (and 5)
		VSHUFPS(U8(0x44), d, b, u[4*i+2]) // columns 2 (and 6)
		VSHUFPS(U8(0xEE), d, b, u[4*i+3]) // columns 3 (and 7)
	}
	out := make([]reg.VecVirtual, 8)
	for j := 0; j < 4; j++ {
		out[j], out[4+j] = YMM(), YMM()
		VPERM2F128(U8(0x20), u[4+j], u[j], out[j])
		VPERM2F128(U8(0x31), u[4+j], u[j], out[4+j])
	}
	return out
}

// genPackA6AVX2 emits gemmPackA6AVX2, func(dst, src *float32, lda, groups
// int), packing groups blocks of 16 depths of a full 6-row A micro-panel
// from row-major A (rows lda elements apart), or, with rows set,
// gemmPackA6RowsAVX2, func(dst, base *float32, offs *int, groups int),
// whose row i starts at base + offs[i] elements.
func genPackA6AVX2(rows bool) {
	var src, lda, offs reg.Register
	if rows {
		TEXT("gemmPackA6RowsAVX2", NOSPLIT, "func(dst, base *float32, offs *int, groups int)")
		Pragma("noescape")
		Doc("gemmPackA6RowsAVX2 packs groups 16-deep blocks of a 6-row A micro-panel whose row i starts at base+offs[i] with AVX2.")
	} else {
		TEXT("gemmPackA6AVX2", NOSPLIT, "func(dst, src *float32, lda, groups int)")
		Pragma("noescape")
		Doc("gemmPackA6AVX2 packs groups 16-deep blocks of a 6-row A micro-panel with AVX2.")
	}
	dst := Load(Param("dst"), GP64())
	if rows {
		src = Load(Param("base"), GP64())
		offs = Load(Param("offs"), GP64())
	} else {
		src = Load(Param("src"), GP64())
		lda = Load(Param("lda"), GP64())
		SHLQ(U8(2), lda)
	}
	groups := Load(Param("groups"), GP64())
	// Row pointers: six registers that advance 16 depths per group.
	ptrs := make([]reg.GPVirtual, 6)
	for r := range ptrs {
		ptrs[r] = GP64()
		if rows {
			MOVQ(Mem{Base: offs, Disp: 8 * r}, ptrs[r])
			LEAQ(Mem{Base: src, Index: ptrs[r], Scale: 4}, ptrs[r])
		} else if r == 0 {
			MOVQ(src, ptrs[r])
		} else {
			LEAQ(Mem{Base: ptrs[r-1], Index: lda, Scale: 1}, ptrs[r])
		}
	}
	mask := YMM()
	VMOVUPS(gy(gMask6), mask)
	Label("group")
	for half := 0; half < 2; half++ {
		x := make([]reg.VecVirtual, 8)
		for r := range 6 {
			x[r] = YMM()
			VMOVUPS(Mem{Base: ptrs[r], Disp: yBytes * half}, x[r])
		}
		x[6], x[7] = YMM(), YMM()
		VXORPS(x[6], x[6], x[6])
		VXORPS(x[7], x[7], x[7])
		cols := transpose8(x)
		for j, c := range cols {
			m := Mem{Base: dst, Disp: 4 * 6 * (8*half + j)}
			if half == 1 && j == 7 {
				VMASKMOVPS(c, mask, m)
			} else {
				VMOVUPS(c, m)
			}
		}
	}
	for _, p := range ptrs {
		ADDQ(U32(64), p)
	}
	ADDQ(U32(4*6*16), dst)
	DECQ(groups)
	JNZ(LabelRef("group"))
	VZEROUPPER()
	RET()
}

// genPackB16AVX2 emits gemmPackB16AVX2, func(dst, src *float32, ldb, kc
// int): kc rows of 16 values, ldb elements apart, copied to consecutive
// 64-byte rows of dst.
func genPackB16AVX2() {
	genPackBRows("gemmPackB16AVX2", "gemmPackB16AVX2 packs kc depths of a 16-column B micro-panel from row-major B with AVX2.",
		reg.Y0, reg.Y1, 32)
}

// genPackBT16AVX2 emits gemmPackBT16AVX2, func(dst, src *float32, ldb,
// groups int): groups blocks of 16 depths of a 16-column B micro-panel
// from transposed B (the panel's columns are 16 rows ldb elements apart),
// each four 8×8 transposes written as 16 values per depth.
func genPackBT16AVX2() {
	TEXT("gemmPackBT16AVX2", NOSPLIT, "func(dst, src *float32, ldb, groups int)")
	Pragma("noescape")
	Doc("gemmPackBT16AVX2 packs groups 16-deep blocks of a 16-column B micro-panel from transposed B with AVX2.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	groups := Load(Param("groups"), GP64())
	row := GP64()
	Label("group")
	for c := 0; c < 2; c++ { // columns 8c..8c+7 of the panel
		for d := 0; d < 2; d++ { // depths 8d..8d+7 of the group
			MOVQ(src, row)
			if c == 1 {
				for range 8 {
					ADDQ(ldb, row)
				}
			}
			x := make([]reg.VecVirtual, 8)
			for r := range x {
				x[r] = YMM()
				VMOVUPS(Mem{Base: row, Disp: yBytes * d}, x[r])
				if r < 7 {
					ADDQ(ldb, row)
				}
			}
			for j, col := range transpose8(x) {
				VMOVUPS(col, Mem{Base: dst, Disp: 4 * (16*(8*d+j) + 8*c)})
			}
		}
	}
	ADDQ(U32(64), src)
	ADDQ(U32(4*16*16), dst)
	DECQ(groups)
	JNZ(LabelRef("group"))
	VZEROUPPER()
	RET()
}

// genConvScatterAVX2 emits convScatterAVX2, func(dst *float32, ldd int,
// src, bias *float32, rows, n int): dst[r·ldd + i] = src[16·r + i] +
// bias[r] for i < n ≤ 16, over rows rows of a 16-wide tile, the columns
// at and past n neither read nor written. Masked stores are microcoded
// and slow on AMD processors, so a row is written as 8-wide, 4-wide and
// single plain stores: two 8-wide ones for a full row, up to 1 + 1 + 3 for
// a partial one.
func genConvScatterAVX2() {
	TEXT("convScatterAVX2", NOSPLIT, "func(dst *float32, ldd int, src, bias *float32, rows, n int)")
	Pragma("noescape")
	Doc("convScatterAVX2 adds bias[r] to the first n columns of rows rows of a 16-wide tile and stores them ldd elements apart with AVX2.")
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd)
	src := Load(Param("src"), GP64())
	bias := Load(Param("bias"), GP64())
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	p, q, k := GP64(), GP64(), GP64()
	b, v := YMM(), YMM()
	Label("row")
	VBROADCASTSS(Mem{Base: bias}, b)
	MOVQ(src, p)
	MOVQ(dst, q)
	MOVQ(n, k)
	Label("eight")
	CMPQ(k, U8(8))
	JL(LabelRef("four"))
	VADDPS(Mem{Base: p}, b, v)
	VMOVUPS(v, Mem{Base: q})
	ADDQ(U8(32), p)
	ADDQ(U8(32), q)
	SUBQ(U8(8), k)
	JMP(LabelRef("eight"))
	Label("four")
	CMPQ(k, U8(4))
	JL(LabelRef("one"))
	VADDPS(Mem{Base: p}, b.AsX(), v.AsX())
	VMOVUPS(v.AsX(), Mem{Base: q})
	ADDQ(U8(16), p)
	ADDQ(U8(16), q)
	SUBQ(U8(4), k)
	Label("one")
	TESTQ(k, k)
	JZ(LabelRef("next"))
	VADDSS(Mem{Base: p}, b.AsX(), v.AsX())
	VMOVSS(v.AsX(), Mem{Base: q})
	ADDQ(U8(4), p)
	ADDQ(U8(4), q)
	DECQ(k)
	JMP(LabelRef("one"))
	Label("next")
	ADDQ(U32(4), bias)
	ADDQ(U32(64), src)
	ADDQ(ldd, dst)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
