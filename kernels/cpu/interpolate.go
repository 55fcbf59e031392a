package cpu

import (
	"math"
	"sync"

	"sargo/tensor"
)

// Interpolation follows PyTorch's F.interpolate(align_corners=False) with
// an explicit output size, so scale = float32(in)/float32(out) and source
// coordinates are computed in float32 as ATen does:
//
//	nearest:  src = min(floor(float32(dst)·scale), in−1)
//	bilinear: src = max((dst+0.5)·scale − 0.5, 0); taps i0 = floor(src),
//	          i1 = min(i0+1, in−1), weights 1−λ, λ with λ = src − i0
//	bicubic:  src = (dst+0.5)·scale − 0.5 (unclamped); taps floor(src)−1 …
//	          floor(src)+2 clamped to [0, in−1], cubic convolution weights
//	          with A = −0.75 at t = src − floor(src)
//	area:     adaptive average pooling over [floor(i·in/out), ceil((i+1)·in/out))
//
// When in == out the axis is the identity for every mode. Every mode is
// separable, so each axis is described by a tap table and a plane is
// resized by a horizontal then a vertical pass. The backward is the exact
// adjoint of the same two passes, serial within a plane and parallel over
// planes, hence deterministic.

// taps lists, for each output coordinate o, the source indices
// idx[start[o]:start[o+1]] and their weights.
type taps struct {
	start []int
	idx   []int
	w     []float32
}

// cubicA is the cubic convolution coefficient PyTorch uses.
const cubicA = -0.75

// cubicWeights returns the four cubic convolution weights at offset t.
func cubicWeights(t float32) [4]float32 {
	c1 := func(x float32) float32 { return ((cubicA+2)*x-(cubicA+3))*x*x + 1 }
	c2 := func(x float32) float32 { return ((cubicA*x-5*cubicA)*x+8*cubicA)*x - 4*cubicA }
	return [4]float32{c2(t + 1), c1(t), c1(1 - t), c2(2 - t)}
}

// tapKey names the tap table of one axis.
type tapKey struct {
	mode    tensor.InterpMode
	in, out int
}

// tapCacheSize bounds the tap tables a backend keeps.
const tapCacheSize = 64

// tapCache keeps the tap tables a backend has built, read-only once made,
// so that a training step resizing the same scales builds none.
type tapCache struct {
	mu sync.Mutex
	m  map[tapKey]*taps
}

// axisTaps returns the tap table of one axis resized from in to out, from
// the backend's cache.
func (b *Backend) axisTaps(mode tensor.InterpMode, in, out int) *taps {
	c := &b.taps
	c.mu.Lock()
	defer c.mu.Unlock()
	k := tapKey{mode, in, out}
	if t, ok := c.m[k]; ok {
		return t
	}
	if c.m == nil || len(c.m) >= tapCacheSize {
		c.m = make(map[tapKey]*taps)
	}
	t := axisTaps(mode, in, out)
	c.m[k] = &t
	return &t
}

// axisTaps builds the tap table of one axis resized from in to out.
func axisTaps(mode tensor.InterpMode, in, out int) taps {
	var t taps
	t.start = make([]int, 0, out+1)
	add := func(i int, w float32) {
		t.idx = append(t.idx, i)
		t.w = append(t.w, w)
	}
	scale := float32(in) / float32(out)
	for o := range out {
		t.start = append(t.start, len(t.idx))
		if in == out {
			add(o, 1)
			continue
		}
		switch mode {
		case tensor.InterpNearest:
			add(min(int(math.Floor(float64(float32(o)*scale))), in-1), 1)
		case tensor.InterpBilinear:
			src := max(scale*(float32(o)+0.5)-0.5, 0)
			i0 := min(int(math.Floor(float64(src))), in-1)
			l := min(max(src-float32(i0), 0), 1)
			i1 := min(i0+1, in-1)
			add(i0, 1-l)
			add(i1, l)
		case tensor.InterpBicubic:
			src := scale*(float32(o)+0.5) - 0.5
			i0 := min(int(math.Floor(float64(src))), in-1)
			l := min(max(src-float32(i0), 0), 1)
			for k, w := range cubicWeights(l) {
				add(min(max(i0-1+k, 0), in-1), w)
			}
		case tensor.InterpArea:
			s := o * in / out
			e := ((o+1)*in + out - 1) / out
			w := 1 / float32(e-s)
			for i := s; i < e; i++ {
				add(i, w)
			}
		}
	}
	t.start = append(t.start, len(t.idx))
	return t
}

