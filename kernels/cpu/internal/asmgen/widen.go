package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// genAddWidenAVX512 emits addWidenAVX512, acc[i] += float64(x[i]) over
// n = 8·blocks values: each 8 float32 values are widened to one zmm of
// doubles and added to the accumulators in place. The column sums of the
// reductions run on it; the caller handles the last n mod 8 values.
func genAddWidenAVX512() {
	TEXT("addWidenAVX512", NOSPLIT, "func(acc *float64, x *float32, blocks int)")
	Pragma("noescape")
	Doc("addWidenAVX512 adds float64(x[i]) to acc[i] for 8·blocks values with AVX-512F.")
	acc := Load(Param("acc"), GP64())
	x := Load(Param("x"), GP64())
	blocks := Load(Param("blocks"), GP64())
	TESTQ(blocks, blocks)
	JZ(LabelRef("done"))
	Label("block")
	w := reg.Z0
	VCVTPS2PD(Mem{Base: x}, w)
	VADDPD(Mem{Base: acc}, w, w)
	VMOVUPD(w, Mem{Base: acc})
	ADDQ(U8(32), x)
	ADDQ(U8(64), acc)
	DECQ(blocks)
	JNZ(LabelRef("block"))
	Label("done")
	VZEROUPPER()
	RET()
}
