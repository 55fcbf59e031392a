package main

// The AVX-512F row kernels behind the softmax, cross-entropy and attention
// row helpers, over n consecutive float32 values, sixteen per zmm register
// and the last n mod 16 under a load/store mask:
//
//	expShiftAVX512     d[i] = e^(x[i] − shift), returning Σ d[i]
//	expShiftSumAVX512  Σ e^(x[i] − shift) without storing the terms
//	rowMaxAVX512       max x[i] (−Inf for n = 0, NaN if any x[i] is NaN)
//	scaleShiftAVX512   d[i] = a·(x[i] − shift)
//
// The exponential is emitExp, the reduction and polynomial of the scalar
// exp32, on the argument x[i] − shift rounded to float32 and clamped to
// [−104, 89]: −Inf gives 0, +Inf gives +Inf and NaN passes through. The
// sums are kept in float64: each register of terms is widened to two
// registers of eight doubles added into per-lane accumulators, which are
// added pairwise in a fixed order at the end, so a sum depends only on the
// values and n.

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Constants of the row kernels.
const (
	rowExpMax = 89         // e^89 overflows float32 (ln MaxFloat32 ≈ 88.72)
	rowNaN    = 0x7fc00000 // the float32 quiet NaN, float32(math.NaN())
)

// emitMap emits the loop of a kernel that maps n float32 positions of the
// arrays srcs to dst (nil when the kernel stores nothing). body receives
// the registers loaded from srcs at one position block and returns the
// register to store. Whole registers are processed unroll at a time
// (body's u numbers them), then one at a time, and the last n mod 16
// values with body's k set to the tail mask: masked-off lanes are loaded
// as zeros and neither read from memory nor written. n is consumed.
func emitMap(dst reg.Register, srcs []reg.Register, n reg.Register, unroll int, body func(u int, xs []reg.VecVirtual, k reg.Register) reg.VecVirtual) {
	i := GP64()
	XORQ(i, i)
	at := func(p reg.Register, u int) Mem { return Mem{Base: p, Index: i, Scale: 4, Disp: actVecSz * u} }
	step := func(u int, k reg.Register) {
		xs := make([]reg.VecVirtual, len(srcs))
		for j, s := range srcs {
			xs[j] = ZMM()
			if k != nil {
				VMOVUPS_Z(at(s, u), k, xs[j])
			} else {
				VMOVUPS(at(s, u), xs[j])
			}
		}
		r := body(u, xs, k)
		switch {
		case dst == nil:
		case k != nil:
			VMOVUPS(r, k, at(dst, u))
		default:
			VMOVUPS(r, at(dst, u))
		}
	}
	emitBlockLoop(i, n, actVecLen, unroll, func(u int) { step(u, nil) }, func() {
		// mask = 2ⁿ − 1 selects the n < 16 remaining lanes.
		bits := GP64()
		XORQ(bits, bits)
		BTSQ(n, bits)
		DECQ(bits)
		k := K()
		KMOVW(bits.As32(), k)
		step(0, k)
	})
}

