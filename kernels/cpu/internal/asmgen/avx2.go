package main

// The AVX2 forms of the row, binary, widening and activation kernels, for
// processors with AVX2 and FMA but not AVX-512F: eight float32 values per
// ymm register instead of sixteen per zmm, and what AVX-512F does with an
// instruction of its own done with AVX2 ones:
//
//   - the last n mod 8 values are loaded and stored by VMASKMOVPS under a
//     lane mask (lane index < remaining count), which neither reads nor
//     writes the masked-off lanes (they load as zeros);
//   - 2ⁿ in the exponential is applied as two factors 2^⌊n/2⌋·2^(n−⌊n/2⌋),
//     each a normal float32 for n in [−150, 128], so that p·2ⁿ is rounded
//     once, as VSCALEFPS rounds it (subnormal results included);
//   - the reciprocal 1/(1+e) of the logistic function is a VDIVPS
//     (correctly rounded) instead of VRCP14PS and a Newton step;
//   - lane selections by sign (σ(u) for u < 0) are VBLENDVPS on the sign
//     bit instead of a mask register.
//
// The constants live in one read-only table of 8-lane rows (avx2Consts):
// sixteen ymm registers cannot hold them all beside the working values, so
// most are memory operands.

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Lanes and bytes of a ymm register of float32.
const (
	yLanes = 8
	yBytes = 32
)

// The rows of the constant table, in order.
const (
	cLog2e     = 0
	cLn2hi     = 1
	cLn2lo     = 2
	cOne       = 3
	cPoly0     = 4 // six rows: actPoly
	cBias      = 10
	cSign      = 11
	cExpMin    = 12
	cExpMax    = 13
	cTwoK      = 14
	cTwoKC     = 15
	cSixKC     = 16
	cXLo       = 17
	cXHi       = 18
	cLaneIndex = 19
	cNegInf    = 20
	cNaN       = 21
	cRows      = 22
)

// avx2Table is the constant table, declared by declareAVX2Consts.
var avx2Table Mem

// declareAVX2Consts emits the constant table of the AVX2 kernels, one
// 32-byte row per constant.
func declareAVX2Consts() {
	avx2Table = GLOBL("avx2Consts", RODATA|NOPTR)
	rows := make([][yLanes]uint32, cRows)
	splat := func(row int, bits uint32) {
		for l := range yLanes {
			rows[row][l] = bits
		}
	}
	f := math.Float32bits
	splat(cLog2e, f(actLog2e))
	splat(cLn2hi, f(actLn2hi))
	splat(cLn2lo, f(actLn2lo))
	splat(cOne, f(1))
	for i, p := range actPoly {
		splat(cPoly0+i, f(p))
	}
	splat(cBias, 127)
	splat(cSign, actSign)
	splat(cExpMin, f(actExpMin))
	splat(cExpMax, f(rowExpMax))
	splat(cTwoK, f(2*actGeluK))
	splat(cTwoKC, f(float32(2*actGeluK*actGeluC)))
	splat(cSixKC, f(float32(6*actGeluK*actGeluC)))
	splat(cXLo, f(-actXClamp))
	splat(cXHi, f(actXClamp))
	for l := range yLanes {
		rows[cLaneIndex][l] = uint32(l)
	}
	splat(cNegInf, f(float32(math.Inf(-1))))
	splat(cNaN, rowNaN)
	for r, row := range rows {
		for l, v := range row {
			DATA(yBytes*r+4*l, U32(v))
		}
	}
}

// cy is the memory operand of constant row r.
func cy(r int) Mem { return avx2Table.Offset(yBytes * r) }

// loadY returns a ymm register holding constant row r.
func loadY(r int) reg.VecVirtual {
	y := YMM()
	VMOVUPS(cy(r), y)
	return y
}

