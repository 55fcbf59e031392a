package main

// The AVX-512F activation kernels: the logistic sigmoid, SiLU and the
// tanh-approximated GELU, forward (d = f(x)) and backward (dx = gy·f'(x)),
// over n consecutive float32 values, sixteen per zmm register and the last
// n mod 16 under a load/store mask.
//
// All six share one evaluation of the logistic function σ(u), where u = x
// for the sigmoid and SiLU and u = 2·√(2/π)·(x + 0.044715·x³) for GELU:
//
//	e     = exp(max(−|u|, −104))  (in (0, 1]; 0 once σ would underflow)
//	rc    = 1/(1+e)               = σ(|u|)
//	er    = e·rc                  = σ(−|u|)
//	σ(u)  = u < 0 ? er : rc,  σ(−u) = u < 0 ? rc : er
//
// so that neither σ nor 1−σ is ever formed by a cancelling subtraction and
// σ(u)·σ(−u) = er·rc. exp is the reduction and polynomial of the scalar
// exp32 (n = round(t·log2 e), r = t − n·ln2hi − n·ln2lo, degree-7
// polynomial) with 2ⁿ applied by VSCALEFPS, which also rounds the
// subnormal results of t < −87.3 correctly. The reciprocal is VRCP14PS
// refined by one Newton step (relative error about 2⁻²⁸ before rounding).
// A NaN input gives a NaN result: the clamp keeps a NaN operand.

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// activation selects the function a kernel evaluates.
type activation int

const (
	actSigmoid activation = iota
	actSilu
	actGeluTanh
)

// Constants of the kernels.
const (
	actExpMin = -104                // e^−104 rounds to 0 in float32
	actGeluK  = 0.7978845608028654  // √(2/π)
	actGeluC  = 0.044715            // cubic coefficient of tanh-GELU
	actXClamp = 1e4                 // |x| beyond which σ(u)σ(−u) is 0 for GELU
	actLog2e  = 1.44269504088896341 // log₂ e
	actLn2hi  = 0.693359375         // ln 2, high part (n·actLn2hi is exact)
	actLn2lo  = -2.12194440e-4      // ln 2 − actLn2hi
	actSign   = 0x80000000          // float32 sign bit
	actVecLen = 16                  // float32 lanes of a zmm register
	actVecSz  = 4 * actVecLen       // bytes of a zmm register
)

// actPoly holds the coefficients of the exp polynomial from degree 7 down
// to degree 2, as in the scalar exp32: e^r ≈ 1 + r + r²·(c2 + c3·r + … ).
var actPoly = []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// expConsts holds the broadcast constants of emitExp.
type expConsts struct {
	log2e, ln2hi, ln2lo, one reg.VecVirtual
	poly                     []reg.VecVirtual
}

// loadExpConsts broadcasts the constants of emitExp.
func loadExpConsts() expConsts {
	c := expConsts{
		log2e: broadcastF32(actLog2e),
		ln2hi: broadcastF32(actLn2hi),
		ln2lo: broadcastF32(actLn2lo),
		one:   broadcastF32(1),
	}
	for _, p := range actPoly {
		c.poly = append(c.poly, broadcastF32(p))
	}
	return c
}

// emitExp returns a register holding e^t for t in [−104, 89] or NaN,
// overwriting t: n = round(t·log2 e), r = t − n·ln2hi − n·ln2lo (the
// reduction of exp32), e^r by the degree-7 polynomial and 2ⁿ applied by
// VSCALEFPS, which rounds a subnormal result once and overflows to +Inf
// above ln(MaxFloat32). With a mask k the lanes outside it are zeroed.
func emitExp(c *expConsts, t reg.VecVirtual, k reg.Register) reg.VecVirtual {
	n := ZMM()
	VMULPS(c.log2e, t, n)
	VRNDSCALEPS(U8(0), n, n)
	VFNMADD231PS(n, c.ln2hi, t)
	VFNMADD231PS(n, c.ln2lo, t)
	p := ZMM()
	VMOVAPS(c.poly[0], p)
	for _, q := range c.poly[1:] {
		VFMADD213PS(q, t, p)
	}
	r2 := ZMM()
	VMULPS(t, t, r2)
	VFMADD213PS(t, r2, p) // r + r²·poly
	VADDPS(c.one, p, p)
	e := ZMM()
	if k != nil {
		VSCALEFPS_Z(n, p, k, e)
	} else {
		VSCALEFPS(n, p, e)
	}
	return e
}

