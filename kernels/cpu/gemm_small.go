package cpu

// gemmOperands is one product C = alpha·op(A)·op(B) (+ C when acc) of a
// batch, with each slice holding exactly its matrix.
type gemmOperands struct {
	m, n, k        int
	transA, transB bool
	a, b, c        []float32
	alpha          float32
	acc            bool
	// bImg and cImg, when positive, say that op(B) (stored K×N, not
	// transposed) or C is a batch of images laid side by side: column j
	// is column j%img of image j/img, and the matrix is stored image after
	// image as [N/img][K][img] or [N/img][M][img] (a convolution's inputs
	// and outputs in NCHW). They are multiples of the kernel's nr, so no
	// micro-panel straddles two images. Only gemmBlocked reads them.
	bImg, cImg int
	// aRows, when set, says that A is not stored in a but read by tap
	// from padded images (convRows, the implicit weight gradient); packA
	// takes its panels from there. Only gemmBlocked reads it.
	aRows *convRows
}

// cAt returns the offset in c of element (i, j) of C and the distance
// between its rows.
func (g *gemmOperands) cAt(i, j int) (off, ldc int) {
	if g.cImg > 0 {
		return (j/g.cImg)*g.m*g.cImg + i*g.cImg + j%g.cImg, g.cImg
	}
	return i*g.n + j, g.n
}

// bAt returns the offset in b of element (p, j) of a non-transposed B and
// the distance between its rows.
func (g *gemmOperands) bAt(p, j int) (off, ldb int) {
	if g.bImg > 0 {
		return (j/g.bImg)*g.k*g.bImg + p*g.bImg + j%g.bImg, g.bImg
	}
	return p*g.n + j, g.n
}

// strides returns the element steps of op(A) along i and k and of op(B)
// along k and j.
func (g *gemmOperands) strides() (ai, ak, bk, bj int) {
	ai, ak = g.k, 1
	if g.transA {
		ai, ak = 1, g.m
	}
	bk, bj = g.n, 1
	if g.transB {
		bk, bj = 1, g.k
	}
	return
}

// gemmSmall computes a small product directly, without packing. It never
// reads C unless g.acc. With B stored K×N each row of C is built from
// contiguous rows of B; with B stored N×K each element is a dot product of
// contiguous rows.
func gemmSmall(g gemmOperands) {
	ai, ak, _, _ := g.strides()
	n, k := g.n, g.k
	for i := 0; i < g.m; i++ {
		crow := g.c[i*n : (i+1)*n]
		if !g.transB {
			if !g.acc {
				clear(crow)
			}
			for p := 0; p < k; p++ {
				s := g.alpha * g.a[i*ai+p*ak]
				brow := g.b[p*n : (p+1)*n]
				brow = brow[:len(crow)]
				for j, v := range brow {
					crow[j] += s * v
				}
			}
			continue
		}
		for j := range crow {
			brow := g.b[j*k : (j+1)*k]
			var s float32
			if ak == 1 {
				arow := g.a[i*k : (i+1)*k]
				arow = arow[:len(brow)]
				for p, v := range brow {
					s += arow[p] * v
				}
			} else {
				for p, v := range brow {
					s += g.a[i+p*ak] * v
				}
			}
			if g.acc {
				crow[j] += g.alpha * s
			} else {
				crow[j] = g.alpha * s
			}
		}
	}
}
