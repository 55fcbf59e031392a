package cpu

import (
	"sync/atomic"

	"sargo/tensor"
)

// Implicit GEMM for convolutions: no patch matrix and no packed B.
//
// Each input plane is copied, zero-padded, into a plane of Hp×Wp
// (Hp = H+2·padH, Wp = W+2·padW), and the output is computed in an
// "extended" layout with row stride Wp: extended position q = oy·Wp + ox'
// for ox' in [0, Wp), of which the columns ox' ≥ Wout are garbage and
// dropped. For tap (c, ky, kx) the B row over the extended positions is
// then the padded plane c shifted by ky·Wp + kx, a contiguous run with no
// edge fix-ups, so the indirect micro-kernel reads each 32-wide B row
// straight from the padded image at a per-depth offset
// off[k] = c·Hp·Wp + ky·Wp + kx. Only A (the weights, a small matrix) is
// packed, once per call; the patch matrix of im2col (KH·KW times the input)
// and the packing of B are gone, at the price of computing the garbage
// columns, (KW−1)/Wp of the work.
//
// With stride s > 1 each padded plane is split into s² phase planes: phase
// (py, px) holds the padded pixels at rows ≡ py and columns ≡ px (mod s),
// Hq×Wq of them (Hq = ⌈Hp/s⌉, Wq = ⌈Wp/s⌉). Tap (ky, kx) then reads phase
// (ky mod s, kx mod s) shifted by ⌊ky/s⌋·Wq + ⌊kx/s⌋, and the extended layout
// has row stride Wq: the same contiguous runs as at stride 1, so the same
// kernels serve the forward pass and the weight gradient of a strided
// convolution with no patch matrix and no extra products. (Stride 1 is the
// case of one phase, Hq×Wq = Hp×Wp.)
//
// The input gradient of a stride-1 convolution is itself such a
// convolution: of gy, padded by KH−1−pad and KW−1−pad, with the weights
// flipped in space and transposed in channels, so it takes the same path
// instead of col2im. (With stride s, each phase of dx is likewise a
// stride-1 convolution of gy with that phase's taps; as s² shallow
// convolutions whose outputs are then spread into dx, that measured 0.75×
// im2col's speed on the tokenizer's downsample on Zen 3, so strided input
// gradients take im2col.)
//
// The weight gradient is the product dWᵀ = X·G over the extended
// positions of every image: X[r][q] = xp[off[r] + q], the padded plane of
// tap r's channel shifted as above (one contiguous run per tap, packed as
// A straight from the padded images), and G[q][co] = gy[co] in the
// extended layout with zeros in the garbage columns, so that the wrapped
// values of X there add nothing. This replaces im2col and the packing of
// the patch matrix with padding x and spreading gy out to row stride Wp.

// indirectKernel is a micro-kernel that reads row kk of B at b + off[kk]
// (see gemmKernelAVX512x14x32Indirect), with the gemmKernel whose tile
// sizes and A packing it shares.
type indirectKernel struct {
	kern *gemmKernel
	fn   func(k int, a, b *float32, off *int, c *float32, ldc int, alpha float32, acc int, pf *float32, ldpf int)
	// scatter stores the first n columns of the tile's rows (from src)
	// ldd apart, plus the bias of each row, in all the rows of a tile at
	// once.
	scatter func(dst *float32, ldd int, src, bias *float32, rows, n int)
	// packRows packs groups 16-deep blocks of an A micro-panel whose row
	// i starts at base + offs[i] (gemmPackA14RowsAVX512).
	packRows func(dst, base *float32, offs *int, groups int)
}

// convIndirect is the indirect micro-kernel of this processor, nil where
// there is none (the convolutions then all take the im2col path). It is
// set only when the matching GEMM kernel is also the one in use.
var convIndirect *indirectKernel

// convPadBudget is the most elements of padded images a group may use (4
// MiB of float32, like convColBudget): the images of a group are padded
// together, then all their tiles computed as one pool of tasks.
const convPadBudget = 1 << 20

