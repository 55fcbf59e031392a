package gpu

import (
	"sargo/tensor"
)

// Elementwise kernels over strided views: copy, fill, unary, unary
// backward, binary and where. The Go side collapses the views' shared
// shape to at most four axes (merging axes that are contiguous in every
// operand and dropping size-1 axes); views that stay above rank 4 are
// walked over their outer axes here, one dispatch per outer index.

// eltPush mirrors the push constants of shaders/strided.glsl.
type eltPush struct {
	Off    [4]uint32 // element offsets, output first
	N      uint32
	Shape  [4]uint32
	Stride [16]uint32 // operand k, axis d at 4k+d
	Alpha  float32
	Beta   float32
}

// eltOperands is the most views of an elementwise dispatch (muladd's
// output and three operands), and eltAxes the rank up to which its
// collapsed shape and strides live on the stack.
const (
	eltOperands = 4
	eltAxes     = 8
)

// collapse merges the axes of shape that every operand addresses
// contiguously and drops size-1 axes. strides[k] are operand k's strides.
// It writes the collapsed shape to cs and operand k's collapsed strides to
// cst[k] (each with room for len(shape) axes) and returns their rank.
func collapse(shape []int, strides [][]int, cs []int, cst [][]int) int {
	r := 0
	for d := range shape {
		if shape[d] == 1 {
			continue
		}
		if r > 0 {
			merge := true
			for k := range strides {
				if cst[k][r-1] != strides[k][d]*shape[d] {
					merge = false
					break
				}
			}
			if merge {
				cs[r-1] *= shape[d]
				for k := range strides {
					cst[k][r-1] = strides[k][d]
				}
				continue
			}
		}
		cs[r] = shape[d]
		for k := range strides {
			cst[k][r] = strides[k][d]
		}
		r++
	}
	return r
}

// elementwise dispatches shader name over views (views[0] is written, the
// rest are read).
func (b *Kernels) elementwise(name string, op uint32, alpha, beta float32, views ...tensor.View) {
	n := 1
	for _, s := range views[0].Shape {
		n *= s
	}
	if n == 0 {
		return
	}
	var (
		strides, cst [eltOperands][]int
		offs         [eltOperands]int
		csBuf        [eltAxes]int
		cstBuf       [eltOperands][eltAxes]int
	)
	rank := len(views[0].Shape)
	cs := csBuf[:]
	if rank > eltAxes {
		cs = make([]int, rank)
	}
	for k, v := range views {
		strides[k], offs[k] = v.Strides, v.Offset
		if rank > eltAxes {
			cst[k] = make([]int, rank)
		} else {
			cst[k] = cstBuf[k][:]
		}
	}
	r := collapse(views[0].Shape, strides[:len(views)], cs, cst[:len(views)])
	shape, st := cs[:r], cst[:len(views)]
	for k := range st {
		st[k] = st[k][:r]
	}
	b.elementwiseOuter(name, op, alpha, beta, views, shape, st, offs[:len(views)])
}

// elementwiseOuter peels axes beyond the fourth into separate dispatches,
// in row-major order of the outer axes.
func (b *Kernels) elementwiseOuter(name string, op uint32, alpha, beta float32, views []tensor.View, shape []int, st [][]int, offs []int) {
	outer := len(shape) - 4
	if outer <= 0 {
		b.elementwise4(name, op, alpha, beta, views, shape, st, offs)
		return
	}
	n := 1
	for _, s := range shape[:outer] {
		n *= s
	}
	var (
		o     [eltOperands]int
		inner [eltOperands][]int
	)
	for k := range st {
		inner[k] = st[k][outer:]
	}
	for i := range n {
		copy(o[:], offs)
		rem := i
		for d := outer - 1; d >= 0; d-- {
			c := rem % shape[d]
			rem /= shape[d]
			for k := range offs {
				o[k] += c * st[k][d]
			}
		}
		b.elementwise4(name, op, alpha, beta, views, shape[outer:], inner[:len(st)], o[:len(offs)])
	}
}

// elementwise4 is one dispatch over a shape of at most four axes.
func (b *Kernels) elementwise4(name string, op uint32, alpha, beta float32, views []tensor.View, shape []int, st [][]int, offs []int) {
	p := eltPush{Alpha: alpha, Beta: beta, Shape: [4]uint32{1, 1, 1, 1}}
	n := 1
	pad := 4 - len(shape)
	for d, s := range shape {
		p.Shape[pad+d] = uint32(s)
		n *= s
	}
	p.N = uint32(n)
	var bufArr [eltOperands]Binding
	bufs := bufArr[:len(views)]
	for k, v := range views {
		p.Off[k] = uint32(offs[k])
		for d := range shape {
			p.Stride[4*k+pad+d] = uint32(st[k][d])
		}
		if k == 0 {
			bufs[k] = write(v.Buf)
		} else {
			bufs[k] = read(v.Buf)
		}
	}
	spec := eltSpec(op, len(shape) <= 1, b.tune.Elem)
	launch(b, name, spec[:], &p, groups1D(n, int(b.tune.Elem)), bufs...)
}

