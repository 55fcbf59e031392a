package cpu

import (
	"math"
	"slices"
	"sync"

	"sargo/tensor"
)

// RandUniform fills n elements with U[0,1): element i is
// tensor.PhiloxUniform(seed, offset+i).
func (b *Backend) RandUniform(dst tensor.Span, n int, seed, offset uint64) {
	d := span(dst, n)
	b.parallelFor(n, elemGrain/16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = tensor.PhiloxUniform(seed, offset+uint64(i))
		}
	})
}

// RandNormal fills n elements with N(0,1): element i is
// tensor.PhiloxNormal(seed, offset+i).
func (b *Backend) RandNormal(dst tensor.Span, n int, seed, offset uint64) {
	d := span(dst, n)
	b.parallelFor(n, elemGrain/16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = tensor.PhiloxNormal(seed, offset+uint64(i))
		}
	})
}

// ranked returns the indices of the k largest values of row in descending
// order, ties broken by lower index first. buf and keys (scratch of at
// least len(row)) are reused when large enough.
func ranked(row []float32, k int, buf []int, keys []uint64) []int {
	n := len(row)
	k = min(k, n)
	before := func(i, j int) bool { return row[i] > row[j] || (row[i] == row[j] && i < j) }
	if k*16 <= n {
		top := buf[:0]
		for i := range n {
			if len(top) == k && !before(i, top[k-1]) {
				continue
			}
			p := len(top)
			for p > 0 && before(i, top[p-1]) {
				p--
			}
			if len(top) < k {
				top = append(top, 0)
			}
			copy(top[p+1:], top[p:len(top)-1])
			top[p] = i
		}
		return top
	}
	if len(keys) < n {
		keys = make([]uint64, n)
	}
	keys = keys[:n]
	for i, v := range row {
		if v != v {
			return rankedSort(row, k, buf)
		}
		keys[i] = rankKey(v, i)
	}
	selectSmallest(keys, k)
	slices.Sort(keys[:k])
	top := buf[:0]
	for _, c := range keys[:k] {
		top = append(top, int(uint32(c)))
	}
	return top
}

// rankKey maps (v, i) to a key whose ascending order is v descending, then
// i ascending: the complement of v's order-preserving bits in the high
// word and i in the low word. Both zeros map alike, as they compare equal.
func rankKey(v float32, i int) uint64 {
	bits := math.Float32bits(v)
	if v == 0 {
		bits = 0
	}
	if bits&0x80000000 != 0 {
		bits = ^bits
	} else {
		bits |= 0x80000000
	}
	return uint64(^bits)<<32 | uint64(uint32(i))
}

// selectSmallest reorders keys so that its first k elements are its k
// smallest, in no particular order.
func selectSmallest(keys []uint64, k int) {
	lo, hi := 0, len(keys)
	for budget := 64; hi-lo > 16; budget-- {
		if budget == 0 {
			slices.Sort(keys[lo:hi])
			return
		}
		m := lo + (hi-lo)/2
		a, b, c := keys[lo], keys[m], keys[hi-1]
		pivot := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi-1
		for i <= j {
			for keys[i] < pivot {
				i++
			}
			for keys[j] > pivot {
				j--
			}
			if i <= j {
				keys[i], keys[j] = keys[j], keys[i]
				i++
				j--
			}
		}
		// [lo, j] <= pivot, (j, i) == pivot, [i, hi) >= pivot.
		switch {
		case k <= j:
			hi = j + 1
		case k >= i:
			lo = i
		default:
			return
		}
	}
	slices.Sort(keys[lo:hi])
}

// rankedSort is ranked by a full sort, for rows holding NaN.
func rankedSort(row []float32, k int, buf []int) []int {
	before := func(i, j int) bool { return row[i] > row[j] || (row[i] == row[j] && i < j) }
	all := buf[:0]
	for i := range row {
		all = append(all, i)
	}
	slices.SortFunc(all, func(i, j int) int {
		switch {
		case before(i, j):
			return -1
		case before(j, i):
			return 1
		}
		return 0
	})
	return all[:k]
}