// emitBlockLoop emits the loop of emitMap and emitMapY over n positions of
// lanes values per register, i their index (from 0): full(u) for whole
// registers, unroll at a time (u numbers them) and then one at a time, and
// tail for the last n mod lanes positions when there are any. n is
// consumed.
func emitBlockLoop(i, n reg.Register, lanes, unroll int, full func(u int), tail func()) {
	if unroll > 1 {
		CMPQ(n, U32(lanes*unroll))
		JB(LabelRef("single"))
		Label("unrolled")
		for u := range unroll {
			full(u)
		}
		ADDQ(U32(lanes*unroll), i)
		SUBQ(U32(lanes*unroll), n)
		CMPQ(n, U32(lanes*unroll))
		JAE(LabelRef("unrolled"))
	}
	Label("single")
	CMPQ(n, U8(lanes))
	JB(LabelRef("tail"))
	full(0)
	ADDQ(U8(lanes), i)
	SUBQ(U8(lanes), n)
	JMP(LabelRef("single"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	tail()
	Label("done")
}

// zeroZMM returns a zmm register of zeros.
func zeroZMM() reg.VecVirtual {
	z := ZMM()
	VPXORD(z, z, z)
	return z
}

// genExpShiftAVX512 emits expShiftAVX512 (store set: func(d, x *float32,
// n int, shift float32) float64, d may be x) or expShiftSumAVX512
// (func(x *float32, n int, shift float32) float64). Two registers are
// processed per iteration, each with its own pair of accumulators.
func genExpShiftAVX512(store bool) {
	const unroll = 2
	var dst reg.Register
	if store {
		TEXT("expShiftAVX512", NOSPLIT, "func(d, x *float32, n int, shift float32) float64")
		Pragma("noescape")
		Doc("expShiftAVX512 sets d[i] = e^(x[i] − shift) for n values and returns their sum in float64, with AVX-512F.")
		dst = Load(Param("d"), GP64())
	} else {
		TEXT("expShiftSumAVX512", NOSPLIT, "func(x *float32, n int, shift float32) float64")
		Pragma("noescape")
		Doc("expShiftSumAVX512 returns the float64 sum of e^(x[i] − shift) over n values, with AVX-512F.")
	}
	src := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	shift := ZMM()
	VBROADCASTSS(paramAddr("shift"), shift)
	lo, hi := broadcastF32(actExpMin), broadcastF32(rowExpMax)
	c := loadExpConsts()
	var accs []reg.VecVirtual // lanes 0–7 and 8–15 of each unrolled register
	for range 2 * unroll {
		accs = append(accs, zeroZMM())
	}
	emitMap(dst, []reg.Register{src}, n, unroll, func(u int, xs []reg.VecVirtual, k reg.Register) reg.VecVirtual {
		// t = clamp(x − shift, −104, 89); both VMAXPS and VMINPS return
		// their first operand, t, when it is NaN.
		t := ZMM()
		VSUBPS(shift, xs[0], t)
		VMAXPS(t, lo, t)
		VMINPS(t, hi, t)
		e := emitExp(&c, t, k)
		wl, wh := ZMM(), ZMM()
		VCVTPS2PD(e.AsY(), wl)
		eh := YMM()
		VEXTRACTF64X4(U8(1), e, eh)
		VCVTPS2PD(eh, wh)
		VADDPD(wl, accs[2*u], accs[2*u])
		VADDPD(wh, accs[2*u+1], accs[2*u+1])
		return e
	})
	for u := 1; u < unroll; u++ {
		VADDPD(accs[2*u], accs[0], accs[0])
		VADDPD(accs[2*u+1], accs[1], accs[1])
	}
	VADDPD(accs[1], accs[0], accs[0])
	// Sum the eight lanes: 4+4, 2+2, 1+1.
	y := YMM()
	VEXTRACTF64X4(U8(1), accs[0], y)
	VADDPD(y, accs[0].AsY(), y)
	x := XMM()
	VEXTRACTF128(U8(1), y, x)
	VADDPD(x, y.AsX(), x)
	h := XMM()
	VUNPCKHPD(x, x, h)
	VADDSD(h, x, x)
	VZEROUPPER()
	Store(x, ReturnIndex(0))
	RET()
}

// genRowMaxAVX512 emits rowMaxAVX512, func(x *float32, n int) float32:
// the maximum of n values, −Inf when n is 0, and NaN (0x7fc00000) when any
// value is NaN. VMAXPS drops a NaN already in its accumulator, so NaN
// lanes are collected separately in a mask; the sign of a zero maximum is
// unspecified. Four registers are processed per iteration, each into its
// own accumulator.
func genRowMaxAVX512() {
	const unroll = 4
	TEXT("rowMaxAVX512", NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc("rowMaxAVX512 returns the maximum of n values (−Inf for none, NaN if any is NaN) with AVX-512F.")
	src := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	var accs []reg.VecVirtual
	accs = append(accs, broadcastF32(float32(math.Inf(-1))))
	for range unroll - 1 {
		a := ZMM()
		VMOVAPS(accs[0], a)
		accs = append(accs, a)
	}
	nan := K()
	KXORW(nan, nan, nan)
	emitMap(nil, []reg.Register{src}, n, unroll, func(u int, xs []reg.VecVirtual, k reg.Register) reg.VecVirtual {
		// acc = max(acc, x), taking x where x is NaN; a tail's
		// masked-off lanes keep acc.
		if k != nil {
			VMAXPS(xs[0], accs[u], k, accs[u])
		} else {
			VMAXPS(xs[0], accs[u], accs[u])
		}
		un := K()
		VCMPPS(U8(3), xs[0], xs[0], un) // unordered: x is NaN
		KORW(un, nan, nan)
		return nil
	})
	VMAXPS(accs[1], accs[0], accs[0])
	VMAXPS(accs[3], accs[2], accs[2])
	VMAXPS(accs[2], accs[0], accs[0])
	// Reduce the sixteen lanes: 8, 4, 2, 1.
	y := YMM()
	VEXTRACTF64X4(U8(1), accs[0], y)
	VMAXPS(y, accs[0].AsY(), y)
	x := XMM()
	VEXTRACTF128(U8(1), y, x)
	VMAXPS(x, y.AsX(), x)
	h := XMM()
	VPERMILPS(U8(0x4e), x, h) // swap the 64-bit halves
	VMAXPS(h, x, x)
	VPERMILPS(U8(0xb1), x, h) // swap adjacent lanes
	VMAXPS(h, x, x)
	KORTESTW(nan, nan)
	JZ(LabelRef("ret"))
	g := GP32()
	MOVL(U32(rowNaN), g)
	VMOVD(g, x)
	Label("ret")
	VZEROUPPER()
	Store(x, ReturnIndex(0))
	RET()
}

// genScaleShiftAVX512 emits scaleShiftAVX512, func(d, x *float32, n int,
// a, shift float32): d[i] = a·(x[i] − shift), each operation rounded to
// float32 (with shift 0 exactly a·x[i]); d may be x.
func genScaleShiftAVX512() {
	TEXT("scaleShiftAVX512", NOSPLIT, "func(d, x *float32, n int, a, shift float32)")
	Pragma("noescape")
	Doc("scaleShiftAVX512 sets d[i] = a·(x[i] − shift) for n values with AVX-512F.")
	dst := Load(Param("d"), GP64())
	src := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	a, shift := ZMM(), ZMM()
	VBROADCASTSS(paramAddr("a"), a)
	VBROADCASTSS(paramAddr("shift"), shift)
	emitMap(dst, []reg.Register{src}, n, 4, func(_ int, xs []reg.VecVirtual, _ reg.Register) reg.VecVirtual {
		t := ZMM()
		VSUBPS(shift, xs[0], t)
		VMULPS(a, t, t)
		return t
	})
	VZEROUPPER()
	RET()
}
