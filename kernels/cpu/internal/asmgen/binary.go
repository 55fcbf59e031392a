package main

// The AVX-512F elementwise binary kernels d[i] = op(x[i], y[i]) over n
// consecutive float32 values, for add, sub, mul, div, max and min, four
// registers per iteration, then one, and the last n mod 16 under a mask.
//
// Add, sub, mul and div are single IEEE operations, rounded as the scalar
// Go operators round them, with x as the first source operand (the NaN an
// x86 instruction returns when both operands are NaN). Max and min repeat
// the instruction sequence the Go compiler emits for the builtins on amd64:
//
//	min(x, y) = a | b,  a = MINPS(x, y), b = MINPS(a, x)
//	max(x, y) = −min(−x, −y)
//
// where MINPS(p, q) is p < q ? p : q (q when either is NaN or both are
// zero) and | and − act on the bits. So a NaN operand gives NaN, min(−0, +0)
// is −0 and max(−0, +0) is +0, as the Go specification requires, and the
// results agree bit for bit with the scalar loops.

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"
)

// binaryOp is an elementwise binary operation with a kernel.
type binaryOp int

const (
	binAdd binaryOp = iota
	binSub
	binMul
	binDiv
	binMax
	binMin
)

// binaryOps lists the operations that get a kernel.
var binaryOps = []binaryOp{binAdd, binSub, binMul, binDiv, binMax, binMin}

// binaryName is the Go name of the kernel of op.
func binaryName(op binaryOp) string {
	return [...]string{"binaryAddAVX512", "binarySubAVX512", "binaryMulAVX512", "binaryDivAVX512", "binaryMaxAVX512", "binaryMinAVX512"}[op]
}

// genBinaryAVX512 emits the kernel of op, func(d, x, y *float32, n int);
// d may be x or y.
func genBinaryAVX512(op binaryOp) {
	name := binaryName(op)
	TEXT(name, NOSPLIT, "func(d, x, y *float32, n int)")
	Pragma("noescape")
	f := [...]string{"x[i] + y[i]", "x[i] − y[i]", "x[i]·y[i]", "x[i]/y[i]", "max(x[i], y[i])", "min(x[i], y[i])"}[op]
	Doc(name + " computes d[i] = " + f + " for n values with AVX-512F.")
	dst := Load(Param("d"), GP64())
	xp := Load(Param("x"), GP64())
	yp := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	var sign reg.VecVirtual
	if op == binMax {
		sign = broadcastBits(actSign)
	}
	emitMap(dst, []reg.Register{xp, yp}, n, 4, func(_ int, xs []reg.VecVirtual, _ reg.Register) reg.VecVirtual {
		x, y := xs[0], xs[1]
		r := ZMM()
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
			emitGoMin(x, y, r)
		case binMax:
			VPXORD(sign, x, x)
			VPXORD(sign, y, y)
			emitGoMin(x, y, r)
			VPXORD(sign, r, r)
		}
		return r
	})
	VZEROUPPER()
	RET()
}

// emitGoMin sets r to the Go min(x, y) of each lane, overwriting y: a =
// MINPS(x, y), b = MINPS(a, x), r = a | b.
func emitGoMin(x, y, r reg.VecVirtual) {
	VMINPS(y, x, y) // a = x < y ? x : y
	VMINPS(x, y, r) // b = a < x ? a : x
	VPORD(y, r, r)
}
