package cpu

import "sargo/tensor"

// Convolutions, their weight gradients and the input gradients of stride-1
// convolutions take the implicit GEMM of conv_implicit.go where the
// processor has its indirect kernel (useImplicit decides); everything else
// is the im2col path below.
//
// Convolution by im2col over groups of images. The patch matrices of the g
// images of a group lie side by side in one column matrix
// col [Cin·KH·KW, g·Hout·Wout] (image n's patches in columns
// [n·hw, (n+1)·hw)), so each pass is one large GEMM rather than g small
// ones:
//
//	forward          ycols = W·col           [Cout, g·hw], then scattered to y
//	input gradient   col = Wᵀ·gycols         then col2im into dx
//	weight gradient  dW += gycols·colᵀ       summed over the groups in order
//
// where gycols is gy [g, Cout, hw] gathered into [Cout, g·hw]. With one
// image per group the gather and scatter are skipped. Groups are as large
// as the column budget allows; the sums are in a fixed order, so results do
// not depend on the worker count.

// convColBudget is the largest column matrix, in elements, a group may
// use (4 MiB of float32): small enough that packing mostly reads it back
// from the caches. In profiles of the tokenizer's convolutions on a 2-core
// Zen 5, the GEMM micro-kernel's share of the time was 33% with 32 MiB
// groups and 39% with 4 MiB ones.
const convColBudget = 1 << 20

// convGroup returns the number of images per group: as many as fit the
// column budget, evened out over the batch.
func (b *Backend) convGroup(a tensor.ConvArgs) int {
	budget := convColBudget
	if b.convBudget > 0 {
		budget = b.convBudget
	}
	per := max(1, a.Cin*a.KH*a.KW*a.Hout*a.Wout)
	groups := max(1, (a.N*per+budget-1)/budget)
	groups = min(groups, max(a.N, 1))
	return (a.N + groups - 1) / groups
}

// convSizes returns the per-image element counts of x, y and col rows.
func convSizes(a tensor.ConvArgs) (xs, ys, ck, hw int) {
	hw = a.Hout * a.Wout
	return a.Cin * a.H * a.W, a.Cout * hw, a.Cin * a.KH * a.KW, hw
}

// im2col writes the patch matrices of the g images x[n0 : n0+g] into col,
// whose rows are g·hw long.
func (b *Backend) im2col(a tensor.ConvArgs, col, x []float32, n0, g int) {
	xs, _, ck, hw := convSizes(a)
	kk := a.KH * a.KW
	ld := g * hw
	b.parallelFor(g*ck, rowGrain(hw), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, r := t/ck, t%ck
			c, ky, kx := r/kk, (r%kk)/a.KW, r%a.KW
			xc := x[(n0+n)*xs+c*a.H*a.W : (n0+n)*xs+(c+1)*a.H*a.W]
			im2colRow(a, col[r*ld+n*hw:r*ld+(n+1)*hw], xc, ky, kx)
		}
	})
}

// im2colRow fills one row of patches, dst[oy·Wout+ox] =
// x[oy·stride−pad+ky, ox·stride−pad+kx] (0 outside the image), from one
// input plane xc.
func im2colRow(a tensor.ConvArgs, dst, xc []float32, ky, kx int) {
	if a.Stride == 1 && a.Wout == a.W {
		im2colShifted(a, dst, xc, ky, kx)
		return
	}
	lo, hi := convValidRange(a, kx)
	for oy := range a.Hout {
		d := dst[oy*a.Wout : (oy+1)*a.Wout]
		iy := oy*a.Stride - a.Pad + ky
		if iy < 0 || iy >= a.H || lo >= hi {
			clear(d)
			continue
		}
		xr := xc[iy*a.W : (iy+1)*a.W]
		// The padding columns are a few at each end: plain stores beat
		// a call to clear.
		for i := 0; i < lo; i++ {
			d[i] = 0
		}
		for i := hi; i < len(d); i++ {
			d[i] = 0
		}
		ix0 := lo*a.Stride - a.Pad + kx
		if a.Stride == 1 {
			copy(d[lo:hi], xr[ix0:])
			continue
		}
		in := d[lo:hi]
		src := xr[ix0 : ix0+(len(in)-1)*a.Stride+1]
		for i := range in {
			in[i] = src[i*a.Stride]
		}
	}
}

