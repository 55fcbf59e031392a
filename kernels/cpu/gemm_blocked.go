package cpu

import "sync/atomic"

// gemmBlocked computes one product in the GotoBLAS/BLIS order. For each
// nc-wide column block and kc-deep slice, B is packed once into nr-wide
// micro-panels; then for each mc-row block, A is packed into mr-high
// micro-panels and the micro-kernel runs over every (A panel, B panel) pair,
// one B panel at a time so that it stays in L1 while the A block streams
// from L2. Packing and the kernel loop are shared among the workers through
// an atomic task counter, so a worker that gets less processor time (a busy
// or virtualised machine) takes fewer tasks instead of holding the others
// up. A nil backend runs everything on the calling goroutine.
func gemmBlocked(be *Backend, g gemmOperands, kern *gemmKernel) {
	mr, nr := kern.mr, kern.nr
	workers := 1
	if be != nil {
		workers = be.workers
	}
	kcMax := min(kern.kc, g.k)
	ncMax := min(kern.nc, (g.n+nr-1)/nr*nr)
	mcMax := min(kern.mc, (g.m+mr-1)/mr*mr)
	bbuf := packBPool.get(ncMax * kcMax)
	defer packBPool.put(bbuf)
	abuf := packAPool.get(mcMax * kcMax)
	defer packAPool.put(abuf)
	blk := gemmBlock{g: &g, kern: kern, ap: abuf.data, bp: bbuf.data}

	for jc := 0; jc < g.n; jc += kern.nc {
		blk.jc, blk.nc = jc, min(kern.nc, g.n-jc)
		nPanels := (blk.nc + nr - 1) / nr
		for pc := 0; pc < g.k; pc += kern.kc {
			blk.pc, blk.kc = pc, min(kern.kc, g.k-pc)
			blk.acc = g.acc || pc > 0
			dynamicFor(be, workers, nPanels, blk.packB)
			for ic := 0; ic < g.m; ic += kern.mc {
				blk.ic, blk.mc = ic, min(kern.mc, g.m-ic)
				mPanels := (blk.mc + mr - 1) / mr
				dynamicFor(be, workers, mPanels, blk.packA)
				// Split each B panel's column of tiles when there are too
				// few B panels to go round.
				blk.mSplit = min(mPanels, max(1, (4*workers+nPanels-1)/nPanels))
				if workers == 1 {
					blk.mSplit = 1
				}
				dynamicFor(be, workers, nPanels*blk.mSplit, blk.compute)
			}
		}
	}
}

// dynamicFor runs body(i) for i in [0, n) on up to workers goroutines that
// take the next index from a shared counter.
func dynamicFor(be *Backend, workers, n int, body func(i int)) {
	if workers <= 1 || n <= 1 || be == nil {
		for i := 0; i < n; i++ {
			body(i)
		}
		return
	}
	var next atomic.Int64
	be.parallelFor(min(workers, n), 1, func(lo, hi int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			body(i)
		}
	})
}

// gemmBlock is the state of gemmBlocked's loops: the packed blocks of A and
// B and where they lie in the product.
type gemmBlock struct {
	g      *gemmOperands
	kern   *gemmKernel
	ap, bp []float32 // packed A (mr·kc apart) and B (nr·kc apart) micro-panels
	jc, nc int       // first column and width of the B block
	pc, kc int       // first depth and depth of the blocks
	ic, mc int       // first row and height of the A block
	acc    bool      // add to C rather than overwrite it
	mSplit int       // tasks each B panel's column of tiles is split into
}

// packB packs B micro-panel q of the current block.
func (blk *gemmBlock) packB(q int) {
	nr := blk.kern.nr
	j0 := blk.jc + q*nr
	packB(blk.g, blk.bp[q*nr*blk.kc:], nr, j0, min(nr, blk.g.n-j0), blk.pc, blk.kc)
}

// packA packs A micro-panel p of the current block.
func (blk *gemmBlock) packA(p int) {
	mr := blk.kern.mr
	i0 := blk.ic + p*mr
	packA(blk.g, blk.kern, blk.ap[p*mr*blk.kc:], i0, min(mr, blk.g.m-i0), blk.pc, blk.kc)
}

// compute runs task t: B panel t/mSplit against its share of the A panels.
func (blk *gemmBlock) compute(t int) {
	g, kern := blk.g, blk.kern
	mr, nr, kc := kern.mr, kern.nr, blk.kc
	q, s := t/blk.mSplit, t%blk.mSplit
	mPanels := (blk.mc + mr - 1) / mr
	plo, phi := s*mPanels/blk.mSplit, (s+1)*mPanels/blk.mSplit
	j0 := blk.jc + q*nr
	cols := min(nr, g.n-j0)
	bpan := &blk.bp[q*nr*kc]
	acc := 0
	if blk.acc {
		acc = 1
	}
	var tile []float32
	for p := plo; p < phi; p++ {
		i0 := blk.ic + p*mr
		rows := min(mr, g.m-i0)
		apan := &blk.ap[p*mr*kc]
		if rows == mr && cols == nr {
			kern.fn(kc, apan, bpan, &g.c[i0*g.n+j0], g.n, g.alpha, acc)
			continue
		}
		// Edge tile: compute it whole into a scratch tile and copy the
		// part inside C.
		if tile == nil {
			buf := tilePool.get(mr * nr)
			defer tilePool.put(buf)
			tile = buf.data[:mr*nr]
		}
		kern.fn(kc, apan, bpan, &tile[0], nr, g.alpha, 0)
		for r := 0; r < rows; r++ {
			dst := g.c[(i0+r)*g.n+j0 : (i0+r)*g.n+j0+cols]
			src := tile[r*nr : r*nr+cols]
			if blk.acc {
				for j, v := range src {
					dst[j] += v
				}
			} else {
				copy(dst, src)
			}
		}
	}
}