// convAPanelBudget is the most elements of packed A one task streams over
// (512 KiB of float32): the A panels of a row block stay in L2 while every
// tile of the task's B panels passes over them.
const convAPanelBudget = 1 << 17

// implicitConv describes one convolution on the implicit path: n images
// of cin×h×w, padded by (ph, pw), with stride `stride`, to
// cout×hout×wout.
type implicitConv struct {
	n, cin, h, w int
	cout, kh, kw int
	ph, pw       int
	stride       int
	hp, wp       int // padded plane
	hq, wq       int // phase plane; wq is the extended layout's row stride
	phase        int // hq·wq
	hout, wout   int
	plane        int // stride²·phase, the phase planes of one channel
	ext          int // extended output positions per image, hout·wq
	panels       int // nr-wide panels over the extended positions
	xlen         int // elements of one padded image, tail included
	k            int // GEMM depth, cin·kh·kw
}

// newImplicitConv fills in the derived sizes of a convolution for
// micro-panels nr wide. Each padded image ends in a zero tail of at least
// nr+wq elements, so that the last panel of the last plane, which runs up
// to nr−1 positions past the extended output and ⌊(kw−1)/stride⌋ past the
// plane, stays inside the image's own buffer.
func newImplicitConv(n, cin, h, w, cout, kh, kw, ph, pw, stride, nr int) implicitConv {
	s := implicitConv{n: n, cin: cin, h: h, w: w, cout: cout, kh: kh, kw: kw, ph: ph, pw: pw, stride: stride}
	s.hp, s.wp = h+2*ph, w+2*pw
	s.hq, s.wq = (s.hp+stride-1)/stride, (s.wp+stride-1)/stride
	s.phase = s.hq * s.wq
	s.hout, s.wout = (s.hp-kh)/stride+1, (s.wp-kw)/stride+1
	s.plane = stride * stride * s.phase
	s.ext = s.hout * s.wq
	s.panels = (s.ext + nr - 1) / nr
	s.xlen = (cin*s.plane + s.wq + nr + 15) &^ 15 // whole cache lines per image
	s.k = cin * kh * kw
	return s
}

// tapOffset is the offset in a padded image of tap (c, ky, kx)'s run: its
// phase plane shifted by ⌊ky/stride⌋ rows and ⌊kx/stride⌋ columns.
func (s *implicitConv) tapOffset(c, ky, kx int) int {
	st := s.stride
	return c*s.plane + (ky%st*st+kx%st)*s.phase + ky/st*s.wq + kx/st
}

// tapOffsets writes the offset of every tap, in weight order, into off
// (at least k long) and returns the largest.
func (s *implicitConv) tapOffsets(off []int) int {
	largest := 0
	for c := range s.cin {
		for ky := range s.kh {
			for kx := range s.kw {
				o := s.tapOffset(c, ky, kx)
				off[(c*s.kh+ky)*s.kw+kx] = o
				largest = max(largest, o)
			}
		}
	}
	return largest
}

// convPass is one of the three products of a convolution.
type convPass int

// weightCopyCost is im2col's copies in the weight gradient over its GEMM,
// times Cout: 23–27 from BenchmarkConv2dPathPairs on Zen 3 at 64 and 128
// channels (8², 16²), where the implicit path's 25% and 12.5% extra
// depths came out 1.11×, 0.97× and 1.05× of im2col.
const weightCopyCost = 24

const (
	convForward convPass = iota // Conv2d
	convInput                   // Conv2dBackwardInput
	convWeight                  // Conv2dBackwardWeight
)

