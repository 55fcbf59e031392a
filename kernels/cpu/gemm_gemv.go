package cpu

// gemvGrain is the least work, in multiply-adds, worth a goroutine of its
// own in a matrix-vector product.
const gemvGrain = 64 << 10

// gemv computes a product whose C is a single row (m = 1) or a single column
// (n = 1), where packing would copy the whole matrix to use one row or
// column of each tile. The vector operand is then contiguous whatever its
// transpose flag, and the matrix is read once, row by row. A nil backend
// runs on the calling goroutine.
func gemv(be *Backend, g gemmOperands) {
	l := gemvLoop{g: g}
	n, grain := g.n, max(16, gemvGrain/max(g.k, 1))
	switch {
	case g.m == 1 && !g.transB: // c = a·B, B stored K×N
		l.kind = gemvRowAxpy
	case g.m == 1: // c = a·Bᵀ, B stored N×K
		l.kind, grain = gemvRowDot, max(1, gemvGrain/max(g.k, 1))
	case !g.transA: // c = A·b, A stored M×K
		l.kind, n, grain = gemvColDot, g.m, max(1, gemvGrain/max(g.k, 1))
	default: // c = Aᵀ·b, A stored K×M
		l.kind, n = gemvColAxpy, g.m
	}
	if be == nil || be.chunks(n, grain) <= 1 {
		l.run(0, n)
		return
	}
	launch(be, &be.frames.gemv, n, grain, &l)
}

// The four shapes of a matrix-vector product (see gemv).
const (
	gemvRowAxpy = iota // c = a·B, B stored K×N
	gemvRowDot         // c = a·Bᵀ, B stored N×K
	gemvColDot         // c = A·b, A stored M×K
	gemvColAxpy        // c = Aᵀ·b, A stored K×M
)

// gemvLoop is gemv's parallel loop body over the elements of c.
type gemvLoop struct {
	g    gemmOperands
	kind int
}

func (l *gemvLoop) run(lo, hi int) {
	g := &l.g
	switch l.kind {
	case gemvRowAxpy:
		axpyRows(g.c[lo:hi], g.b[lo:], g.n, g.a, g.alpha, g.acc)
	case gemvRowDot:
		dotRows(g.c[lo:hi], g.b[lo*g.k:], g.k, g.a, g.alpha, g.acc)
	case gemvColDot:
		dotRows(g.c[lo:hi], g.a[lo*g.k:], g.k, g.b, g.alpha, g.acc)
	default:
		axpyRows(g.c[lo:hi], g.a[lo:], g.m, g.b, g.alpha, g.acc)
	}
}

// dotRows sets c[r] = alpha·(row r of mat)·v (+ c[r] when acc), for rows
// of len(v) elements stored back to back from mat[0].
func dotRows(c, mat []float32, k int, v []float32, alpha float32, acc bool) {
	v = v[:k]
	for r := range c {
		row := mat[r*k : r*k+k]
		row = row[:len(v)]
		var s0, s1, s2, s3 float32
		p := 0
		for ; p+4 <= len(v); p += 4 {
			s0 += row[p] * v[p]
			s1 += row[p+1] * v[p+1]
			s2 += row[p+2] * v[p+2]
			s3 += row[p+3] * v[p+3]
		}
		for ; p < len(v); p++ {
			s0 += row[p] * v[p]
		}
		s := alpha * ((s0 + s1) + (s2 + s3))
		if acc {
			c[r] += s
		} else {
			c[r] = s
		}
	}
}

// axpyRows sets c = alpha·Σ_p v[p]·mat[p*ld : p*ld+len(c)] (+ c when acc):
// the first len(c) columns of the len(v) rows of a matrix with leading
// dimension ld.
func axpyRows(c, mat []float32, ld int, v []float32, alpha float32, acc bool) {
	if !acc {
		clear(c)
	}
	n := len(c)
	for p, x := range v {
		s := alpha * x
		row := mat[p*ld : p*ld+n]
		row = row[:len(c)]
		j := 0
		for ; j+4 <= len(c); j += 4 {
			c[j] += s * row[j]
			c[j+1] += s * row[j+1]
			c[j+2] += s * row[j+2]
			c[j+3] += s * row[j+3]
		}
		for ; j < len(c); j++ {
			c[j] += s * row[j]
		}
	}
}