// convValidRange returns the output columns [lo, hi) whose input column
// ox·stride−pad+kx lies inside the image.
func convValidRange(a tensor.ConvArgs, kx int) (lo, hi int) {
	off := kx - a.Pad // ix = ox·stride + off
	if off < 0 {
		lo = (-off + a.Stride - 1) / a.Stride
	}
	hi = a.Wout
	if last := a.W - 1 - off; last < 0 {
		hi = 0
	} else {
		hi = min(hi, last/a.Stride+1)
	}
	return lo, max(lo, hi)
}

// col2im adds the patch matrices of g images (rows g·hw long) back into
// dx[n0 : n0+g], which it overwrites, parallel over images and channels.
func (b *Backend) col2im(a tensor.ConvArgs, dx, col []float32, n0, g int) {
	xs, _, _, hw := convSizes(a)
	kk := a.KH * a.KW
	ld := g * hw
	// In a "same" stride-1 convolution the centre tap covers every input
	// pixel once: its row is copied, which saves clearing the plane first.
	centre := -1
	if a.Stride == 1 && a.Hout == a.H && a.Wout == a.W && a.Pad < a.KH && a.Pad < a.KW {
		centre = a.Pad*a.KW + a.Pad
	}
	b.parallelFor(g*a.Cin, rowGrain(kk*hw), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, c := t/a.Cin, t%a.Cin
			xc := dx[(n0+n)*xs+c*a.H*a.W : (n0+n)*xs+(c+1)*a.H*a.W]
			if centre >= 0 {
				r := c*kk + centre
				copy(xc, col[r*ld+n*hw:r*ld+(n+1)*hw])
			} else {
				clear(xc)
			}
			for k := range kk {
				if k == centre {
					continue
				}
				r := c*kk + k
				col2imRow(a, xc, col[r*ld+n*hw:r*ld+(n+1)*hw], k/a.KW, k%a.KW)
			}
		}
	})
}

// col2imRow adds one row of patches back into the input plane xc: the
// adjoint of im2colRow.
func col2imRow(a tensor.ConvArgs, xc, row []float32, ky, kx int) {
	if a.Stride == 1 && a.Wout == a.W {
		col2imShifted(a, xc, row, ky, kx)
		return
	}
	lo, hi := convValidRange(a, kx)
	if lo >= hi {
		return
	}
	ix0 := lo*a.Stride - a.Pad + kx
	for oy := range a.Hout {
		iy := oy*a.Stride - a.Pad + ky
		if iy < 0 || iy >= a.H {
			continue
		}
		xr := xc[iy*a.W : (iy+1)*a.W]
		src := row[oy*a.Wout+lo : oy*a.Wout+hi]
		if a.Stride == 1 {
			dst := xr[ix0 : ix0+len(src)]
			binarySlice(tensor.OpAdd, dst, dst, src)
			continue
		}
		for i, v := range src {
			xr[ix0+i*a.Stride] += v
		}
	}
}

// With stride 1 and an output as wide as the input, a row of patches is
// the input plane shifted by (ky−pad)·W + (kx−pad): output rows whose input
// row exists form one contiguous run of the plane, except for the columns
// where the tap hangs over the left or right padding (which would wrap to
// the neighbouring row). im2colShifted and col2imShifted copy (or add) that
// run in one go and fix those columns up afterwards.

// shiftedRows returns the output rows [oy0, oy1) whose input row
// oy−pad+ky exists, the plane offset of the tap and the columns [lo, hi)
// inside the image.
func shiftedRows(a tensor.ConvArgs, ky, kx int) (oy0, oy1, shift, lo, hi int) {
	oy0 = max(0, a.Pad-ky)
	oy1 = min(a.Hout, a.H+a.Pad-ky)
	lo, hi = convValidRange(a, kx)
	return oy0, max(oy0, oy1), (ky-a.Pad)*a.W + kx - a.Pad, lo, hi
}

// im2colShifted is im2colRow for stride 1 and Wout == W.
func im2colShifted(a tensor.ConvArgs, dst, xc []float32, ky, kx int) {
	W := a.W
	oy0, oy1, shift, lo, hi := shiftedRows(a, ky, kx)
	clear(dst[:oy0*W])
	clear(dst[oy1*W:])
	if oy0 == oy1 {
		return
	}
	// The run's first and last elements may fall just outside the plane;
	// they are padding columns, zeroed below.
	d0, d1 := oy0*W, oy1*W
	s0 := max(d0+shift, 0)
	s1 := min(d1+shift, len(xc))
	copy(dst[s0-shift:s1-shift], xc[s0:s1])
	for oy := oy0; oy < oy1; oy++ {
		row := dst[oy*W : (oy+1)*W]
		for i := 0; i < lo; i++ {
			row[i] = 0
		}
		for i := hi; i < W; i++ {
			row[i] = 0
		}
	}
}

