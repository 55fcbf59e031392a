package cpu

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestRandStreams(t *testing.T) {
	be := kernBackend()
	const n, seed, off = 20011, 42, 1000
	u, z := make([]float32, n), make([]float32, n)
	be.RandUniform(kernSpan(u), n, seed, off)
	be.RandNormal(kernSpan(z), n, seed, off)
	var mean, sq float64
	for i := range n {
		require.Equal(t, tensor.PhiloxUniform(seed, off+uint64(i)), u[i])
		require.Equal(t, tensor.PhiloxNormal(seed, off+uint64(i)), z[i])
		require.True(t, u[i] >= 0 && u[i] < 1)
		mean += float64(z[i])
		sq += float64(z[i]) * float64(z[i])
	}
	mean /= n
	require.InDelta(t, 0, mean, 0.05)
	require.InDelta(t, 1, sq/n-mean*mean, 0.05)
}

// kernOrder returns the indices of row sorted descending, ties lower index
// first.
func kernOrder(row []float32) []int {
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	return idx
}

func TestTopK(t *testing.T) {
	be := kernBackend()
	for _, tc := range []struct{ rows, n, k int }{{1, 1, 1}, {3, 7, 3}, {5, 13, 13}, {2, 300, 5}, {2, 31, 30}} {
		rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.k)))
		src := kernRand(rng, tc.rows*tc.n, -1, 1)
		for i := range src {
			src[i] = float32(math.Round(float64(src[i])*4) / 4) // many ties
		}
		vals, idx := make([]float32, tc.rows*tc.k), make([]float32, tc.rows*tc.k)
		be.TopK(kernSpan(vals), kernSpan(idx), kernSpan(src), tc.rows, tc.n, tc.k)
		for r := range tc.rows {
			row := src[r*tc.n : (r+1)*tc.n]
			for j, i := range kernOrder(row)[:tc.k] {
				require.Equal(t, float32(i), idx[r*tc.k+j], "row %d rank %d", r, j)
				require.Equal(t, row[i], vals[r*tc.k+j])
			}
		}
	}
}

// kernSampleRef is a direct transcription of the documented Sample
// algorithm in float64.
func kernSampleRef(a tensor.SampleArgs, row []float32, r int) int {
	t := float64(a.Temperature)
	if t == 0 {
		t = 1
	}
	cand := kernOrder(row)
	if a.TopK > 0 && a.TopK < len(cand) {
		cand = cand[:a.TopK]
	}
	p := make([]float64, len(cand))
	var total float64
	for j, i := range cand {
		p[j] = math.Exp((float64(row[i]) - float64(row[cand[0]])) / t)
		total += p[j]
	}
	if a.TopP > 0 && a.TopP < 1 {
		var c float64
		for j := range p {
			c += p[j] / total
			if c >= float64(a.TopP) {
				cand, p = cand[:j+1], p[:j+1]
				break
			}
		}
		total = 0
		for _, v := range p {
			total += v
		}
	}
	u := float64(tensor.PhiloxUniform(a.Seed, a.Offset+uint64(r)))
	var c float64
	for j, v := range p {
		c += v / total
		if c > u {
			return cand[j]
		}
	}
	return cand[len(cand)-1]
}

func TestSample(t *testing.T) {
	be := kernBackend()
	const rows, n = 64, 13
	rng := rand.New(rand.NewPCG(5, 5))
	logits := kernRand(rng, rows*n, -3, 3)
	tests := []tensor.SampleArgs{
		{TopK: 0, TopP: 0, Temperature: 0},
		{TopK: 3, TopP: 0, Temperature: 1},
		{TopK: 0, TopP: 0.7, Temperature: 0.8},
		{TopK: 5, TopP: 0.9, Temperature: 2},
		{TopK: 1, TopP: 0, Temperature: 1},
		{TopK: 0, TopP: 1e-6, Temperature: 1},
		{TopK: 100, TopP: 1, Temperature: 0.5},
	}
	for ti, a := range tests {
		a.Rows, a.N, a.Seed, a.Offset = rows, n, uint64(ti+1), 77
		dst := make([]float32, rows)
		be.Sample(a, kernSpan(dst), kernSpan(logits))
		for r := range rows {
			row := logits[r*n : (r+1)*n]
			want := kernSampleRef(a, row, r)
			require.Equal(t, float32(want), dst[r], "case %d row %d", ti, r)
			if a.TopK == 1 || a.TopP == 1e-6 {
				require.Equal(t, float32(kernOrder(row)[0]), dst[r], "greedy case %d row %d", ti, r)
			}
		}
	}
}

// TestRankedMatchesSort checks the selection path of ranked against a full
// sort on rows with ties, signed zeros, infinities and NaN.
func TestRankedMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 400 {
		n := 1 + rng.IntN(3000)
		row := make([]float32, n)
		levels := 1 + rng.IntN(n)
		for i := range row {
			switch rng.IntN(40) {
			case 0:
				row[i] = 0
			case 1:
				row[i] = float32(math.Copysign(0, -1))
			case 2:
				row[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
			default:
				row[i] = float32(rng.IntN(levels)) - float32(levels)/2
			}
		}
		if trial%50 == 0 {
			row[rng.IntN(n)] = float32(math.NaN())
		}
		for _, k := range []int{1, 2, n / 16, n / 15, n / 3, n - 1, n} {
			if k < 1 {
				continue
			}
			want := append([]int(nil), rankedSort(row, k, make([]int, 0, n))...)
			got := ranked(row, k, make([]int, 0, n), nil)
			require.Equal(t, want, got, "trial %d n %d k %d", trial, n, k)
		}
	}
}