// useImplicit reports whether pass of the convolution a takes the implicit
// path, the one place the path is chosen. It needs the indirect kernel,
// at least one image and channel each way, and the usual output size; the
// input gradient also needs stride 1 and pad ≤ K−1 so that its own padding
// is not negative. The forward pass and the weight gradient, whose depth runs
// over the extended positions, take it when the garbage columns are at
// most as many as the real ones.
//
// Then it compares the micro-kernel work of the two paths, rows rounded up
// to whole micro-panels: the implicit path computes Wp columns per output
// row of Wout, and its GEMM has the output channels as rows; the im2col
// path computes only real columns, but its copies (im2col or col2im, and
// packing B) cost about as much again as its GEMM in profiles on Zen 5, so
// it counts twice. The two differ most for the input gradient of a
// convolution with few input channels (3 for an RGB image): the implicit
// GEMM has Cin rows, mostly padding in a 14-row panel, while im2col's has
// Cin·KH·KW.
//
// The weight gradient's im2col copies cost less against its GEMM: the
// patch matrix is Cin·KH·KW by the positions and the GEMM's rows are the
// Cout output channels, so the copies are about weightCopyCost/Cout of
// the products. It takes the implicit path when its garbage depths,
// (wq − Wout)/Wout of the real ones, cost no more than that.
func (b *Backend) useImplicit(a tensor.ConvArgs, pass convPass) bool {
	if convIndirect == nil || b.convPath < 0 || a.Stride < 1 || a.N == 0 || a.Cin == 0 || a.Cout == 0 ||
		a.KH < 1 || a.KW < 1 || a.Pad < 0 || a.H+2*a.Pad < a.KH || a.W+2*a.Pad < a.KW ||
		a.Hout != (a.H+2*a.Pad-a.KH)/a.Stride+1 || a.Wout != (a.W+2*a.Pad-a.KW)/a.Stride+1 {
		return false
	}
	input := pass == convInput
	if input && (a.Stride != 1 || a.Pad > a.KH-1 || a.Pad > a.KW-1) {
		return false
	}
	if b.convPath > 0 {
		return true
	}
	mr := convIndirect.kern.mr
	up := func(m int) int { return (m + mr - 1) / mr * mr }
	kk := a.KH * a.KW
	if !input {
		// The same products but for the garbage columns (depths, in
		// the weight gradient): only they count.
		wq := (a.W + 2*a.Pad + a.Stride - 1) / a.Stride
		if pass == convWeight {
			return wq <= 2*a.Wout && (wq-a.Wout)*a.Cout <= weightCopyCost*a.Wout
		}
		return wq <= 2*a.Wout
	}
	// Per channel of gy and row of dx: the implicit path makes up(Cin)·KH·KW
	// products in each of the Wout+2·(KW−1−pad) columns of gy's padded
	// plane, im2col up(Cin·KH·KW) in each of W columns, counted twice.
	wp := a.Wout + 2*(a.KW-1-a.Pad)
	return up(a.Cin)*kk*wp <= 2*up(a.Cin*kk)*a.W
}

