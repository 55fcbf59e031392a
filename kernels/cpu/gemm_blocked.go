package cpu

import "sync/atomic"

// gemmBlocked computes one product in the GotoBLAS/BLIS order. For each
// nc-wide column block and kc-deep slice, B is packed once into nr-wide
// micro-panels shared by every worker. The rows of C are then cut into
// blocks of at most mc rows, and the columns of the B block into chunks;
// each (row block, column chunk) pair is one task. A worker that takes a
// task packs the row block of A into its own buffer (unless it already
// holds that block) and runs the micro-kernel over every (A panel, B panel)
// pair of the task, one B panel at a time so that it stays in L1 while the
// worker's A block streams from its L2.
//
// Tasks are taken from an atomic counter, so a worker that gets less
// processor time (a busy or virtualised machine) takes fewer of them
// instead of holding the others up. There are two synchronisation points
// per kc slice (B packed; B no longer read), not one per row block, which
// is what limits a two-core machine when blocks are small. The packing
// buffers are be's scratch; with workers 1 everything runs on the calling
// goroutine.
func gemmBlocked(be *Backend, workers int, g gemmOperands, kern *gemmKernel) {
	mr, nr := kern.mr, kern.nr
	kcMax := min(kern.kc, g.k)
	ncMax := min(kern.nc, (g.n+nr-1)/nr*nr)
	rowBlocks, mc := gemmRowBlocks(g.m, mr, kern.mc, workers)

	bbuf := be.scratch(scratchPackB, ncMax*kcMax)
	defer be.putScratch(bbuf)
	blk, _ := be.gemmBlocks.Get().(*gemmBlock)
	if blk == nil {
		blk = new(gemmBlock)
	}
	defer be.gemmBlocks.Put(blk)
	*blk = gemmBlock{be: be, g: g, kern: kern, bp: bbuf.data, mc: mc, rowBlocks: rowBlocks}
	blk.pack.blk, blk.tasks.blk = blk, blk
	for jc := 0; jc < g.n; jc += kern.nc {
		blk.jc, blk.nc = jc, min(kern.nc, g.n-jc)
		blk.nPanels = (blk.nc + nr - 1) / nr
		// Enough column chunks that every worker has a few tasks.
		blk.chunks = min(blk.nPanels, max(1, (3*workers+rowBlocks-1)/rowBlocks))
		if workers == 1 {
			blk.chunks = 1
		}
		for pc := 0; pc < g.k; pc += kern.kc {
			blk.pc, blk.kc = pc, min(kern.kc, g.k-pc)
			blk.acc = g.acc || pc > 0
			blk.packAll(be, workers)
			blk.runTasks(be, workers)
		}
	}
	*blk = gemmBlock{}
}

// gemmRowBlocks cuts m rows into blocks of at most mcMax rows (a multiple
// of mr), rounding the block count up to a multiple of the workers so that
// the blocks share out evenly, and returns the count and the block height.
func gemmRowBlocks(m, mr, mcMax, workers int) (blocks, mc int) {
	panels := (m + mr - 1) / mr
	blocks = (m + mcMax - 1) / mcMax
	if workers > 1 {
		blocks = (blocks + workers - 1) / workers * workers
	}
	blocks = min(blocks, panels)
	mc = (panels + blocks - 1) / blocks * mr
	return (m + mc - 1) / mc, mc
}

// gemmBlock is the state of gemmBlocked's loops: the shared packed B block
// and where the current blocks lie in the product.
type gemmBlock struct {
	be        *Backend // owner of the packing buffers
	g         gemmOperands
	kern      *gemmKernel
	bp        []float32 // packed B micro-panels, nr·kc apart
	jc, nc    int       // first column and width of the B block
	nPanels   int       // B micro-panels in the block
	chunks    int       // column chunks the B panels are split into
	pc, kc    int       // first depth and depth of the blocks
	mc        int       // rows of a row block (a multiple of mr)
	rowBlocks int       // row blocks of C
	acc       bool      // add to C rather than overwrite it
	pack      gemmPackLoop
	tasks     gemmTaskLoop
}

// gemmPackLoop is the body of the parallel loop that packs the B block:
// each worker takes the next micro-panel from a shared counter.
type gemmPackLoop struct {
	blk  *gemmBlock
	next atomic.Int64
}

func (l *gemmPackLoop) run(_, _ int) {
	for {
		q := int(l.next.Add(1) - 1)
		if q >= l.blk.nPanels {
			return
		}
		l.blk.packB(q)
	}
}

// gemmTaskLoop is the body of the parallel loop over a kc slice's tasks:
// each worker packs A into a buffer of its own and takes the next task
// from a shared counter.
type gemmTaskLoop struct {
	blk         *gemmBlock
	next        atomic.Int64
	count, abuf int // tasks, and the size of a worker's buffer
}