// actConsts holds the loop-invariant registers of one kernel, each a
// constant broadcast to all lanes before the loop.
type actConsts struct {
	expConsts
	sign, expMin    reg.VecVirtual
	twoK, twoKC     reg.VecVirtual // GELU argument
	sixKC, xLo, xHi reg.VecVirtual // GELU derivative
}

// broadcastBits returns a zmm register with bits in every 32-bit lane.
func broadcastBits(bits uint32) reg.VecVirtual {
	g := GP32()
	MOVL(U32(bits), g)
	z := ZMM()
	VPBROADCASTD(g, z)
	return z
}

// broadcastF32 returns a zmm register with f in every lane.
func broadcastF32(f float32) reg.VecVirtual { return broadcastBits(math.Float32bits(f)) }

// loadActConsts broadcasts the constants that kind (and its derivative
// when backward) needs.
func loadActConsts(kind activation, backward bool) *actConsts {
	c := &actConsts{
		sign:   broadcastBits(actSign),
		expMin: broadcastF32(actExpMin),
	}
	c.expConsts = loadExpConsts()
	if kind == actGeluTanh {
		c.twoK = broadcastF32(2 * actGeluK)
		c.twoKC = broadcastF32(float32(2 * actGeluK * actGeluC))
		if backward {
			c.sixKC = broadcastF32(float32(6 * actGeluK * actGeluC))
			c.xLo = broadcastF32(-actXClamp)
			c.xHi = broadcastF32(actXClamp)
		}
	}
	return c
}

// actName is the Go name of a kernel.
func actName(kind activation, backward bool) string {
	name := [...]string{"activationSigmoid", "activationSilu", "activationGeluTanh"}[kind]
	if backward {
		name += "Backward"
	}
	return name + "AVX512"
}

// actDoc is the doc comment of a kernel.
func actDoc(kind activation, backward bool) string {
	name := actName(kind, backward)
	if backward {
		f := [...]string{"σ'(x[i])", "silu'(x[i])", "geluTanh'(x[i])"}[kind]
		return name + " computes dx[i] = gy[i]·" + f + " for n values with AVX-512F."
	}
	f := [...]string{"σ(x[i])", "x[i]·σ(x[i])", "geluTanh(x[i])"}[kind]
	return name + " computes d[i] = " + f + " for n values with AVX-512F."
}