// col2imShifted is col2imRow for stride 1 and Wout == W. It zeroes the
// padding columns of row (scratch the caller owns) before the one
// contiguous add.
func col2imShifted(a tensor.ConvArgs, xc, row []float32, ky, kx int) {
	W := a.W
	oy0, oy1, shift, lo, hi := shiftedRows(a, ky, kx)
	if oy0 == oy1 || lo >= hi {
		return
	}
	for oy := oy0; oy < oy1; oy++ {
		r := row[oy*W : (oy+1)*W]
		for i := 0; i < lo; i++ {
			r[i] = 0
		}
		for i := hi; i < W; i++ {
			r[i] = 0
		}
	}
	d0, d1 := oy0*W, oy1*W
	s0 := max(d0+shift, 0)
	s1 := min(d1+shift, len(xc))
	dst := xc[s0:s1]
	binarySlice(tensor.OpAdd, dst, dst, row[s0-shift:s1-shift])
}

// convImages reports whether images of hw output pixels can be laid side
// by side in the GEMM's B or C in place (gemmOperands.bImg, cImg): when
// no micro-panel of the kernel in use straddles two images.
func convImages(hw int) bool { return hw%bestGemmKernel.nr == 0 }

// convScratch returns scratch buffers for groups of G images: the patch
// matrix and, when G > 1, a [Cout, G·hw] matrix of outputs or gradients
// (nil otherwise). release gives them back.
func (b *Backend) convScratch(a tensor.ConvArgs, G int) (col, cols *gemmBuf, release func()) {
	_, _, ck, hw := convSizes(a)
	col = b.scratch(scratchConvCol, ck*G*hw)
	if G > 1 {
		cols = b.scratch(scratchConvOut, a.Cout*G*hw)
	}
	return col, cols, func() {
		b.putScratch(col)
		if cols != nil {
			b.putScratch(cols)
		}
	}
}

// gatherCols copies gy[n0 : n0+g] ([g, Cout, hw]) into dst as
// [Cout, g·hw].
func (b *Backend) gatherCols(a tensor.ConvArgs, dst, gy []float32, n0, g int) {
	_, ys, _, hw := convSizes(a)
	ld := g * hw
	b.parallelFor(g*a.Cout, rowGrain(hw), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, c := t/a.Cout, t%a.Cout
			copy(dst[c*ld+n*hw:c*ld+(n+1)*hw], gy[(n0+n)*ys+c*hw:(n0+n)*ys+(c+1)*hw])
		}
	})
}

// Conv2d computes y = conv(x, w) + bias.
func (b *Backend) Conv2d(a tensor.ConvArgs, y, x, w, bias tensor.Span) {
	xs, ys, ck, hw := convSizes(a)
	xd, yd := span(x, a.N*xs), span(y, a.N*ys)
	var bd []float32
	if a.HasBias {
		bd = span(bias, a.Cout)
	}
	if b.useImplicit(a, convForward) {
		b.conv2dImplicit(a, yd, xd, span(w, a.Cout*ck), bd)
		return
	}
	G := b.convGroup(a)
	col, ycols, release := b.convScratch(a, G)
	defer release()
	for n0 := 0; n0 < a.N; n0 += G {
		g := min(G, a.N-n0)
		ld := g * hw
		b.im2col(a, col.data, xd, n0, g)
		direct := g == 1 || convImages(hw)
		if direct {
			// The GEMM writes y[n0 : n0+g] in place.
			gemmBlocked(b, b.workers, gemmOperands{m: a.Cout, n: ld, k: ck, a: span(w, a.Cout*ck),
				b: col.data[:ck*ld], c: yd[n0*ys : (n0+g)*ys], alpha: 1, cImg: hw}, bestGemmKernel)
			if bd == nil {
				continue
			}
		} else {
			b.MatMul(tensor.MatMulArgs{Batch: 1, M: a.Cout, N: ld, K: ck, A: w,
				B: tensor.Span{Buf: &Buffer{Data: col.data[:ck*ld]}},
				C: tensor.Span{Buf: &Buffer{Data: ycols.data[:a.Cout*ld]}}, Alpha: 1})
		}
		// Scatter [Cout, g·hw] to y[n0 : n0+g] and add the bias.
		b.parallelFor(g*a.Cout, rowGrain(hw), func(lo, hi int) {
			for t := lo; t < hi; t++ {
				n, c := t/a.Cout, t%a.Cout
				dst := yd[(n0+n)*ys+c*hw : (n0+n)*ys+(c+1)*hw]
				if !direct {
					copy(dst, ycols.data[c*ld+n*hw:c*ld+(n+1)*hw])
				}
				if bd != nil {
					bc := bd[c]
					for i := range dst {
						dst[i] += bc
					}
				}
			}
		})
	}
}

