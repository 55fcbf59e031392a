package vulkan

import (
	"fmt"
	"testing"

	"sargo/tensor"
)

// viewCase is a strided view layout tried by the elementwise tests.
type viewCase struct {
	name    string
	shape   []int
	strides []int // source strides; nil means contiguous
	offset  int
	bufLen  int
}

func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

var viewCases = []viewCase{
	{name: "scalar", shape: []int{}, bufLen: 1},
	{name: "contiguous", shape: []int{3, 5, 7}, bufLen: 105},
	{name: "transposed", shape: []int{7, 5}, strides: []int{1, 7}, bufLen: 35},
	{name: "broadcast", shape: []int{4, 3, 6}, strides: []int{0, 6, 1}, offset: 2, bufLen: 20},
	{name: "narrowed", shape: []int{3, 4}, strides: []int{9, 2}, offset: 1, bufLen: 27},
	{name: "rank6", shape: []int{2, 3, 2, 3, 2, 3}, strides: []int{1, 2, 6, 12, 36, 72}, bufLen: 216},
	{name: "large", shape: []int{300, 257}, bufLen: 300 * 257},
}

// views returns the source view on storage s and a contiguous view for a
// destination of the same shape on d.
func (c viewCase) views(s, d tensor.Storage) (src, dst tensor.View) {
	st := c.strides
	if st == nil {
		st = contiguousStrides(c.shape)
	}
	return tensor.View{Buf: s, Offset: c.offset, Shape: c.shape, Strides: st},
		tensor.View{Buf: d, Shape: c.shape, Strides: contiguousStrides(c.shape)}
}

func (c viewCase) size() int {
	n := 1
	for _, s := range c.shape {
		n *= s
	}
	return n
}

// runElementwise runs fn on both backends over nsrc source views laid out
// as c and compares the contiguous outputs.
func runElementwise(t *testing.T, c viewCase, nsrc int, data func(k, n int) []float32, tol float64,
	fn func(b tensor.Backend, dst tensor.View, srcs []tensor.View)) {
	t.Helper()
	vb, cb := sharedBackend(t), cpuBackend()
	var outs [2][]float32
	for i, b := range []tensor.Backend{vb, cb} {
		var srcs []tensor.View
		d := poisoned(b, c.size())
		var dst tensor.View
		for k := 0; k < nsrc; k++ {
			s := upload(b, data(k, c.bufLen))
			var v tensor.View
			v, dst = c.views(s, d)
			srcs = append(srcs, v)
		}
		if nsrc == 0 {
			_, dst = c.views(nil, d)
		}
		fn(b, dst, srcs)
		outs[i] = download(t, b, d)
	}
	requireClose(t, outs[1], outs[0], tol, c.name)
}

func TestCopyFill(t *testing.T) {
	for _, c := range viewCases {
		t.Run(c.name, func(t *testing.T) {
			runElementwise(t, c, 1, func(k, n int) []float32 { return randData(n, 1) }, 0,
				func(b tensor.Backend, dst tensor.View, srcs []tensor.View) { b.Copy(dst, srcs[0]) })
			runElementwise(t, c, 0, nil, 0,
				func(b tensor.Backend, dst tensor.View, srcs []tensor.View) { b.Fill(dst, 2.5) })
		})
	}
}

func TestUnary(t *testing.T) {
	for op := tensor.UnaryOp(0); op < tensor.NumUnaryOps; op++ {
		alpha, beta := float32(0.7), float32(0.3)
		switch op {
		case tensor.OpPow:
			alpha = 3
		case tensor.OpClamp, tensor.OpExpClamp:
			alpha, beta = -0.5, 1.25
		}
		data := func(k, n int) []float32 {
			d := randData(n, uint64(10+k))
			switch op {
			case tensor.OpLog, tensor.OpSqrt, tensor.OpRsqrt:
				for i := range d {
					d[i] = d[i]*d[i] + 0.1
				}
			case tensor.OpRecip:
				for i := range d {
					if d[i] > -0.1 && d[i] < 0.1 {
						d[i] += 0.5
					}
				}
			}
			return d
		}
		for _, c := range viewCases {
			t.Run(fmt.Sprintf("%s/%s", op, c.name), func(t *testing.T) {
				runElementwise(t, c, 1, data, 2e-6, func(b tensor.Backend, dst tensor.View, srcs []tensor.View) {
					b.Unary(op, dst, srcs[0], alpha, beta)
				})
				runElementwise(t, c, 2, data, 2e-6, func(b tensor.Backend, dst tensor.View, srcs []tensor.View) {
					b.UnaryBackward(op, dst, srcs[0], srcs[1], alpha, beta)
				})
			})
		}
	}
}

func TestUnarySpecialValues(t *testing.T) {
	vb, cb := sharedBackend(t), cpuBackend()
	x := []float32{-40, -8, -3.7, -1, -0.5, 0, 0.25, 0.7, 1, 2.5, 5, 9, 40}
	for op := tensor.UnaryOp(0); op < tensor.NumUnaryOps; op++ {
		if op == tensor.OpLog || op == tensor.OpSqrt || op == tensor.OpRsqrt || op == tensor.OpRecip || op == tensor.OpExp {
			continue // NaN, infinities and overflow are checked on the ragged data only
		}
		var outs [2][]float32
		for i, b := range []tensor.Backend{vb, cb} {
			src, dst := upload(b, x), poisoned(b, len(x))
			v := tensor.View{Buf: src, Shape: []int{len(x)}, Strides: []int{1}}
			b.Unary(op, tensor.View{Buf: dst, Shape: []int{len(x)}, Strides: []int{1}}, v, 2, 3)
			outs[i] = download(t, b, dst)
		}
		requireClose(t, outs[1], outs[0], 2e-6, op.String())
	}
}

func TestBinaryWhere(t *testing.T) {
	data := func(k, n int) []float32 {
		d := randData(n, uint64(20+k))
		if k == 1 {
			for i := range d {
				if i%3 == 0 {
					d[i] = float32(int(d[i])) // ties for equal and greater
				}
				if d[i] > -0.05 && d[i] < 0.05 {
					d[i] = 1
				}
			}
		}
		return d
	}
	for op := tensor.BinaryOp(0); op < tensor.NumBinaryOps; op++ {
		for _, c := range viewCases {
			t.Run(fmt.Sprintf("%s/%s", op, c.name), func(t *testing.T) {
				runElementwise(t, c, 2, data, 1e-6, func(b tensor.Backend, dst tensor.View, srcs []tensor.View) {
					b.Binary(op, dst, srcs[0], srcs[1])
				})
			})
		}
	}
	for _, c := range viewCases {
		t.Run("where/"+c.name, func(t *testing.T) {
			cond := func(k, n int) []float32 {
				d := randData(n, uint64(30+k))
				if k == 0 {
					for i := range d {
						d[i] = float32(i % 2)
					}
				}
				return d
			}
			runElementwise(t, c, 3, cond, 0, func(b tensor.Backend, dst tensor.View, srcs []tensor.View) {
				b.Where(dst, srcs[0], srcs[1], srcs[2])
			})
		})
	}
}