// genActivationAVX512 emits one activation kernel, forward with signature
// func(d, x *float32, n int) or backward with func(dx, x, gy *float32,
// n int). Whole registers are processed in the main loop and the last
// n mod 16 values under a mask; masked-off lanes are neither read nor
// written, so the slices need no padding.
func genActivationAVX512(kind activation, backward bool) {
	name := actName(kind, backward)
	if backward {
		TEXT(name, NOSPLIT, "func(dx, x, gy *float32, n int)")
	} else {
		TEXT(name, NOSPLIT, "func(d, x *float32, n int)")
	}
	Pragma("noescape")
	Doc(actDoc(kind, backward))
	var dst, src, gsrc reg.Register
	if backward {
		dst = Load(Param("dx"), GP64())
		gsrc = Load(Param("gy"), GP64())
	} else {
		dst = Load(Param("d"), GP64())
	}
	src = Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	c := loadActConsts(kind, backward)

	CMPQ(n, U8(actVecLen))
	JB(LabelRef("tail"))
	Label("loop")
	x := ZMM()
	VMOVUPS(Mem{Base: src}, x)
	var gy reg.VecVirtual
	if backward {
		gy = ZMM()
		VMOVUPS(Mem{Base: gsrc}, gy)
	}
	VMOVUPS(emitActivation(c, kind, backward, x, gy), Mem{Base: dst})
	ADDQ(U8(actVecSz), src)
	ADDQ(U8(actVecSz), dst)
	if backward {
		ADDQ(U8(actVecSz), gsrc)
	}
	SUBQ(U8(actVecLen), n)
	CMPQ(n, U8(actVecLen))
	JAE(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	// mask = 2ⁿ − 1 selects the n < 16 remaining lanes.
	bits := GP64()
	XORQ(bits, bits)
	BTSQ(n, bits)
	DECQ(bits)
	k := K()
	KMOVW(bits.As32(), k)
	x = ZMM()
	VMOVUPS_Z(Mem{Base: src}, k, x)
	if backward {
		gy = ZMM()
		VMOVUPS_Z(Mem{Base: gsrc}, k, gy)
	}
	VMOVUPS(emitActivation(c, kind, backward, x, gy), k, Mem{Base: dst})
	Label("done")
	VZEROUPPER()
	RET()
}

// emitActivation evaluates one register of the kernel's function on x
// (and gy when backward) and returns the register holding the result.
func emitActivation(c *actConsts, kind activation, backward bool, x, gy reg.VecVirtual) reg.VecVirtual {
	u := x
	if kind == actGeluTanh {
		// u = x·(2k + 2kc·x²) = 2k·(x + c·x³); ±Inf once x³ overflows,
		// which the clamp below turns into σ = 0 or 1.
		x2 := ZMM()
		VMULPS(x, x, x2)
		t := ZMM()
		VMOVAPS(c.twoKC, t)
		VFMADD213PS(c.twoK, x2, t)
		u = ZMM()
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
	sp, sn, q := emitLogistic(c, u, need)
	out := ZMM()
	switch {
	case !backward && kind == actSigmoid:
		return sp
	case !backward:
		// silu and GELU: x·σ(u).
		VMULPS(sp, x, out)
	case kind == actSigmoid:
		// σ' = σ(x)·σ(−x).
		VMULPS(q, gy, out)
	case kind == actSilu:
		// silu' = σ(x)·(1 + x·σ(−x)).
		VFMADD213PS(c.one, x, sn)
		VMULPS(sp, sn, out)
		VMULPS(gy, out, out)
	default:
		// gelu' = σ(u) + σ(u)σ(−u)·2k·x·(1 + 3c·x²). x is clamped to
		// ±1e4 in the second term so that x³ stays finite where
		// σ(u)σ(−u) is already 0 (the product would be 0·Inf).
		xc := ZMM()
		VMAXPS(x, c.xLo, xc)
		VMINPS(xc, c.xHi, xc)
		xc2 := ZMM()
		VMULPS(xc, xc, xc2)
		w := ZMM()
		VMOVAPS(c.sixKC, w)
		VFMADD213PS(c.twoK, xc2, w) // 2k + 6kc·x²
		VMULPS(xc, w, w)
		VFMADD231PS(w, q, sp) // σ(u) + w·σ(u)σ(−u)
		VMULPS(sp, gy, out)
	}
	return out
}

// logisticParts selects the values emitLogistic computes.
type logisticParts int

const (
	needSp logisticParts = 1 << iota // σ(u)
	needSn                           // σ(−u) = 1 − σ(u)
	needQ                            // σ(u)·σ(−u) = σ'(u)
)

// emitLogistic evaluates the parts of the logistic function of u that need
// selects; the others are returned as nil.
func emitLogistic(c *actConsts, u reg.VecVirtual, need logisticParts) (sp, sn, q reg.VecVirtual) {
	// t = max(−|u|, −104); VMAXPS returns its first operand here when
	// either is NaN, so NaN passes through.
	t := ZMM()
	VPORD(c.sign, u, t)
	VMAXPS(t, c.expMin, t)
	e := emitExp(&c.expConsts, t, nil)
	// rc = 1/(1+e) by VRCP14PS and one Newton step rc += rc·(1 − d·rc).
	d := ZMM()
	VADDPS(c.one, e, d)
	rc := ZMM()
	VRCP14PS(d, rc)
	VFNMADD213PS(c.one, rc, d)
	VFMADD231PS(d, rc, rc)
	er := ZMM()
	VMULPS(e, rc, er)
	if need&needQ != 0 {
		q = ZMM()
		VMULPS(er, rc, q)
	}
	if need&(needSp|needSn) == 0 {
		return sp, sn, q
	}
	// Lanes with the sign bit set (u < 0, −0, negative NaN) take
	// σ(u) = er and σ(−u) = rc; the others the reverse.
	neg := K()
	VPTESTMD(c.sign, u, neg)
	if need&needSp != 0 {
		sp = ZMM()
		VBLENDMPS(er, rc, neg, sp)
	}
	if need&needSn != 0 {
		sn = ZMM()
		VBLENDMPS(rc, er, neg, sn)
	}
	return sp, sn, q
}
