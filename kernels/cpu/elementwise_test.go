package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// kernBackend returns a backend with more workers than cores so that the
// parallel paths run even on small machines.
func kernBackend() *Backend { return &Backend{workers: 3} }

// kernRand returns n values uniform in [lo, hi).
func kernRand(rng *rand.Rand, n int, lo, hi float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return x
}

// kernSpan wraps data in a fresh buffer.
func kernSpan(x []float32) tensor.Span { return tensor.Span{Buf: &Buffer{Data: x}} }

// kernF64 widens x.
func kernF64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// kernClose checks |got − want| <= atol + rtol·|want| elementwise.
func kernClose(t *testing.T, want []float64, got []float32, rtol, atol float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		w, g := want[i], float64(got[i])
		if math.IsInf(w, 0) || math.IsNaN(w) {
			if !(w == g || math.IsNaN(w) && math.IsNaN(g)) {
				require.Equal(t, w, g, "%s: element %d", msg, i)
			}
			continue
		}
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			require.Failf(t, "not close", "%s: element %d: got %v want %v", msg, i, g, w)
		}
	}
}

// kernView describes a view over buf of the given shape and strides.
func kernView(buf []float32, off int, shape, strides []int) tensor.View {
	return tensor.View{Buf: &Buffer{Data: buf}, Offset: off, Shape: shape, Strides: strides}
}