// convImplicit computes y = conv(x, w) (+ bias) for images x [n, cin, h, w]
// into y [n, cout, hout, wout], with w row-major [cout, cin·kh·kw] and
// bias nil or cout long. Every output tile is one call of the indirect
// kernel over the full depth, so the results do not depend on the worker
// count. (Splitting the depth into blocks of 256 or 512, with the tiles of
// a task kept until the last block, measured no faster on Zen 5.) Each
// tile goes through a scratch tile that scatter moves into y, dropping
// the garbage columns and adding the bias.
func (b *Backend) convImplicit(s implicitConv, y, x, w, bias []float32) {
	ik := convIndirect
	mr, nr, K := ik.kern.mr, ik.kern.nr, s.k
	mPanels := (s.cout + mr - 1) / mr

	// A: every micro-panel over the full depth.
	abuf := b.scratch(scratchConvPack, mPanels*mr*K)
	defer b.putScratch(abuf)
	ap := abuf.data
	ga := gemmOperands{m: s.cout, k: K, a: w[:s.cout*K]}
	b.parallelFor(mPanels, rowGrain(mr*K), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			packA(&ga, ik.kern, ap[p*mr*K:], p*mr, min(mr, s.cout-p*mr), 0, K)
		}
	})
	off := make([]int, K)
	s.tapOffsets(off)

	G := max(1, min(s.n, convPadBudget/s.xlen))
	xbuf := b.scratch(scratchConvPad, G*s.xlen)
	defer b.putScratch(xbuf)
	xp := xbuf.data

	// Row blocks of A panels small enough to stay in L2; column chunks
	// enough that every worker has a few tasks.
	perBlock := max(1, convAPanelBudget/(mr*K))
	rowBlocks := (mPanels + perBlock - 1) / perBlock
	perBlock = (mPanels + rowBlocks - 1) / rowBlocks
	workers := b.workers
	// Without a bias the scatter adds zeros (which only turns −0 into +0).
	bd := bias
	if bd == nil {
		bd = make([]float32, s.cout)
	}
	xs, ys, hw := s.cin*s.h*s.w, s.cout*s.hout*s.wout, s.hout*s.wout
	for n0 := 0; n0 < s.n; n0 += G {
		g := min(G, s.n-n0)
		b.padImages(s, xp, x[n0*xs:(n0+g)*xs], g)
		chunks := 1
		if workers > 1 {
			chunks = min(s.panels, max(1, (4*workers+g*rowBlocks-1)/(g*rowBlocks)))
		}
		per := rowBlocks * chunks
		tasks := g * per
		task := func(t int, tile []float32, segs []convSeg) {
			n, rb, ch := t/per, t%per/chunks, t%chunks
			p0, p1 := rb*perBlock, min(mPanels, (rb+1)*perBlock)
			q0, q1 := ch*s.panels/chunks, (ch+1)*s.panels/chunks
			xn := xp[n*s.xlen : (n+1)*s.xlen]
			yn := y[(n0+n)*ys : (n0+n+1)*ys]
			for q := q0; q < q1; q++ {
				e0 := q * nr
				segs := s.segments(segs[:0], e0, nr)
				for p := p0; p < p1; p++ {
					co, rows := p*mr, min(mr, s.cout-p*mr)
					// The tile's real pixels are one run of y per row,
					// from the first segment on: the kernel prefetches
					// it while it computes.
					pf := &tile[0]
					if len(segs) > 0 {
						pf = &yn[co*hw+segs[0].dst]
					}
					ik.fn(K, &ap[p*mr*K], &xn[e0], &off[0], &tile[0], nr, 1, 0, pf, hw)
					for _, sg := range segs {
						ik.scatter(&yn[co*hw+sg.dst], hw, &tile[sg.src], &bd[co], rows, sg.n)
					}
				}
			}
		}
		runConvTasks(b, workers, tasks, mr*nr, nr, task)
	}
}

// runConvTasks runs task(t) for t in [0, tasks) on up to workers
// goroutines taking the next task from a shared counter (as gemmBlocked's
// runTasks does, so a worker that gets less processor time takes fewer
// tasks), each with its own scratch tile of tileLen elements and room for
// segs segments.
func runConvTasks(b *Backend, workers, tasks, tileLen, segs int, task func(t int, tile []float32, segs []convSeg)) {
	run := func(next *atomic.Int64) {
		tile := make([]float32, tileLen)
		sg := make([]convSeg, 0, segs+1)
		for {
			t := int(next.Add(1) - 1)
			if t >= tasks {
				return
			}
			task(t, tile, sg)
		}
	}
	var next atomic.Int64
	if workers <= 1 || tasks <= 1 {
		run(&next)
		return
	}
	b.parallelFor(min(workers, tasks), 1, func(_, _ int) { run(&next) })
}

// convSeg is a run of n output pixels of a tile: tile columns
// [src, src+n) go to output positions [dst, dst+n) of a channel plane.
type convSeg struct{ src, dst, n int }

