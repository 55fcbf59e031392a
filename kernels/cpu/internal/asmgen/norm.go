package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The group-norm kernels: float32 data widened to float64, four doubles
// per AVX2 register, eight values (two registers) a block; the caller
// handles the last n mod 8 values. Products and sums that the scalar
// loops of groupnorm.go round one at a time are rounded one at a time
// here too (VMULPD then VADDPD, no fused form), so the stored values have
// the scalar loops' bits; only the sums run in a different order.

// genNormSumsAVX2 emits normSumsAVX2, Σ (x − k) and Σ (x − k)² over
// 8·blocks values in four accumulators. The square of a difference of
// two float32 values is exact in float64, so the fused multiply-add
// rounds once, as the scalar loop's addition does.
func genNormSumsAVX2() {
	TEXT("normSumsAVX2", NOSPLIT, "func(x *float32, blocks int, k float64) (s1, s2 float64)")
	Pragma("noescape")
	Doc("normSumsAVX2 returns Σ (x[i] − k) and Σ (x[i] − k)² over 8·blocks values with AVX2 and FMA.")
	x := Load(Param("x"), GP64())
	blocks := Load(Param("blocks"), GP64())
	k := YMM()
	VBROADCASTSD(paramAddr("k"), k)
	acc := zeroY(4)
	a0, a1, q0, q1 := acc[0], acc[1], acc[2], acc[3]
	emitBlocks(blocks, []reg.Register{x}, func() {
		d0, d1 := YMM(), YMM()
		VCVTPS2PD(Mem{Base: x}, d0)
		VCVTPS2PD(Mem{Base: x, Disp: 16}, d1)
		VSUBPD(k, d0, d0)
		VSUBPD(k, d1, d1)
		VADDPD(d0, a0, a0)
		VADDPD(d1, a1, a1)
		VFMADD231PD(d0, d0, q0)
		VFMADD231PD(d1, d1, q1)
	})
	returnTwoSums(a0, a1, q0, q1)
}

// zeroY returns n zeroed registers of four doubles.
func zeroY(n int) []reg.VecVirtual {
	rs := make([]reg.VecVirtual, n)
	for i := range rs {
		rs[i] = YMM()
		VXORPD(rs[i], rs[i], rs[i])
	}
	return rs
}

// emitBlocks emits a loop running body blocks times, each time moving
// every pointer of ptrs on by a block of eight float32 values.
func emitBlocks(blocks reg.Register, ptrs []reg.Register, body func()) {
	TESTQ(blocks, blocks)
	JZ(LabelRef("done"))
	Label("block")
	body()
	for _, p := range ptrs {
		ADDQ(U8(32), p)
	}
	DECQ(blocks)
	JNZ(LabelRef("block"))
	Label("done")
}

// returnTwoSums adds each pair of accumulators (a0 + a1, q0 + q1), sums
// their lanes and returns them as the kernel's two results.
func returnTwoSums(a0, a1, q0, q1 reg.VecVirtual) {
	VADDPD(a1, a0, a0)
	VADDPD(q1, q0, q0)
	Store(sumLanesY(a0), ReturnIndex(0))
	Store(sumLanesY(q0), ReturnIndex(1))
	VZEROUPPER()
	RET()
}

// sumLanesY adds the four doubles of a, 2+2 then 1+1.
func sumLanesY(a reg.VecVirtual) reg.VecVirtual {
	x := XMM()
	VEXTRACTF128(U8(1), a, x)
	VADDPD(x, a.AsX(), x)
	h := XMM()
	VUNPCKHPD(x, x, h)
	VADDSD(h, x, x)
	return x
}

// storeNarrowY rounds the doubles of lo and hi to float32 and stores them
// as eight values at d.
func storeNarrowY(lo, hi reg.VecVirtual, d reg.Register) {
	l, h := XMM(), XMM()
	VCVTPD2PSY(lo, l)
	VCVTPD2PSY(hi, h)
	VMOVUPS(l, Mem{Base: d})
	VMOVUPS(h, Mem{Base: d, Disp: 16})
}