// kernRowMajor returns contiguous strides for shape.
func kernRowMajor(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// kernOffsets lists the storage offset of every element of v in row-major
// order.
func kernOffsets(v tensor.View) []int {
	n := 1
	for _, d := range v.Shape {
		n *= d
	}
	out := make([]int, n)
	for f := range n {
		o, r := v.Offset, f
		for ax := len(v.Shape) - 1; ax >= 0; ax-- {
			o += (r % v.Shape[ax]) * v.Strides[ax]
			r /= v.Shape[ax]
		}
		out[f] = o
	}
	return out
}

// kernGather reads the elements of v in row-major order as float64.
func kernGather(v tensor.View) []float64 {
	d := data(v.Buf)
	offs := kernOffsets(v)
	out := make([]float64, len(offs))
	for i, o := range offs {
		out[i] = float64(d[o])
	}
	return out
}

// kernLayouts are the view layouts the elementwise tests run on: the shape
// and, per operand, a layout kind (contiguous, transposed, broadcast).
type kernLayout struct {
	name  string
	shape []int
}

var kernShapes = []kernLayout{
	{"scalar", []int{1}},
	{"prime", []int{7, 13}},
	{"rank3", []int{3, 1, 31}},
	{"large", []int{3, 5501}},
	{"rank4", []int{2, 3, 5, 7}},
}

// kernMakeView builds a view of shape over fresh random storage: kind 0 is
// contiguous, 1 reverses the axis order in storage (a transpose), 2
// broadcasts the first non-trivial axis with a zero stride.
func kernMakeView(rng *rand.Rand, shape []int, kind int, lo, hi float64) tensor.View {
	n := 1
	for _, d := range shape {
		n *= d
	}
	switch kind {
	case 1:
		rev := make([]int, len(shape))
		for i := range shape {
			rev[i] = shape[len(shape)-1-i]
		}
		rs := kernRowMajor(rev)
		st := make([]int, len(shape))
		for i := range shape {
			st[i] = rs[len(shape)-1-i]
		}
		return kernView(kernRand(rng, n+3, lo, hi), 3, shape, st)
	case 2:
		st := kernRowMajor(shape)
		st[0] = 0
		return kernView(kernRand(rng, n/shape[0]+2, lo, hi), 2, shape, st)
	}
	return kernView(kernRand(rng, n, lo, hi), 0, shape, kernRowMajor(shape))
}

// kernUnaryRef is the float64 reference of each unary op.
func kernUnaryRef(op tensor.UnaryOp, x, a, b float64) float64 {
	switch op {
	case tensor.OpNeg:
		return -x
	case tensor.OpExp:
		return math.Exp(x)
	case tensor.OpLog:
		return math.Log(x)
	case tensor.OpSqrt:
		return math.Sqrt(x)
	case tensor.OpRsqrt:
		return 1 / math.Sqrt(x)
	case tensor.OpAbs:
		return math.Abs(x)
	case tensor.OpTanh:
		return math.Tanh(x)
	case tensor.OpSigmoid:
		return 1 / (1 + math.Exp(-x))
	case tensor.OpRelu:
		return math.Max(x, 0)
	case tensor.OpSilu:
		return x / (1 + math.Exp(-x))
	case tensor.OpGeluTanh:
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	case tensor.OpGeluErf:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case tensor.OpPow:
		return math.Pow(x, a)
	case tensor.OpClamp:
		return math.Min(math.Max(x, a), b)
	case tensor.OpAffine:
		return a*x + b
	case tensor.OpSquare:
		return x * x
	case tensor.OpRecip:
		return 1 / x
	case tensor.OpSign:
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}
	panic("unknown op")
}

// kernUnaryInput draws inputs in each op's domain, away from kinks.
func kernUnaryInput(op tensor.UnaryOp, x float32) float32 {
	switch op {
	case tensor.OpLog, tensor.OpSqrt, tensor.OpRsqrt, tensor.OpPow, tensor.OpRecip:
		return float32(math.Abs(float64(x))) + 0.25
	case tensor.OpAbs, tensor.OpRelu, tensor.OpSign:
		if x > -0.05 && x < 0.05 {
			return x + 0.1
		}
	case tensor.OpClamp:
		for _, k := range []float32{-0.3, 0.4} {
			if x > k-0.02 && x < k+0.02 {
				return x + 0.05
			}
		}
	}
	return x
}

func TestUnaryForwardBackward(t *testing.T) {
	be := kernBackend()
	const alpha, beta = -0.3, 0.4
	for op := tensor.UnaryOp(0); op < tensor.NumUnaryOps; op++ {
		a, b := float32(alpha), float32(beta)
		if op == tensor.OpPow {
			a = 2.5
		}
		for _, sh := range kernShapes {
			for kind := 0; kind < 3; kind++ {
				name := op.String() + "/" + sh.name
				rng := rand.New(rand.NewPCG(uint64(op), uint64(kind)))
				x := kernMakeView(rng, sh.shape, kind, -2, 2)
				xd := data(x.Buf)
				for i := range xd {
					xd[i] = kernUnaryInput(op, xd[i])
				}
				gy := kernMakeView(rng, sh.shape, (kind+1)%3, -1, 1)
				n := len(kernOffsets(x))
				out := kernMakeView(rng, sh.shape, kind%2, 0, 0)
				be.Unary(op, out, x, a, b)
				xs, gs := kernGather(x), kernGather(gy)
				want := make([]float64, n)
				dwant := make([]float64, n)
				for i, v := range xs {
					want[i] = kernUnaryRef(op, v, float64(a), float64(b))
					const h = 1e-6
					fd := (kernUnaryRef(op, v+h, float64(a), float64(b)) - kernUnaryRef(op, v-h, float64(a), float64(b))) / (2 * h)
					dwant[i] = gs[i] * fd
				}
				got := kernGather(out)
				kernClose(t, want, kernF32(got), 2e-6, 1e-6, name)
				dx := kernMakeView(rng, sh.shape, 1-kind%2, 0, 0)
				be.UnaryBackward(op, dx, x, gy, a, b)
				kernClose(t, dwant, kernF32(kernGather(dx)), 1e-4, 1e-5, name+" backward")
			}
		}
	}
}

// kernF32 narrows x.
func kernF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func kernBinaryRef(op tensor.BinaryOp, x, y float64) float64 {
	switch op {
	case tensor.OpAdd:
		return x + y
	case tensor.OpSub:
		return x - y
	case tensor.OpMul:
		return x * y
	case tensor.OpDiv:
		return x / y
	case tensor.OpMax:
		return math.Max(x, y)
	case tensor.OpMin:
		return math.Min(x, y)
	case tensor.OpGreater:
		if x > y {
			return 1
		}
		return 0
	case tensor.OpEqual:
		if x == y {
			return 1
		}
		return 0
	}
	panic("unknown op")
}

func TestBinaryAndWhere(t *testing.T) {
	be := kernBackend()
	for op := tensor.BinaryOp(0); op < tensor.NumBinaryOps; op++ {
		for _, sh := range kernShapes {
			for kind := 0; kind < 3; kind++ {
				name := op.String() + "/" + sh.name
				rng := rand.New(rand.NewPCG(uint64(op)+100, uint64(kind)))
				x := kernMakeView(rng, sh.shape, kind, -2, 2)
				y := kernMakeView(rng, sh.shape, 2-kind, 0.5, 2)
				if op == tensor.OpEqual {
					// Make some elements equal.
					yd, xd := data(y.Buf), data(x.Buf)
					for i := 0; i < len(yd) && i < len(xd); i += 3 {
						yd[i] = xd[i]
					}
				}
				xs, ys := kernGather(x), kernGather(y)
				want := make([]float64, len(xs))
				for i := range xs {
					want[i] = float64(float32(kernBinaryRef(op, xs[i], ys[i])))
				}
				out := kernMakeView(rng, sh.shape, kind%2, 0, 0)
				be.Binary(op, out, x, y)
				kernClose(t, want, kernF32(kernGather(out)), 1e-7, 0, name)
				if kind != 2 {
					// In place: dst aliases x exactly.
					be.Binary(op, x, x, y)
					kernClose(t, want, kernF32(kernGather(x)), 1e-7, 0, name+" in place")
				}
			}
		}
	}
	for _, sh := range kernShapes {
		rng := rand.New(rand.NewPCG(7, 7))
		c := kernMakeView(rng, sh.shape, 2, -1, 1)
		cd := data(c.Buf)
		for i := range cd {
			cd[i] = float32(i % 2)
		}
		x, y := kernMakeView(rng, sh.shape, 1, -1, 1), kernMakeView(rng, sh.shape, 0, -1, 1)
		cs, xs, ys := kernGather(c), kernGather(x), kernGather(y)
		want := make([]float64, len(cs))
		for i := range cs {
			want[i] = ys[i]
			if cs[i] != 0 {
				want[i] = xs[i]
			}
		}
		out := kernMakeView(rng, sh.shape, 1, 0, 0)
		be.Where(out, c, x, y)
		kernClose(t, want, kernF32(kernGather(out)), 0, 0, "where/"+sh.name)
	}
}

func TestCopyFill(t *testing.T) {
	be := kernBackend()
	for _, sh := range kernShapes {
		for kind := 0; kind < 3; kind++ {
			rng := rand.New(rand.NewPCG(3, uint64(kind)))
			src := kernMakeView(rng, sh.shape, kind, -1, 1)
			dst := kernMakeView(rng, sh.shape, 1-kind%2, 0, 0)
			be.Copy(dst, src)
			kernClose(t, kernGather(src), kernF32(kernGather(dst)), 0, 0, "copy/"+sh.name)
		}
	}
	// Fill of a strided view touches exactly its elements.
	buf := make([]float32, 7*13)
	v := kernView(buf, 1, []int{3, 4}, []int{26, 3})
	be.Fill(v, 2.5)
	inView := map[int]bool{}
	for _, o := range kernOffsets(v) {
		inView[o] = true
	}
	for i, x := range buf {
		if inView[i] {
			require.Equal(t, float32(2.5), x, "element %d", i)
		} else {
			require.Zero(t, x, "element %d", i)
		}
	}
}

func TestCoalesce(t *testing.T) {
	tests := []struct {
		name    string
		shape   []int
		strides []int
		want    []int
		contig  bool
	}{
		{"contiguous", []int{2, 3, 4}, []int{12, 4, 1}, []int{24}, true},
		{"unit axes", []int{1, 5, 1}, []int{99, 1, 7}, []int{5}, true},
		{"transposed", []int{3, 4}, []int{1, 3}, []int{3, 4}, false},
		{"broadcast", []int{3, 4}, []int{0, 1}, []int{3, 4}, false},
		{"empty", []int{0, 4}, []int{4, 1}, []int{0}, true},
		{"rank 0", []int{}, []int{}, []int{1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l layout
			l.coalesce([]tensor.View{{Shape: tc.shape, Strides: tc.strides}})
			require.Equal(t, tc.want, l.shape[:l.rank])
			require.Equal(t, tc.contig, l.contiguous())
		})
	}
}

// TestElementwiseHighRank runs a binary kernel on views of rank 10, above
// what a layout holds, with the second operand's axes reversed so that no
// axes merge, and checks it against index arithmetic.
func TestElementwiseHighRank(t *testing.T) {
	const rank = inlineRank + 2
	shape, strides, reversed := make([]int, rank), make([]int, rank), make([]int, rank)
	for i := range shape {
		shape[i] = 2
		strides[i] = 1 << (rank - 1 - i)
		reversed[i] = 1 << i
	}
	n := 1 << rank
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := kernRand(rng, n, -1, 1), kernRand(rng, n, -1, 1)
	dst := make([]float32, n)
	view := func(d []float32, st []int) tensor.View {
		return tensor.View{Buf: &Buffer{Data: d}, Shape: shape, Strides: st}
	}
	kernBackend().Binary(tensor.OpAdd, view(dst, strides), view(x, strides), view(y, reversed))
	for i := range n {
		j := 0 // i with its bits reversed: y's element at the same index
		for b := range rank {
			j |= (i >> b & 1) << (rank - 1 - b)
		}
		require.Equal(t, x[i]+y[j], dst[i], "element %d", i)
	}
}