// segments appends to segs the runs of real output pixels among the nr
// extended positions from e0 (garbage columns and positions past the
// extended output skipped) and returns it.
func (s *implicitConv) segments(segs []convSeg, e0, nr int) []convSeg {
	end := min(e0+nr, s.ext)
	for e := e0; e < end; {
		oy, ox := e/s.wq, e%s.wq
		if ox < s.wout {
			n := min(s.wout-ox, end-e)
			segs = append(segs, convSeg{src: e - e0, dst: oy*s.wout + ox, n: n})
		}
		e = (oy + 1) * s.wq
	}
	return segs
}

// padImages copies the g images x [g, cin, h, w] into xp, each plane
// zero-padded to hp×wp (and split into its phase planes at stride > 1) and
// each image followed by its zero tail (xlen elements per image).
func (b *Backend) padImages(s implicitConv, xp, x []float32, g int) {
	b.parallelFor(g*s.cin, rowGrain(s.plane), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, c := t/s.cin, t%s.cin
			dst := xp[n*s.xlen+c*s.plane : n*s.xlen+(c+1)*s.plane]
			src := x[(n*s.cin+c)*s.h*s.w : (n*s.cin+c+1)*s.h*s.w]
			if s.stride > 1 {
				s.padPhases(dst, src)
			} else {
				s.padPlane(dst, src)
			}
			if c == s.cin-1 {
				clear(xp[n*s.xlen+s.cin*s.plane : (n+1)*s.xlen])
			}
		}
	})
}

// padPlane writes the plane src, zero-padded, into dst (hp×wp).
func (s *implicitConv) padPlane(dst, src []float32) {
	clear(dst[:s.ph*s.wp])
	clear(dst[(s.ph+s.h)*s.wp:])
	for iy := range s.h {
		row := dst[(s.ph+iy)*s.wp : (s.ph+iy+1)*s.wp]
		for i := 0; i < s.pw; i++ {
			row[i] = 0
			row[s.pw+s.w+i] = 0
		}
		copy(row[s.pw:s.pw+s.w], src[iy*s.w:(iy+1)*s.w])
	}
}

// padPhases writes the plane src, zero-padded, into dst as its stride²
// phase planes of hq×wq: phase (py, px) row i, column j is the padded pixel
// (i·stride+py, j·stride+px), zero outside the image. It goes once over the
// padded rows, each image row spread over its stride phase rows.
func (s *implicitConv) padPhases(dst, src []float32) {
	st := s.stride
	if st == 2 {
		s.padPhases2(dst, src)
		return
	}
	rows := make([][]float32, st)
	for p := range s.hq * st {
		py, i := p%st, p/st
		for px := range rows {
			rows[px] = dst[(py*st+px)*s.phase+i*s.wq : (py*st+px)*s.phase+(i+1)*s.wq]
		}
		iy := p - s.ph
		if iy < 0 || iy >= s.h {
			for _, r := range rows {
				clear(r)
			}
			continue
		}
		xr := src[iy*s.w : (iy+1)*s.w]
		// Padded column X = ix+pw of phase X mod st at X / st: phase px
		// holds image columns [lo, hi) of its row.
		for px, r := range rows {
			lo := max(0, (s.pw-px+st-1)/st)
			hi := max(lo, min(s.wq, (s.pw+s.w-px+st-1)/st))
			clear(r[:lo])
			clear(r[hi:])
		}
		for ix, v := range xr {
			x := ix + s.pw
			rows[x%st][x/st] = v
		}
	}
}