// TopK writes the k largest values of each row of [rows, n] in descending
// order and their indices (ties: lower index first).
func (b *Backend) TopK(vals, idx, src tensor.Span, rows, n, k int) {
	vs, is, s := span(vals, rows*k), span(idx, rows*k), span(src, rows*n)
	b.parallelFor(rows, rowGrain(n), func(lo, hi int) {
		buf := make([]int, 0, n)
		keys := make([]uint64, n)
		for r := lo; r < hi; r++ {
			row := s[r*n : (r+1)*n]
			for j, i := range ranked(row, k, buf, keys) {
				vs[r*k+j], is[r*k+j] = row[i], float32(i)
			}
		}
	})
}

// Sample draws one index per row of logits [Rows, N]. The algorithm, which
// every backend reproduces, is for each row r:
//
//  1. t = Temperature, or 1 when Temperature is 0.
//  2. Order the candidates by logit, descending, ties lower index first.
//  3. Keep the first TopK of them (all when TopK is 0 or at least N).
//  4. Weigh each kept candidate i by p_i = exp((logit_i − logit_max)/t)
//     and let P be the sum of the kept weights.
//  5. When 0 < TopP < 1, keep the smallest prefix whose cumulative weight
//     reaches TopP·P (at least one candidate), and let P be its sum.
//  6. u = tensor.PhiloxUniform(Seed, Offset+r). Walk the kept candidates
//     in order accumulating weights into c and pick the first with
//     c > u·P (the last kept one if rounding leaves none).
//  7. Write the picked index as float32.
//
// Weights and sums are float64 here; float32 elsewhere changes the pick
// only when u·P lies within rounding of a cumulative boundary.
func (b *Backend) Sample(a tensor.SampleArgs, dst, logits tensor.Span) {
	n := a.N
	d, s := span(dst, a.Rows), span(logits, a.Rows*n)
	t := float64(a.Temperature)
	if t == 0 {
		t = 1
	}
	k := a.TopK
	if k <= 0 || k > n {
		k = n
	}
	l := sampleLoop{a: a, scratch: &b.sampleScratch, n: n, k: k, t: t, d: d, s: s}
	if b.chunks(a.Rows, rowGrain(n)) <= 1 {
		l.run(0, a.Rows)
	} else {
		launch(b, &b.frames.sample, a.Rows, rowGrain(n), &l)
	}
}

// sampleLoop is the parallel loop body of Sample.
type sampleLoop struct {
	a       tensor.SampleArgs
	scratch *sync.Pool
	n       int
	k       int
	t       float64
	d       []float32
	s       []float32
}

func (l *sampleLoop) run(lo, hi int) {
	a, scratch, n, k, t, d, s := l.a, l.scratch, l.n, l.k, l.t, l.d, l.s
	sb, _ := scratch.Get().(*sampleBufs)
	if sb == nil {
		sb = new(sampleBufs)
	}
	defer scratch.Put(sb)
	sb.grow(n, k)
	buf, keys, w := sb.idx[:0], sb.keys[:n], sb.w[:0]
	for r := lo; r < hi; r++ {
		row := s[r*n : (r+1)*n]
		cand := ranked(row, k, buf, keys)
		top := float64(row[cand[0]])
		w = w[:0]
		var total float64
		for _, i := range cand {
			p := math.Exp((float64(row[i]) - top) / t)
			w = append(w, p)
			total += p
		}
		keep := len(cand)
		if p := float64(a.TopP); p > 0 && p < 1 {
			var c float64
			for j, wj := range w {
				c += wj
				if c >= p*total {
					keep = j + 1
					break
				}
			}
			total = 0
			for _, wj := range w[:keep] {
				total += wj
			}
		}
		u := float64(tensor.PhiloxUniform(a.Seed, a.Offset+uint64(r))) * total
		pick := cand[keep-1]
		var c float64
		for j, wj := range w[:keep] {
			c += wj
			if c > u {
				pick = cand[j]
				break
			}
		}
		d[r] = float32(pick)
	}
}

// sampleBufs are the scratch lists of one worker's Sample rows, recycled
// through the backend's sampleScratch.
type sampleBufs struct {
	idx  []int
	keys []uint64
	w    []float64
}

// grow makes room for rows of n logits keeping k candidates.
func (sb *sampleBufs) grow(n, k int) {
	if cap(sb.idx) < n {
		sb.idx = make([]int, 0, n)
	}
	if len(sb.keys) < n {
		sb.keys = make([]uint64, n)
	}
	if cap(sb.w) < k {
		sb.w = make([]float64, 0, k)
	}
}
