package cpu

// packA copies rows [i0, i0+rows) and depths [p0, p0+kc) of op(A) into dst
// as one micro-panel of kern.mr rows, k-major (dst[k*mr+r]), zero-padding
// rows past the matrix so the micro-kernel always sees a full panel.
func packA(g *gemmOperands, kern *gemmKernel, dst []float32, i0, rows, p0, kc int) {
	mr := kern.mr
	dst = dst[:kc*mr]
	if g.aRows != nil {
		g.aRows.pack(dst, i0, p0, kc)
		return
	}
	if !g.transA && rows == mr && kern.packA != nil && kc >= packADepth {
		// Whole blocks of packADepth depths go through the vector
		// transpose, the rest below.
		groups := kc / packADepth
		last := (i0+mr-1)*g.k + p0 + groups*packADepth
		_ = g.a[last-1] // every element the vector code reads is in range
		kern.packA(&dst[0], &g.a[i0*g.k+p0], g.k, groups)
		done := groups * packADepth
		dst, p0, kc = dst[done*mr:], p0+done, kc-done
	}
	if g.transA {
		// A is stored K×M: each depth is a contiguous run of rows.
		for p := 0; p < kc; p++ {
			src := g.a[(p0+p)*g.m+i0 : (p0+p)*g.m+i0+rows]
			d := dst[p*mr : p*mr+mr]
			copy(d, src)
			clear(d[rows:])
		}
		return
	}
	for r := 0; r < rows; r++ {
		src := g.a[(i0+r)*g.k+p0 : (i0+r)*g.k+p0+kc]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
	for r := rows; r < mr; r++ {
		for p := 0; p < kc; p++ {
			dst[p*mr+r] = 0
		}
	}
}

// packB copies depths [p0, p0+kc) and columns [j0, j0+cols) of op(B) into
// dst as one micro-panel of nr columns, k-major (dst[k*nr+j]), zero-padding
// columns past the matrix.
func packB(g *gemmOperands, kern *gemmKernel, dst []float32, j0, cols, p0, kc int) {
	nr := kern.nr
	dst = dst[:kc*nr]
	if cols == nr && kc > 0 {
		if !g.transB && kern.packB != nil {
			off, ldb := g.bAt(p0, j0)
			_ = g.b[off+(kc-1)*ldb+nr-1] // every element the vector code reads is in range
			kern.packB(&dst[0], &g.b[off], ldb, kc)
			return
		}
		if g.transB && kern.packBT != nil && kc >= packADepth {
			groups := kc / packADepth
			_ = g.b[(j0+nr-1)*g.k+p0+groups*packADepth-1]
			kern.packBT(&dst[0], &g.b[j0*g.k+p0], g.k, groups)
			done := groups * packADepth
			dst, p0, kc = dst[done*nr:], p0+done, kc-done
		}
	}
	if !g.transB {
		// B is stored K×N: each depth is a contiguous run of columns.
		for p := 0; p < kc; p++ {
			off, _ := g.bAt(p0+p, j0)
			src := g.b[off : off+cols]
			d := dst[p*nr : p*nr+nr]
			copy(d, src)
			clear(d[cols:])
		}
		return
	}
	for j := 0; j < cols; j++ {
		src := g.b[(j0+j)*g.k+p0 : (j0+j)*g.k+p0+kc]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
	for j := cols; j < nr; j++ {
		for p := 0; p < kc; p++ {
			dst[p*nr+j] = 0
		}
	}
}

// packABlockTrans packs the full micro-panels of rows [i0, i0+panels·mr)
// of a transposed A (stored K×M) into dst, panel after panel (mr·kc
// apart). It walks strips of packATransDepths depths: within a strip each
// panel's part of the destination is one contiguous run, and the strip's
// stored rows (read as contiguous runs) stay in L1 while every panel takes
// its columns from them. Walking one panel at a time over all depths would
// read kc rows lda apart per panel (a TLB miss each when rows are long);
// walking one depth at a time over all panels would write to as many
// streams as panels, mr·kc apart, which alias in L1.
func packABlockTrans(g *gemmOperands, mr int, dst []float32, i0, panels, p0, kc int) {
	for ps := 0; ps < kc; ps += packATransDepths {
		pe := min(ps+packATransDepths, kc)
		for q := 0; q < panels; q++ {
			d := dst[q*mr*kc+ps*mr : q*mr*kc+pe*mr]
			if mr == 6 {
				// The AVX2 kernel's height as a fixed-size copy: a few
				// moves instead of a memmove call per depth.
				for p := ps; p < pe; p++ {
					o, t := (p0+p)*g.m+i0+q*6, (p-ps)*6
					*(*[4]float32)(d[t:]) = [4]float32(g.a[o : o+4])
					*(*[2]float32)(d[t+4:]) = [2]float32(g.a[o+4 : o+6])
				}
				continue
			}
			for p := ps; p < pe; p++ {
				src := g.a[(p0+p)*g.m+i0+q*mr : (p0+p)*g.m+i0+q*mr+mr]
				copy(d[(p-ps)*mr:(p-ps)*mr+mr], src)
			}
		}
	}
}

// packATransDepths is the depth of a strip of packABlockTrans.
const packATransDepths = 16