// padPhases2 is padPhases for stride 2.
func (s *implicitConv) padPhases2(dst, src []float32) {
	wq := s.wq
	// Image column ix is padded column ix+pw: phase (ix+pw) mod 2 at
	// (ix+pw)/2. Phase px holds image columns [lo[px], hi[px]) of its row.
	var lo, hi [2]int
	for px := range 2 {
		lo[px] = max(0, (s.pw-px+1)/2)
		hi[px] = max(lo[px], min(wq, (s.pw+s.w-px+1)/2))
	}
	p0 := s.pw % 2
	for p := range 2 * s.hq {
		py, i := p%2, p/2
		r0 := dst[2*py*s.phase+i*wq : 2*py*s.phase+(i+1)*wq]
		r1 := dst[(2*py+1)*s.phase+i*wq : (2*py+1)*s.phase+(i+1)*wq]
		iy := p - s.ph
		if iy < 0 || iy >= s.h {
			clear(r0)
			clear(r1)
			continue
		}
		clear(r0[:lo[0]])
		clear(r0[hi[0]:])
		clear(r1[:lo[1]])
		clear(r1[hi[1]:])
		if p0 == 0 {
			deinterleave2(r0[s.pw/2:], r1[s.pw/2:], src[iy*s.w:(iy+1)*s.w])
		} else {
			deinterleave2(r1[s.pw/2:], r0[(s.pw+1)/2:], src[iy*s.w:(iy+1)*s.w])
		}
	}
}

// deinterleave2 writes even[k] = src[2k] and odd[k] = src[2k+1].
func deinterleave2(even, odd, src []float32) {
	n := len(src) / 2
	even, odd = even[:(len(src)+1)/2], odd[:n]
	for k := range odd {
		pair := src[2*k : 2*k+2 : 2*k+2]
		even[k], odd[k] = pair[0], pair[1]
	}
	if len(src)%2 == 1 {
		even[n] = src[len(src)-1]
	}
}

// conv2dImplicit is Conv2d on the implicit path.
func (b *Backend) conv2dImplicit(a tensor.ConvArgs, y, x, w, bias []float32) {
	s := newImplicitConv(a.N, a.Cin, a.H, a.W, a.Cout, a.KH, a.KW, a.Pad, a.Pad, a.Stride, convIndirect.kern.nr)
	b.convImplicit(s, y, x, w, bias)
}

// conv2dBackwardInputImplicit is Conv2dBackwardInput on the implicit path:
// dx is the stride-1 convolution of gy, padded by KH−1−pad and KW−1−pad,
// with w'[ci][co][KH−1−ky][KW−1−kx] = w[co][ci][ky][kx].
func (b *Backend) conv2dBackwardInputImplicit(a tensor.ConvArgs, dx, gy, w []float32) {
	kk := a.KH * a.KW
	fbuf := b.scratch(scratchConvFlip, a.Cin*a.Cout*kk)
	defer b.putScratch(fbuf)
	wf := fbuf.data[:a.Cin*a.Cout*kk]
	b.parallelFor(a.Cout, rowGrain(a.Cin*kk), func(lo, hi int) {
		for co := lo; co < hi; co++ {
			for ci := range a.Cin {
				src := w[(co*a.Cin+ci)*kk : (co*a.Cin+ci+1)*kk]
				dst := wf[(ci*a.Cout+co)*kk : (ci*a.Cout+co+1)*kk]
				for i, v := range src {
					dst[kk-1-i] = v // (ky, kx) → (KH−1−ky, KW−1−kx)
				}
			}
		}
	})
	s := newImplicitConv(a.N, a.Cout, a.Hout, a.Wout, a.Cin, a.KH, a.KW, a.KH-1-a.Pad, a.KW-1-a.Pad, 1, convIndirect.kern.nr)
	b.convImplicit(s, dx, gy, wf, nil)
}

// convRows is an A read by tap from padded images: row r over depths
// [n·qp, (n+1)·qp) is image n's run xp[n·xlen+offs[r] : …+qp]. qp is a
// multiple of packADepth and offs is padded with zeros to whole
// micro-panels (rows past A read valid memory and are dropped with their
// tile rows), so every panel goes through the vector packing.
type convRows struct {
	mr     int // rows of a micro-panel
	xp     []float32
	xlen   int // elements per padded image
	qp     int // depths per image
	offs   []int
	maxOff int // the largest of offs
	fn     func(dst, base *float32, offs *int, groups int)
}