// Interpolate resizes each Hin×Win plane of src into Hout×Wout of dst.
func (b *Backend) Interpolate(a tensor.InterpArgs, dst, src tensor.Span) {
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	s, d := span(src, a.Planes*in), span(dst, a.Planes*out)
	switch {
	case a.Mode == tensor.InterpArea:
		b.areaPool(a, d, s)
	case nearestWhole(a):
		b.nearestUp(a, d, s)
	default:
		b.interpolateTaps(a, d, s)
	}
}

// interpolateTaps is Interpolate through the tap tables of both axes.
func (b *Backend) interpolateTaps(a tensor.InterpArgs, d, s []float32) {
	tx, ty := b.axisTaps(a.Mode, a.Win, a.Wout), b.axisTaps(a.Mode, a.Hin, a.Hout)
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	l := interpLoop{a: a, scratch: scratchRef{b, scratchRows}, tx: tx, ty: ty, in: in, out: out, d: d, s: s}
	if b.chunks(a.Planes, rowGrain(in+out)) <= 1 {
		l.run(0, a.Planes)
	} else {
		launch(b, &b.frames.interp, a.Planes, rowGrain(in+out), &l)
	}
}

// areaPool is adaptive average pooling: each output is the float64 mean of
// its source window, as ATen's adaptive_avg_pool2d computes it.
func (b *Backend) areaPool(a tensor.InterpArgs, d, s []float32) {
	tx, ty := b.axisTaps(tensor.InterpArea, a.Win, a.Wout), b.axisTaps(tensor.InterpArea, a.Hin, a.Hout)
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	l := areaPoolLoop{a: a, tx: tx, ty: ty, in: in, out: out, d: d, s: s}
	if b.chunks(a.Planes, rowGrain(in+out)) <= 1 {
		l.run(0, a.Planes)
	} else {
		launch(b, &b.frames.areaPool, a.Planes, rowGrain(in+out), &l)
	}
}

// InterpolateBackward writes the gradient of src (overwritten) from the
// gradient of dst: the adjoint of the vertical pass, then of the
// horizontal pass, serial within a plane.
func (b *Backend) InterpolateBackward(a tensor.InterpArgs, dsrc, gdst tensor.Span) {
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	ds, g := span(dsrc, a.Planes*in), span(gdst, a.Planes*out)
	if nearestWhole(a) {
		b.nearestUpBackward(a, ds, g)
		return
	}
	b.interpolateTapsBackward(a, ds, g)
}

// interpolateTapsBackward is InterpolateBackward through the tap tables.
func (b *Backend) interpolateTapsBackward(a tensor.InterpArgs, ds, g []float32) {
	tx, ty := b.axisTaps(a.Mode, a.Win, a.Wout), b.axisTaps(a.Mode, a.Hin, a.Hout)
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	l := interpBackLoop{a: a, scratch: scratchRef{b, scratchRows}, tx: tx, ty: ty, in: in, out: out, ds: ds, g: g}
	if b.chunks(a.Planes, rowGrain(in+out)) <= 1 {
		l.run(0, a.Planes)
	} else {
		launch(b, &b.frames.interpBack, a.Planes, rowGrain(in+out), &l)
	}
}

// interpLoop is the parallel loop body of interpolateTaps.
type interpLoop struct {
	a       tensor.InterpArgs
	scratch scratchRef
	tx      *taps
	ty      *taps
	in      int
	out     int
	d       []float32
	s       []float32
}

