package gpu

import "sargo/tensor"

// Random numbers, top-k and sampling: shaders/random.comp (Philox4x32-10
// uniform and normal fills, identical to tensor.PhiloxUniform and
// tensor.PhiloxNormal), topk.comp and sample.comp.

// randomSpec is the specialization of random.comp.
func (t Tuning) randomSpec(normal bool) []uint32 { return []uint32{t.Elem, flag(normal)} }

// randomVariants lists the random, top-k and sampling pipelines.
func randomVariants(t Tuning) []Variant {
	return []Variant{
		{Shader: "random", Spec: t.randomSpec(false), Bindings: 1, Group: "random", Label: "uniform"},
		{Shader: "random", Spec: t.randomSpec(true), Bindings: 1, Group: "random", Label: "normal"},
		{Shader: "topk", Spec: t.specs().row, Bindings: 3, Group: "topk"},
		{Shader: "sample", Spec: t.specs().row, Bindings: 2, Group: "sample"},
	}
}

type randomPush struct {
	offDst, n, seedLo, seedHi, offLo, offHi uint32
}

func (b *Kernels) random(dst tensor.Span, n int, seed, offset uint64, normal bool) {
	if n == 0 {
		return
	}
	push := randomPush{uint32(dst.Offset), uint32(n), uint32(seed), uint32(seed >> 32), uint32(offset), uint32(offset >> 32)}
	launch(b, "random", b.tune.randomSpec(normal), &push, groups1D(n, int(b.tune.Elem)), write(dst.Buf))
}

// RandUniform fills n elements with U[0,1): element i is
// tensor.PhiloxUniform(seed, offset+i).
func (b *Kernels) RandUniform(dst tensor.Span, n int, seed, offset uint64) {
	b.random(dst, n, seed, offset, false)
}

// RandNormal fills n elements with N(0,1): element i is
// tensor.PhiloxNormal(seed, offset+i), evaluated in float32.
func (b *Kernels) RandNormal(dst tensor.Span, n int, seed, offset uint64) {
	b.random(dst, n, seed, offset, true)
}

type topkPush struct {
	offVals, offIdx, offSrc, rows, n, k uint32
}

// TopK writes the k largest values of each row of [rows, n] in descending
// order and their indices (ties: lower index first).
func (b *Kernels) TopK(vals, idx, src tensor.Span, rows, n, k int) {
	if rows == 0 || k == 0 {
		return
	}
	push := topkPush{uint32(vals.Offset), uint32(idx.Offset), uint32(src.Offset), uint32(rows), uint32(n), uint32(k)}
	launch(b, "topk", b.spec.row, &push, rowGroups(rows), write(vals.Buf), write(idx.Buf), read(src.Buf))
}

type samplePush struct {
	offDst, offLogits, rows, n, k uint32
	topP, temperature             float32
	seedLo, seedHi, offLo, offHi  uint32
}

// Sample draws one index per row of logits with the CPU backend's
// algorithm (temperature, top-k, top-p, a Philox uniform per row and an
// inverse-CDF walk in rank order).
func (b *Kernels) Sample(a tensor.SampleArgs, dst, logits tensor.Span) {
	if a.Rows == 0 || a.N == 0 {
		return
	}
	t := a.Temperature
	if t == 0 {
		t = 1
	}
	k := a.TopK
	if k <= 0 || k > a.N {
		k = a.N
	}
	push := samplePush{uint32(dst.Offset), uint32(logits.Offset), uint32(a.Rows), uint32(a.N), uint32(k), a.TopP, t,
		uint32(a.Seed), uint32(a.Seed >> 32), uint32(a.Offset), uint32(a.Offset >> 32)}
	launch(b, "sample", b.spec.row, &push, rowGroups(a.Rows), write(dst.Buf), read(logits.Buf))
}
