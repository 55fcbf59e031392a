package cpu

import "sargo/tensor"

// Convolution by im2col: for each image, the patches form a column matrix
// col [Cin·KH·KW, Hout·Wout] and y = W·col runs on the GEMM. The input
// gradient is col2im(Wᵀ·gy) and the weight gradient Σ gy·colᵀ.

// im2col writes the patch matrix of image x [Cin, H, W] into col.
func (b *Backend) im2col(a tensor.ConvArgs, col, x []float32) {
	hw := a.Hout * a.Wout
	kk := a.KH * a.KW
	b.parallelFor(a.Cin*kk, rowGrain(hw), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, ky, kx := r/kk, (r%kk)/a.KW, r%a.KW
			row := col[r*hw : (r+1)*hw]
			xc := x[c*a.H*a.W : (c+1)*a.H*a.W]
			for oy := range a.Hout {
				iy := oy*a.Stride - a.Pad + ky
				dst := row[oy*a.Wout : (oy+1)*a.Wout]
				if iy < 0 || iy >= a.H {
					clear(dst)
					continue
				}
				xr := xc[iy*a.W : (iy+1)*a.W]
				for ox := range dst {
					ix := ox*a.Stride - a.Pad + kx
					if ix < 0 || ix >= a.W {
						dst[ox] = 0
					} else {
						dst[ox] = xr[ix]
					}
				}
			}
		}
	})
}

// col2im adds the patch matrix col back into image dx [Cin, H, W] (which
// it overwrites), parallel over input channels.
func (b *Backend) col2im(a tensor.ConvArgs, dx, col []float32) {
	hw := a.Hout * a.Wout
	kk := a.KH * a.KW
	b.parallelFor(a.Cin, rowGrain(kk*hw), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			xc := dx[c*a.H*a.W : (c+1)*a.H*a.W]
			clear(xc)
			for k := range kk {
				ky, kx := k/a.KW, k%a.KW
				row := col[(c*kk+k)*hw : (c*kk+k+1)*hw]
				for oy := range a.Hout {
					iy := oy*a.Stride - a.Pad + ky
					if iy < 0 || iy >= a.H {
						continue
					}
					xr := xc[iy*a.W : (iy+1)*a.W]
					for ox, v := range row[oy*a.Wout : (oy+1)*a.Wout] {
						if ix := ox*a.Stride - a.Pad + kx; ix >= 0 && ix < a.W {
							xr[ix] += v
						}
					}
				}
			}
		}
	})
}

// convSizes returns the per-image element counts of x, y and col rows.
func convSizes(a tensor.ConvArgs) (xs, ys, ck, hw int) {
	hw = a.Hout * a.Wout
	return a.Cin * a.H * a.W, a.Cout * hw, a.Cin * a.KH * a.KW, hw
}

// Conv2d computes y = conv(x, w) + bias, one image at a time.
func (b *Backend) Conv2d(a tensor.ConvArgs, y, x, w, bias tensor.Span) {
	xs, ys, ck, hw := convSizes(a)
	xd, yd := span(x, a.N*xs), span(y, a.N*ys)
	var bd []float32
	if a.HasBias {
		bd = span(bias, a.Cout)
	}
	colBuf := &Buffer{Data: make([]float32, ck*hw)}
	for n := range a.N {
		b.im2col(a, colBuf.Data, xd[n*xs:(n+1)*xs])
		b.MatMul(tensor.MatMulArgs{Batch: 1, M: a.Cout, N: hw, K: ck,
			A: w, B: tensor.Span{Buf: colBuf}, C: tensor.Span{Buf: y.Buf, Offset: y.Offset + n*ys}, Alpha: 1})
		if bd != nil {
			yn := yd[n*ys : (n+1)*ys]
			b.parallelFor(a.Cout, rowGrain(hw), func(lo, hi int) {
				for c := lo; c < hi; c++ {
					bc := bd[c]
					row := yn[c*hw : (c+1)*hw]
					for i := range row {
						row[i] += bc
					}
				}
			})
		}
	}
}

// Conv2dBackwardInput writes dx = col2im(Wᵀ·gy) per image.
func (b *Backend) Conv2dBackwardInput(a tensor.ConvArgs, dx, gy, w tensor.Span) {
	xs, ys, ck, hw := convSizes(a)
	dxd := span(dx, a.N*xs)
	colBuf := &Buffer{Data: make([]float32, ck*hw)}
	for n := range a.N {
		b.MatMul(tensor.MatMulArgs{Batch: 1, M: ck, N: hw, K: a.Cout, TransA: true,
			A: w, B: tensor.Span{Buf: gy.Buf, Offset: gy.Offset + n*ys}, C: tensor.Span{Buf: colBuf}, Alpha: 1})
		b.col2im(a, dxd[n*xs:(n+1)*xs], colBuf.Data)
	}
}

// Conv2dBackwardWeight writes dw = Σₙ gy[n]·col[n]ᵀ and, with a bias,
// db[c] = Σ gy over images and positions (float64, images in order).
func (b *Backend) Conv2dBackwardWeight(a tensor.ConvArgs, dw, db, x, gy tensor.Span) {
	xs, ys, ck, hw := convSizes(a)
	xd, gd := span(x, a.N*xs), span(gy, a.N*ys)
	colBuf := &Buffer{Data: make([]float32, ck*hw)}
	if a.N == 0 {
		clear(span(dw, a.Cout*ck))
	}
	for n := range a.N {
		b.im2col(a, colBuf.Data, xd[n*xs:(n+1)*xs])
		beta := float32(1)
		if n == 0 {
			beta = 0
		}
		b.MatMul(tensor.MatMulArgs{Batch: 1, M: a.Cout, N: ck, K: hw, TransB: true,
			A: tensor.Span{Buf: gy.Buf, Offset: gy.Offset + n*ys}, B: tensor.Span{Buf: colBuf}, C: dw, Alpha: 1, Beta: beta})
	}
	if !a.HasBias || db.Buf == nil {
		return
	}
	dbd := span(db, a.Cout)
	b.parallelFor(a.Cout, rowGrain(a.N*hw), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var s float64
			for n := range a.N {
				for _, v := range gd[n*ys+c*hw : n*ys+(c+1)*hw] {
					s += float64(v)
				}
			}
			dbd[c] = float32(s)
		}
	})
}