func (l *interpLoop) run(lo, hi int) {
	a, scratch, tx, ty, in, out, d, s := l.a, l.scratch, l.tx, l.ty, l.in, l.out, l.d, l.s
	buf := scratch.get(a.Hin * a.Wout)
	defer scratch.put(buf)
	tmp := buf.data[:a.Hin*a.Wout]
	for p := lo; p < hi; p++ {
		sp, dp := s[p*in:(p+1)*in], d[p*out:(p+1)*out]
		for h := range a.Hin {
			row, tr := sp[h*a.Win:(h+1)*a.Win], tmp[h*a.Wout:(h+1)*a.Wout]
			for x := range tr {
				var acc float32
				for k := tx.start[x]; k < tx.start[x+1]; k++ {
					acc += tx.w[k] * row[tx.idx[k]]
				}
				tr[x] = acc
			}
		}
		for y := range a.Hout {
			dr := dp[y*a.Wout : (y+1)*a.Wout]
			clear(dr)
			for k := ty.start[y]; k < ty.start[y+1]; k++ {
				axpy(ty.w[k], tmp[ty.idx[k]*a.Wout:(ty.idx[k]+1)*a.Wout], dr)
			}
		}
	}
}

// areaPoolLoop is the parallel loop body of areaPool.
type areaPoolLoop struct {
	a   tensor.InterpArgs
	tx  *taps
	ty  *taps
	in  int
	out int
	d   []float32
	s   []float32
}

func (l *areaPoolLoop) run(lo, hi int) {
	a, tx, ty, in, out, d, s := l.a, l.tx, l.ty, l.in, l.out, l.d, l.s
	for p := lo; p < hi; p++ {
		sp, dp := s[p*in:(p+1)*in], d[p*out:(p+1)*out]
		for y := range a.Hout {
			y0, y1 := ty.idx[ty.start[y]], ty.idx[ty.start[y+1]-1]+1
			for x := range a.Wout {
				x0, x1 := tx.idx[tx.start[x]], tx.idx[tx.start[x+1]-1]+1
				var acc float64
				for h := y0; h < y1; h++ {
					for _, v := range sp[h*a.Win+x0 : h*a.Win+x1] {
						acc += float64(v)
					}
				}
				dp[y*a.Wout+x] = float32(acc / float64((y1-y0)*(x1-x0)))
			}
		}
	}
}

// interpBackLoop is the parallel loop body of interpolateTapsBackward.
type interpBackLoop struct {
	a       tensor.InterpArgs
	scratch scratchRef
	tx      *taps
	ty      *taps
	in      int
	out     int
	ds      []float32
	g       []float32
}

func (l *interpBackLoop) run(lo, hi int) {
	a, scratch, tx, ty, in, out, ds, g := l.a, l.scratch, l.tx, l.ty, l.in, l.out, l.ds, l.g
	buf := scratch.get(a.Hin * a.Wout)
	defer scratch.put(buf)
	tmp := buf.data[:a.Hin*a.Wout]
	for p := lo; p < hi; p++ {
		dp, gp := ds[p*in:(p+1)*in], g[p*out:(p+1)*out]
		clear(tmp)
		for y := range a.Hout {
			gr := gp[y*a.Wout : (y+1)*a.Wout]
			for k := ty.start[y]; k < ty.start[y+1]; k++ {
				axpy(ty.w[k], gr, tmp[ty.idx[k]*a.Wout:(ty.idx[k]+1)*a.Wout])
			}
		}
		clear(dp)
		for h := range a.Hin {
			tr, dr := tmp[h*a.Wout:(h+1)*a.Wout], dp[h*a.Win:(h+1)*a.Win]
			for x, gv := range tr {
				for k := tx.start[x]; k < tx.start[x+1]; k++ {
					dr[tx.idx[k]] += tx.w[k] * gv
				}
			}
		}
	}
}