// genAffineAVX2 emits affineAVX2, out = float32((x − mu)·scale + shift).
func genAffineAVX2() {
	TEXT("affineAVX2", NOSPLIT, "func(out, x *float32, blocks int, mu, scale, shift float64)")
	Pragma("noescape")
	Doc("affineAVX2 sets out[i] = float32((x[i] − mu)·scale + shift) for 8·blocks values with AVX2.")
	out := Load(Param("out"), GP64())
	x := Load(Param("x"), GP64())
	blocks := Load(Param("blocks"), GP64())
	mu, scale, shift := YMM(), YMM(), YMM()
	VBROADCASTSD(paramAddr("mu"), mu)
	VBROADCASTSD(paramAddr("scale"), scale)
	VBROADCASTSD(paramAddr("shift"), shift)
	emitBlocks(blocks, []reg.Register{x, out}, func() {
		d0, d1 := YMM(), YMM()
		VCVTPS2PD(Mem{Base: x}, d0)
		VCVTPS2PD(Mem{Base: x, Disp: 16}, d1)
		for _, d := range []reg.VecVirtual{d0, d1} {
			VSUBPD(mu, d, d)
			VMULPD(scale, d, d)
			VADDPD(shift, d, d)
		}
		storeNarrowY(d0, d1, out)
	})
	VZEROUPPER()
	RET()
}

// genGradSumsAVX2 emits gradSumsAVX2, Σ g and Σ g·(x − mu).
func genGradSumsAVX2() {
	TEXT("gradSumsAVX2", NOSPLIT, "func(gy, x *float32, blocks int, mu float64) (sg, sgx float64)")
	Pragma("noescape")
	Doc("gradSumsAVX2 returns Σ gy[i] and Σ gy[i]·(x[i] − mu) over 8·blocks values with AVX2 and FMA.")
	g := Load(Param("gy"), GP64())
	x := Load(Param("x"), GP64())
	blocks := Load(Param("blocks"), GP64())
	mu := YMM()
	VBROADCASTSD(paramAddr("mu"), mu)
	acc := zeroY(4)
	a0, a1, q0, q1 := acc[0], acc[1], acc[2], acc[3]
	emitBlocks(blocks, []reg.Register{g, x}, func() {
		g0, g1, d0, d1 := YMM(), YMM(), YMM(), YMM()
		VCVTPS2PD(Mem{Base: g}, g0)
		VCVTPS2PD(Mem{Base: g, Disp: 16}, g1)
		VCVTPS2PD(Mem{Base: x}, d0)
		VCVTPS2PD(Mem{Base: x, Disp: 16}, d1)
		VSUBPD(mu, d0, d0)
		VSUBPD(mu, d1, d1)
		VADDPD(g0, a0, a0)
		VADDPD(g1, a1, a1)
		VFMADD231PD(g0, d0, q0)
		VFMADD231PD(g1, d1, q1)
	})
	returnTwoSums(a0, a1, q0, q1)
}

// genGradRowAVX2 emits gradRowAVX2, dx = float32(g·gw + c0 + (x − mu)·k).
func genGradRowAVX2() {
	TEXT("gradRowAVX2", NOSPLIT, "func(dx, gy, x *float32, blocks int, mu, gw, c0, k float64)")
	Pragma("noescape")
	Doc("gradRowAVX2 sets dx[i] = float32(gy[i]·gw + c0 + (x[i] − mu)·k) for 8·blocks values with AVX2.")
	dx := Load(Param("dx"), GP64())
	g := Load(Param("gy"), GP64())
	x := Load(Param("x"), GP64())
	blocks := Load(Param("blocks"), GP64())
	mu, gw, c0, k := YMM(), YMM(), YMM(), YMM()
	VBROADCASTSD(paramAddr("mu"), mu)
	VBROADCASTSD(paramAddr("gw"), gw)
	VBROADCASTSD(paramAddr("c0"), c0)
	VBROADCASTSD(paramAddr("k"), k)
	emitBlocks(blocks, []reg.Register{g, x, dx}, func() {
		var res [2]reg.VecVirtual
		for h := range 2 {
			t, d := YMM(), YMM()
			VCVTPS2PD(Mem{Base: g, Disp: 16 * h}, t)
			VCVTPS2PD(Mem{Base: x, Disp: 16 * h}, d)
			VMULPD(gw, t, t)
			VADDPD(c0, t, t)
			VSUBPD(mu, d, d)
			VMULPD(k, d, d)
			VADDPD(d, t, t)
			res[h] = t
		}
		storeNarrowY(res[0], res[1], dx)
	})
	VZEROUPPER()
	RET()
}