func (l *gemmTaskLoop) run(_, _ int) {
	abuf := l.blk.be.scratch(scratchPackA, l.abuf)
	defer l.blk.be.putScratch(abuf)
	w := newGemmWorker(l.blk, abuf.data)
	for {
		t := int(l.next.Add(1) - 1)
		if t >= l.count {
			return
		}
		w.task(t)
	}
}

// packAll packs every B micro-panel of the current block, across the
// workers.
func (blk *gemmBlock) packAll(be *Backend, workers int) {
	if workers <= 1 || blk.nPanels <= 1 || be == nil {
		for q := range blk.nPanels {
			blk.packB(q)
		}
		return
	}
	blk.pack.next.Store(0)
	be.parallelRun(min(workers, blk.nPanels), 1, &blk.pack)
}

// packB packs B micro-panel q of the current block.
func (blk *gemmBlock) packB(q int) {
	nr := blk.kern.nr
	j0 := blk.jc + q*nr
	packB(&blk.g, blk.kern, blk.bp[q*nr*blk.kc:], j0, min(nr, blk.g.n-j0), blk.pc, blk.kc)
}

// runTasks computes every (row block, column chunk) task of the current kc
// slice. Each worker packs A into a buffer of its own.
func (blk *gemmBlock) runTasks(be *Backend, workers int) {
	tasks := blk.rowBlocks * blk.chunks
	// Each worker's buffer holds its A block and, after it, an edge tile.
	abufSize := blk.mc*blk.kc + blk.kern.mr*blk.kern.nr
	if workers <= 1 || tasks <= 1 || be == nil {
		abuf := be.scratch(scratchPackA, abufSize)
		defer be.putScratch(abuf)
		w := newGemmWorker(blk, abuf.data)
		for t := 0; t < tasks; t++ {
			w.task(t)
		}
		return
	}
	blk.tasks.next.Store(0)
	blk.tasks.count, blk.tasks.abuf = tasks, abufSize
	be.parallelRun(min(workers, tasks), 1, &blk.tasks)
}

// gemmWorker is one worker's view of a kc slice: its packed A block and
// which row block that is.
type gemmWorker struct {
	blk   *gemmBlock
	ap    []float32 // packed A micro-panels, mr·kc apart
	block int       // row block held in ap, -1 for none
	tile  []float32 // scratch for edge tiles
}

// newGemmWorker returns a worker whose A block and edge tile live in buf.
func newGemmWorker(blk *gemmBlock, buf []float32) gemmWorker {
	n := blk.mc * blk.kc
	return gemmWorker{blk: blk, ap: buf[:n], tile: buf[n : n+blk.kern.mr*blk.kern.nr], block: -1}
}

// task runs task t: row block t/chunks against column chunk t%chunks.
func (w *gemmWorker) task(t int) {
	blk := w.blk
	g, kern := &blk.g, blk.kern
	mr, nr, kc := kern.mr, kern.nr, blk.kc
	ib, c := t/blk.chunks, t%blk.chunks
	i0 := ib * blk.mc
	rowsBlk := min(blk.mc, g.m-i0)
	mPanels := (rowsBlk + mr - 1) / mr
	if w.block != ib {
		full := 0
		if g.transA {
			full = rowsBlk / mr
			packABlockTrans(g, mr, w.ap, i0, full, blk.pc, kc)
		}
		for p := full; p < mPanels; p++ {
			r0 := i0 + p*mr
			packA(g, kern, w.ap[p*mr*kc:], r0, min(mr, g.m-r0), blk.pc, kc)
		}
		w.block = ib
	}
	acc := 0
	if blk.acc {
		acc = 1
	}
	qlo, qhi := c*blk.nPanels/blk.chunks, (c+1)*blk.nPanels/blk.chunks
	for q := qlo; q < qhi; q++ {
		j0 := blk.jc + q*nr
		cols := min(nr, g.n-j0)
		bpan := &blk.bp[q*nr*kc]
		for p := 0; p < mPanels; p++ {
			r0 := i0 + p*mr
			rows := min(mr, g.m-r0)
			apan := &w.ap[p*mr*kc]
			if rows == mr && cols == nr {
				off, ldc := g.cAt(r0, j0)
				kern.fn(kc, apan, bpan, &g.c[off], ldc, g.alpha, acc)
				continue
			}
			w.edgeTile(kc, apan, bpan, r0, j0, rows, cols)
		}
	}
}

// edgeTile computes a tile that C cuts short whole into a scratch tile and
// copies (or adds) the part inside C.
func (w *gemmWorker) edgeTile(kc int, apan, bpan *float32, r0, j0, rows, cols int) {
	g, kern := &w.blk.g, w.blk.kern
	nr := kern.nr
	kern.fn(kc, apan, bpan, &w.tile[0], nr, g.alpha, 0)
	for r := 0; r < rows; r++ {
		off, _ := g.cAt(r0+r, j0)
		dst := g.c[off : off+cols]
		src := w.tile[r*nr : r*nr+cols]
		if w.blk.acc {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}