// emitMapY is emitMap for ymm registers: whole registers unroll at a
// time, then one at a time, and the last n mod 8 values under a lane mask
// passed to body (nil for whole registers), loaded and stored by
// VMASKMOVPS. n is consumed.
func emitMapY(dst reg.Register, srcs []reg.Register, n reg.Register, unroll int, body func(u int, xs []reg.VecVirtual, mask reg.VecVirtual) reg.VecVirtual) {
	i := GP64()
	XORQ(i, i)
	at := func(p reg.Register, u int) Mem { return Mem{Base: p, Index: i, Scale: 4, Disp: yBytes * u} }
	step := func(u int, mask reg.VecVirtual) {
		xs := make([]reg.VecVirtual, len(srcs))
		for j, s := range srcs {
			xs[j] = YMM()
			if mask != nil {
				VMASKMOVPS(at(s, u), mask, xs[j])
			} else {
				VMOVUPS(at(s, u), xs[j])
			}
		}
		r := body(u, xs, mask)
		switch {
		case dst == nil:
		case mask != nil:
			VMASKMOVPS(r, mask, at(dst, u))
		default:
			VMOVUPS(r, at(dst, u))
		}
	}
	emitBlockLoop(i, n, yLanes, unroll, func(u int) { step(u, nil) }, func() { step(0, tailMaskY(n)) })
}

// tailMaskY returns a lane mask with all bits set in the lanes below n
// (0 < n < 8) and clear above.
func tailMaskY(n reg.Register) reg.VecVirtual {
	x := XMM()
	MOVQ(n, x)
	nv := YMM()
	VPBROADCASTD(x, nv)
	mask := YMM()
	VPCMPGTD(cy(cLaneIndex), nv, mask) // n > lane
	return mask
}

// emitExpY returns a register holding e^t for t in [−104, 89] or NaN,
// overwriting t: the reduction and polynomial of emitExp, with 2ⁿ applied
// as two normal factors so that the product rounds once.
func emitExpY(t reg.VecVirtual) reg.VecVirtual {
	n := YMM()
	VMULPS(cy(cLog2e), t, n)
	VROUNDPS(U8(0), n, n) // to nearest, ties to even
	VFNMADD231PS(cy(cLn2hi), n, t)
	VFNMADD231PS(cy(cLn2lo), n, t)
	p := loadY(cPoly0)
	for i := 1; i < len(actPoly); i++ {
		VFMADD213PS(cy(cPoly0+i), t, p)
	}
	r2 := YMM()
	VMULPS(t, t, r2)
	VFMADD213PS(t, r2, p) // r + r²·poly
	VADDPS(cy(cOne), p, p)
	// n1 = ⌊n/2⌋ and n2 = n − n1, each turned into the float 2^nk by
	// its biased exponent. A NaN t gives a NaN p, which no factor
	// changes.
	ni := YMM()
	VCVTTPS2DQ(n, ni)
	n1 := YMM()
	VPSRAD(U8(1), ni, n1)
	VPSUBD(n1, ni, ni) // n2
	VPADDD(cy(cBias), n1, n1)
	VPSLLD(U8(23), n1, n1)
	VPADDD(cy(cBias), ni, ni)
	VPSLLD(U8(23), ni, ni)
	VMULPS(n1, p, p)
	VMULPS(ni, p, p)
	return p
}

// genVectorSetAVX2 emits the AVX2 forms of the vector set: the row
// kernels, the binary kernels, the widening add and the activations.
func genVectorSetAVX2() {
	declareAVX2Consts()
	genExpShiftAVX2(true)
	genExpShiftAVX2(false)
	genRowMaxAVX2()
	genScaleShiftAVX2()
	for _, op := range binaryOps {
		genBinaryAVX2(op)
	}
	genAddWidenAVX2()
	for _, kind := range []activation{actSigmoid, actSilu, actGeluTanh} {
		genActivationAVX2(kind, false)
		genActivationAVX2(kind, true)
	}
}