// eltSpec is the specialization of the elementwise shaders: the op (unary,
// unary backward and binary; 0 for the others), FLAT, set when the view
// collapsed to at most one axis (strided.glsl's fast path), and the
// workgroup size.
func eltSpec[T ~int | ~uint32](op T, flat bool, local uint32) [3]uint32 {
	return [3]uint32{uint32(op), uint32(b2u(flat)), local}
}

// elementwiseVariants lists the elementwise pipelines: one per op of the
// unary, unary backward and binary shaders.
func elementwiseVariants(t Tuning) []Variant {
	var vs []Variant
	for _, flat := range []bool{false, true} {
		label := ""
		if flat {
			label = "flat"
		}
		with := func(op string) string {
			if label == "" {
				return op
			}
			if op == "" {
				return label
			}
			return op + " " + label
		}
		spec := func(op int) []uint32 { s := eltSpec(op, flat, t.Elem); return s[:] }
		vs = append(vs,
			Variant{Shader: "copy", Spec: spec(0), Bindings: 2, Group: "copy", Label: with("")},
			Variant{Shader: "fill", Spec: spec(0), Bindings: 1, Group: "fill", Label: with("")},
			Variant{Shader: "where", Spec: spec(0), Bindings: 4, Group: "where", Label: with("")},
			Variant{Shader: "muladd", Spec: spec(0), Bindings: 4, Group: "muladd", Label: with("")})
		for op := range tensor.NumUnaryOps {
			vs = append(vs,
				Variant{Shader: "unary", Spec: spec(int(op)), Bindings: 2, Group: "unary", Label: with(op.String())},
				Variant{Shader: "unary_backward", Spec: spec(int(op)), Bindings: 3, Group: "unary_backward", Label: with(op.String())})
		}
		for op := range tensor.NumBinaryOps {
			vs = append(vs, Variant{Shader: "binary", Spec: spec(int(op)), Bindings: 3, Group: "binary", Label: with(op.String())})
		}
	}
	return vs
}

// Copy writes src into dst elementwise.
func (b *Kernels) Copy(dst, src tensor.View) { b.elementwise("copy", 0, 0, 0, dst, src) }

// Fill sets every element of dst to v.
func (b *Kernels) Fill(dst tensor.View, v float32) { b.elementwise("fill", 0, v, 0, dst) }

// Unary computes dst = op(src; alpha, beta).
func (b *Kernels) Unary(op tensor.UnaryOp, dst, src tensor.View, alpha, beta float32) {
	b.elementwise("unary", uint32(op), alpha, beta, dst, src)
}

// UnaryBackward computes dx = gy · op'(x).
func (b *Kernels) UnaryBackward(op tensor.UnaryOp, dx, x, gy tensor.View, alpha, beta float32) {
	b.elementwise("unary_backward", uint32(op), alpha, beta, dx, x, gy)
}

// Binary computes dst = op(a, c).
func (b *Kernels) Binary(op tensor.BinaryOp, dst, a, c tensor.View) {
	b.elementwise("binary", uint32(op), 0, 0, dst, a, c)
}

// Where computes dst = cond != 0 ? a : c.
func (b *Kernels) Where(dst, cond, a, c tensor.View) {
	b.elementwise("where", 0, 0, 0, dst, cond, a, c)
}

// MulAdd computes dst = a·(b + alpha) + c.
func (b *Kernels) MulAdd(dst, a, c, d tensor.View, alpha float32) {
	b.elementwise("muladd", 0, alpha, 0, dst, a, c, d)
}

// FillRun is the common half of a backend's Fill: it counts a fill with
// zero in mem, runs the fill kernel when dst is not one contiguous range
// of its storage, and otherwise returns dst's element count, for the
// backend to fill with one transfer command (0: nothing is left to do).
func (b *Kernels) FillRun(mem *tensor.MemCounter, dst tensor.View, v float32) int {
	n := 1
	for _, d := range dst.Shape {
		n *= d
	}
	if n == 0 {
		return 0
	}
	if v == 0 {
		mem.ZeroFill(int64(n) * 4)
	}
	if !OneRun(dst) {
		b.Fill(dst, v)
		return 0
	}
	return n
}

// OneRun reports whether v addresses one contiguous range of its storage
// (size-1 axes aside), so that a backend can fill it with one transfer
// command.
func OneRun(v tensor.View) bool {
	want := 1
	for i := len(v.Shape) - 1; i >= 0; i-- {
		if v.Shape[i] == 1 {
			continue
		}
		if v.Strides[i] != want {
			return false
		}
		want *= v.Shape[i]
	}
	return true
}