// Conv2dBackwardInput writes dx = col2im(Wᵀ·gy).
func (b *Backend) Conv2dBackwardInput(a tensor.ConvArgs, dx, gy, w tensor.Span) {
	xs, ys, ck, hw := convSizes(a)
	dxd, gd := span(dx, a.N*xs), span(gy, a.N*ys)
	if b.useImplicit(a, convInput) {
		b.conv2dBackwardInputImplicit(a, dxd, gd, span(w, a.Cout*ck))
		return
	}
	G := b.convGroup(a)
	col, gcols, release := b.convScratch(a, G)
	defer release()
	for n0 := 0; n0 < a.N; n0 += G {
		g := min(G, a.N-n0)
		ld := g * hw
		if g == 1 || convImages(hw) {
			// The GEMM reads gy[n0 : n0+g] in place.
			gemmBlocked(b, b.workers, gemmOperands{m: ck, n: ld, k: a.Cout, transA: true, a: span(w, a.Cout*ck),
				b: gd[n0*ys : (n0+g)*ys], c: col.data[:ck*ld], alpha: 1, bImg: hw}, bestGemmKernel)
		} else {
			b.gatherCols(a, gcols.data, gd, n0, g)
			b.MatMul(tensor.MatMulArgs{Batch: 1, M: ck, N: ld, K: a.Cout, TransA: true, A: w,
				B: tensor.Span{Buf: &Buffer{Data: gcols.data[:a.Cout*ld]}},
				C: tensor.Span{Buf: &Buffer{Data: col.data[:ck*ld]}}, Alpha: 1})
		}
		b.col2im(a, dxd, col.data, n0, g)
	}
}

// Conv2dBackwardWeight writes dw = Σₙ gy[n]·col[n]ᵀ and, with a bias,
// db[c] = Σ gy over images and positions (float64, images in order).
func (b *Backend) Conv2dBackwardWeight(a tensor.ConvArgs, dw, db, x, gy tensor.Span) {
	xs, ys, ck, hw := convSizes(a)
	xd, gd := span(x, a.N*xs), span(gy, a.N*ys)
	if a.N == 0 {
		clear(span(dw, a.Cout*ck))
	}
	if b.useImplicit(a, convWeight) {
		b.conv2dBackwardWeightImplicit(a, span(dw, a.Cout*ck), xd, gd)
	} else {
		b.conv2dBackwardWeightIm2col(a, dw, xd, gd)
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

// conv2dBackwardWeightIm2col is the weight gradient on the im2col path:
// dw = Σ gycols·colᵀ over the groups of images in order.
func (b *Backend) conv2dBackwardWeightIm2col(a tensor.ConvArgs, dw tensor.Span, xd, gd []float32) {
	_, ys, ck, hw := convSizes(a)
	gy := tensor.Span{Buf: &Buffer{Data: gd}}
	G := b.convGroup(a)
	col, gcols, release := b.convScratch(a, G)
	defer release()
	for n0 := 0; n0 < a.N; n0 += G {
		g := min(G, a.N-n0)
		ld := g * hw
		b.im2col(a, col.data, xd, n0, g)
		src := tensor.Span{Buf: gy.Buf, Offset: gy.Offset + n0*ys}
		if g > 1 {
			b.gatherCols(a, gcols.data, gd, n0, g)
			src = tensor.Span{Buf: &Buffer{Data: gcols.data[:a.Cout*ld]}}
		}
		beta := float32(1)
		if n0 == 0 {
			beta = 0
		}
		b.MatMul(tensor.MatMulArgs{Batch: 1, M: a.Cout, N: ck, K: ld, TransB: true,
			A: src, B: tensor.Span{Buf: &Buffer{Data: col.data[:ck*ld]}}, C: dw, Alpha: 1, Beta: beta})
	}
}