// genExpShiftAVX2 emits expShiftAVX2 or expShiftSumAVX2, the AVX2 forms of
// genExpShiftAVX512: the terms of each unrolled register are widened to
// two registers of four doubles added into accumulators of their own,
// which are added in a fixed order at the end.
func genExpShiftAVX2(store bool) {
	const unroll = 2
	var dst reg.Register
	if store {
		TEXT("expShiftAVX2", NOSPLIT, "func(d, x *float32, n int, shift float32) float64")
		Pragma("noescape")
		Doc("expShiftAVX2 sets d[i] = e^(x[i] − shift) for n values and returns their sum in float64, with AVX2 and FMA.")
		dst = Load(Param("d"), GP64())
	} else {
		TEXT("expShiftSumAVX2", NOSPLIT, "func(x *float32, n int, shift float32) float64")
		Pragma("noescape")
		Doc("expShiftSumAVX2 returns the float64 sum of e^(x[i] − shift) over n values, with AVX2 and FMA.")
	}
	src := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	shift := YMM()
	VBROADCASTSS(paramAddr("shift"), shift)
	lo, hi := loadY(cExpMin), loadY(cExpMax)
	var accs []reg.VecVirtual
	for range 2 * unroll {
		a := YMM()
		VXORPD(a, a, a)
		accs = append(accs, a)
	}
	emitMapY(dst, []reg.Register{src}, n, unroll, func(u int, xs []reg.VecVirtual, mask reg.VecVirtual) reg.VecVirtual {
		// t = clamp(x − shift, −104, 89), NaN kept (first operand).
		t := YMM()
		VSUBPS(shift, xs[0], t)
		VMAXPS(t, lo, t)
		VMINPS(t, hi, t)
		e := emitExpY(t)
		if mask != nil {
			VANDPS(mask, e, e) // the masked-off lanes add nothing
		}
		wl, wh := YMM(), YMM()
		VCVTPS2PD(e.AsX(), wl)
		eh := XMM()
		VEXTRACTF128(U8(1), e, eh)
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
	// Sum the four lanes: 2+2, 1+1.
	x := XMM()
	VEXTRACTF128(U8(1), accs[0], x)
	VADDPD(x, accs[0].AsX(), x)
	h := XMM()
	VUNPCKHPD(x, x, h)
	VADDSD(h, x, x)
	VZEROUPPER()
	Store(x, ReturnIndex(0))
	RET()
}

// genRowMaxAVX2 emits rowMaxAVX2, the AVX2 form of genRowMaxAVX512: NaN
// lanes are collected in a register of unordered-compare results, and a
// tail's masked-off lanes are replaced by −Inf.
func genRowMaxAVX2() {
	const unroll = 4
	TEXT("rowMaxAVX2", NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc("rowMaxAVX2 returns the maximum of n values (−Inf for none, NaN if any is NaN) with AVX2.")
	src := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	var accs []reg.VecVirtual
	for range unroll {
		accs = append(accs, loadY(cNegInf))
	}
	nan := YMM()
	VXORPS(nan, nan, nan)
	emitMapY(nil, []reg.Register{src}, n, unroll, func(u int, xs []reg.VecVirtual, mask reg.VecVirtual) reg.VecVirtual {
		x := xs[0]
		if mask != nil {
			ninf := loadY(cNegInf)
			VBLENDVPS(mask, x, ninf, x) // lanes in the mask keep x
		}
		VMAXPS(x, accs[u], accs[u])
		un := YMM()
		VCMPPS(U8(3), x, x, un) // unordered: x is NaN
		VORPS(un, nan, nan)
		return nil
	})
	VMAXPS(accs[1], accs[0], accs[0])
	VMAXPS(accs[3], accs[2], accs[2])
	VMAXPS(accs[2], accs[0], accs[0])
	// Reduce the eight lanes: 4, 2, 1.
	x := XMM()
	VEXTRACTF128(U8(1), accs[0], x)
	VMAXPS(x, accs[0].AsX(), x)
	h := XMM()
	VPERMILPS(U8(0x4e), x, h) // swap the 64-bit halves
	VMAXPS(h, x, x)
	VPERMILPS(U8(0xb1), x, h) // swap adjacent lanes
	VMAXPS(h, x, x)
	VTESTPS(nan, nan) // ZF when no sign bit is set: no NaN seen
	JZ(LabelRef("ret"))
	VMOVSS(cy(cNaN), x)
	Label("ret")
	VZEROUPPER()
	Store(x, ReturnIndex(0))
	RET()
}

// genScaleShiftAVX2 emits scaleShiftAVX2, d[i] = a·(x[i] − shift).
func genScaleShiftAVX2() {
	TEXT("scaleShiftAVX2", NOSPLIT, "func(d, x *float32, n int, a, shift float32)")
	Pragma("noescape")
	Doc("scaleShiftAVX2 sets d[i] = a·(x[i] − shift) for n values with AVX2.")
	dst := Load(Param("d"), GP64())
	src := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	a, shift := YMM(), YMM()
	VBROADCASTSS(paramAddr("a"), a)
	VBROADCASTSS(paramAddr("shift"), shift)
	emitMapY(dst, []reg.Register{src}, n, 4, func(_ int, xs []reg.VecVirtual, _ reg.VecVirtual) reg.VecVirtual {
		t := YMM()
		VSUBPS(shift, xs[0], t)
		VMULPS(a, t, t)
		return t
	})
	VZEROUPPER()
	RET()
}

// genBinaryAVX2 emits the AVX2 kernel of op, with the semantics of
// genBinaryAVX512 (the same bits as the scalar loops).
func genBinaryAVX2(op binaryOp) {
	name := [...]string{"binaryAddAVX2", "binarySubAVX2", "binaryMulAVX2", "binaryDivAVX2", "binaryMaxAVX2", "binaryMinAVX2"}[op]
	TEXT(name, NOSPLIT, "func(d, x, y *float32, n int)")
	Pragma("noescape")
	f := [...]string{"x[i] + y[i]", "x[i] − y[i]", "x[i]·y[i]", "x[i]/y[i]", "max(x[i], y[i])", "min(x[i], y[i])"}[op]
	Doc(name + " computes d[i] = " + f + " for n values with AVX2.")
	dst := Load(Param("d"), GP64())
	xp := Load(Param("x"), GP64())
	yp := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	emitMapY(dst, []reg.Register{xp, yp}, n, 4, func(_ int, xs []reg.VecVirtual, _ reg.VecVirtual) reg.VecVirtual {
		x, y := xs[0], xs[1]
		r := YMM()
		switch op {
		case binAdd:
			VADDPS(y, x, r)
		case binSub:
			VSUBPS(y, x, r)
		case binMul:
			VMULPS(y, x, r)
		case binDiv:
			VDIVPS(y, x, r)
		case binMin:
			emitGoMinY(x, y, r)
		case binMax:
			VXORPS(cy(cSign), x, x)
			VXORPS(cy(cSign), y, y)
			emitGoMinY(x, y, r)
			VXORPS(cy(cSign), r, r)
		}
		return r
	})
	VZEROUPPER()
	RET()
}

// emitGoMinY is emitGoMin with VORPS.
func emitGoMinY(x, y, r reg.VecVirtual) {
	VMINPS(y, x, y) // a = x < y ? x : y
	VMINPS(x, y, r) // b = a < x ? a : x
	VORPS(y, r, r)
}

// genAddWidenAVX2 emits addWidenAVX2, acc[i] += float64(x[i]) over
// n = 8·blocks values, four doubles per register.
func genAddWidenAVX2() {
	TEXT("addWidenAVX2", NOSPLIT, "func(acc *float64, x *float32, blocks int)")
	Pragma("noescape")
	Doc("addWidenAVX2 adds float64(x[i]) to acc[i] for 8·blocks values with AVX2.")
	acc := Load(Param("acc"), GP64())
	x := Load(Param("x"), GP64())
	blocks := Load(Param("blocks"), GP64())
	TESTQ(blocks, blocks)
	JZ(LabelRef("done"))
	Label("block")
	w0, w1 := reg.Y0, reg.Y1
	VCVTPS2PD(Mem{Base: x}, w0)
	VCVTPS2PD(Mem{Base: x, Disp: 16}, w1)
	VADDPD(Mem{Base: acc}, w0, w0)
	VADDPD(Mem{Base: acc, Disp: 32}, w1, w1)
	VMOVUPD(w0, Mem{Base: acc})
	VMOVUPD(w1, Mem{Base: acc, Disp: 32})
	ADDQ(U8(32), x)
	ADDQ(U8(64), acc)
	DECQ(blocks)
	JNZ(LabelRef("block"))
	Label("done")
	VZEROUPPER()
	RET()
}

// genActivationAVX2 emits the AVX2 form of one activation kernel, with the
// evaluation of genActivationAVX512 (emitActivationY).
func genActivationAVX2(kind activation, backward bool) {
	name := [...]string{"activationSigmoid", "activationSilu", "activationGeluTanh"}[kind]
	if backward {
		name += "Backward"
	}
	name += "AVX2"
	var srcs []reg.Register
	var dst reg.Register
	if backward {
		TEXT(name, NOSPLIT, "func(dx, x, gy *float32, n int)")
		Pragma("noescape")
		f := [...]string{"σ'(x[i])", "silu'(x[i])", "geluTanh'(x[i])"}[kind]
		Doc(name + " computes dx[i] = gy[i]·" + f + " for n values with AVX2 and FMA.")
		dst = Load(Param("dx"), GP64())
		srcs = []reg.Register{Load(Param("x"), GP64()), Load(Param("gy"), GP64())}
	} else {
		TEXT(name, NOSPLIT, "func(d, x *float32, n int)")
		Pragma("noescape")
		f := [...]string{"σ(x[i])", "x[i]·σ(x[i])", "geluTanh(x[i])"}[kind]
		Doc(name + " computes d[i] = " + f + " for n values with AVX2 and FMA.")
		dst = Load(Param("d"), GP64())
		srcs = []reg.Register{Load(Param("x"), GP64())}
	}
	n := Load(Param("n"), GP64())
	expMin, one := loadY(cExpMin), loadY(cOne)
	emitMapY(dst, srcs, n, 1, func(_ int, xs []reg.VecVirtual, _ reg.VecVirtual) reg.VecVirtual {
		var gy reg.VecVirtual
		if backward {
			gy = xs[1]
		}
		return emitActivationY(kind, backward, xs[0], gy, expMin, one)
	})
	VZEROUPPER()
	RET()
}

// emitActivationY is emitActivation for ymm registers; expMin and one hold
// their constants.
func emitActivationY(kind activation, backward bool, x, gy, expMin, one reg.VecVirtual) reg.VecVirtual {
	u := x
	if kind == actGeluTanh {
		x2 := YMM()
		VMULPS(x, x, x2)
		t := loadY(cTwoKC)
		VFMADD213PS(cy(cTwoK), x2, t)
		u = YMM()
		VMULPS(t, x, u)
	}
	var need logisticParts
	switch {
	case !backward:
		need = needSp
	case kind == actSigmoid:
		need = needQ
	case kind == actSilu:
		need = needSp | needSn
	default:
		need = needSp | needQ
	}
	sp, sn, q := emitLogisticY(u, need, expMin, one)
	out := YMM()
	switch {
	case !backward && kind == actSigmoid:
		return sp
	case !backward:
		VMULPS(sp, x, out)
	case kind == actSigmoid:
		VMULPS(q, gy, out)
	case kind == actSilu:
		VFMADD213PS(one, x, sn)
		VMULPS(sp, sn, out)
		VMULPS(gy, out, out)
	default:
		// The clamp of x takes the constant when x is NaN; σ(u) is NaN
		// then, and so is the result.
		xc := YMM()
		VMAXPS(cy(cXLo), x, xc)
		VMINPS(cy(cXHi), xc, xc)
		xc2 := YMM()
		VMULPS(xc, xc, xc2)
		w := loadY(cSixKC)
		VFMADD213PS(cy(cTwoK), xc2, w) // 2k + 6kc·x²
		VMULPS(xc, w, w)
		VFMADD231PS(w, q, sp) // σ(u) + w·σ(u)σ(−u)
		VMULPS(sp, gy, out)
	}
	return out
}

// emitLogisticY is emitLogistic for ymm registers, with a correctly
// rounded division for 1/(1+e) and VBLENDVPS on the sign of u.
func emitLogisticY(u reg.VecVirtual, need logisticParts, expMin, one reg.VecVirtual) (sp, sn, q reg.VecVirtual) {
	t := YMM()
	VORPS(cy(cSign), u, t)
	VMAXPS(t, expMin, t) // NaN kept
	e := emitExpY(t)
	d := YMM()
	VADDPS(one, e, d)
	rc := YMM()
	VDIVPS(d, one, rc)
	er := YMM()
	VMULPS(e, rc, er)
	if need&needQ != 0 {
		q = YMM()
		VMULPS(er, rc, q)
	}
	if need&needSp != 0 {
		sp = YMM()
		VBLENDVPS(u, er, rc, sp) // u < 0: er, else rc
	}
	if need&needSn != 0 {
		sn = YMM()
		VBLENDVPS(u, rc, er, sn)
	}
	return sp, sn, q
}