// pack packs depths [p0, p0+kc) of the micro-panel of rows from i0 into
// dst, one run per image the depths cover.
func (r *convRows) pack(dst []float32, i0, p0, kc int) {
	mr := r.mr
	for kc > 0 {
		n, q := p0/r.qp, p0%r.qp
		d := min(kc, r.qp-q)
		img := r.xp[n*r.xlen+q : (n+1)*r.xlen]
		if r.maxOff+d > len(img) || d%packADepth != 0 || len(dst) < d*mr {
			panic("cpu: implicit weight gradient panel out of range")
		}
		r.fn(&dst[0], &img[0], &r.offs[i0], d/packADepth)
		dst, p0, kc = dst[d*mr:], p0+d, kc-d
	}
}

// conv2dBackwardWeightImplicit is the weight gradient on the implicit
// path: dWᵀ [Cin·KH·KW, Cout] = Σₙ Xₙ·Gₙ over groups of images whose
// extended positions lie end to end along the GEMM's depth (summed by
// gemmBlocked in depth order, then over the groups in order, so the result
// does not depend on the worker count), then transposed into dw.
func (b *Backend) conv2dBackwardWeightImplicit(a tensor.ConvArgs, dw, x, gy []float32) {
	ik := convIndirect
	s := newImplicitConv(a.N, a.Cin, a.H, a.W, a.Cout, a.KH, a.KW, a.Pad, a.Pad, a.Stride, ik.kern.nr)
	mr, ck := ik.kern.mr, s.k
	qp := (s.ext + packADepth - 1) / packADepth * packADepth
	offs := make([]int, (ck+mr-1)/mr*mr)
	maxOff := s.tapOffsets(offs)
	G := max(1, min(s.n, convPadBudget/s.xlen, convPadBudget/(s.cout*qp)))
	xbuf, gbuf, tbuf := b.scratch(scratchConvPad, G*s.xlen), b.scratch(scratchConvGy, s.cout*G*qp), b.scratch(scratchConvDw, ck*s.cout)
	defer b.putScratch(xbuf)
	defer b.putScratch(gbuf)
	defer b.putScratch(tbuf)
	rows := convRows{mr: mr, xp: xbuf.data, xlen: s.xlen, qp: qp, offs: offs, maxOff: maxOff, fn: ik.packRows}
	dwt := tbuf.data[:ck*s.cout]
	xs, ys, hw := s.cin*s.h*s.w, s.cout*s.hout*s.wout, s.hout*s.wout
	for n0 := 0; n0 < s.n; n0 += G {
		g := min(G, s.n-n0)
		b.padImages(s, xbuf.data, x[n0*xs:(n0+g)*xs], g)
		K := g * qp
		ge := gbuf.data[:s.cout*K]
		b.parallelFor(g*s.cout, rowGrain(qp), func(lo, hi int) {
			for t := lo; t < hi; t++ {
				n, co := t/s.cout, t%s.cout
				dst := ge[co*K+n*qp : co*K+(n+1)*qp]
				src := gy[(n0+n)*ys+co*hw : (n0+n)*ys+(co+1)*hw]
				for oy := range s.hout {
					row := dst[oy*s.wq : (oy+1)*s.wq]
					copy(row, src[oy*s.wout:(oy+1)*s.wout])
					clear(row[s.wout:])
				}
				clear(dst[s.ext:])
			}
		})
		gemmBlocked(b, b.workers, gemmOperands{m: ck, n: s.cout, k: K, transB: true, b: ge, c: dwt,
			alpha: 1, acc: n0 > 0, aRows: &rows}, ik.kern)
	}
	b.parallelFor(s.cout, rowGrain(ck), func(lo, hi int) {
		for co := lo; co < hi; co++ {
			d := dw[co*ck : (co+1)*ck]
			for r := range d {
				d[r] = dwt[r*s.cout+co]
			}
		}
	})
}
