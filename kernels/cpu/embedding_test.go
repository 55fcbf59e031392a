package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestGatherScatterAdd(t *testing.T) {
	be := kernBackend()
	for _, tc := range []struct{ v, n, dim int }{{1, 1, 1}, {7, 13, 5}, {5, 31, 131}, {3, 400, 64}} {
		rng := rand.New(rand.NewPCG(uint64(tc.v), uint64(tc.dim)))
		table := kernRand(rng, tc.v*tc.dim, -1, 1)
		ids := make([]float32, tc.n)
		for i := range ids {
			ids[i] = float32(rng.IntN(tc.v))
		}
		want := make([]float64, tc.n*tc.dim)
		for i, id := range ids {
			copy(want[i*tc.dim:], kernF64(table[int(id)*tc.dim:(int(id)+1)*tc.dim]))
		}
		dst := make([]float32, tc.n*tc.dim)
		be.Gather(kernSpan(dst), kernSpan(table), kernSpan(ids), tc.n, tc.v, tc.dim)
		kernClose(t, want, dst, 0, 0, "gather")

		src := kernRand(rng, tc.n*tc.dim, -1, 1)
		acc := kernRand(rng, tc.v*tc.dim, -1, 1)
		wantAcc := kernF64(acc)
		for i, id := range ids {
			for j := range tc.dim {
				wantAcc[int(id)*tc.dim+j] += float64(src[i*tc.dim+j])
			}
		}
		be.ScatterAdd(kernSpan(acc), kernSpan(src), kernSpan(ids), tc.n, tc.v, tc.dim)
		kernClose(t, wantAcc, acc, 1e-5, 1e-5, "scatter add")
	}
}

func TestScatterAddDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dim = 300, 70
	src := kernRand(rng, n*dim, -1, 1)
	ids := make([]float32, n)
	for i := range ids {
		ids[i] = float32(rng.IntN(3))
	}
	var first []float32
	for workers := 1; workers <= 4; workers++ {
		dst := make([]float32, 3*dim)
		(&Backend{workers: workers}).ScatterAdd(kernSpan(dst), kernSpan(src), kernSpan(ids), n, 3, dim)
		if first == nil {
			first = dst
			continue
		}
		kernClose(t, kernF64(first), dst, 0, 0, "worker count changes the result")
	}
}

// TestIDsCheckedBeforeReading gives Gather, ScatterAdd and CrossEntropy
// ids outside their table: each becomes the sticky error, names the op,
// the id, its position and the row count, and leaves the outputs alone.
func TestIDsCheckedBeforeReading(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		run  func(b *Backend, ids []float32) []float32
		ids  []float32
		want string
	}{
		{"gather past the rows", func(b *Backend, ids []float32) []float32 {
			dst := []float32{7, 7}
			b.Gather(kernSpan(dst), kernSpan([]float32{1, 2, 3, 4, 5, 6, 7, 8}), kernSpan(ids), 1, 2, 2)
			return dst
		}, []float32{2}, "Gather: id 2 at position 0 is outside the table of 2 rows"},
		{"gather negative", func(b *Backend, ids []float32) []float32 {
			dst := []float32{7, 7, 7, 7}
			b.Gather(kernSpan(dst), kernSpan([]float32{1, 2, 3, 4}), kernSpan(ids), 2, 2, 2)
			return dst
		}, []float32{0, -1}, "Gather: id -1 at position 1"},
		{"scatter NaN", func(b *Backend, ids []float32) []float32 {
			dst := []float32{7, 7}
			b.ScatterAdd(kernSpan(dst), kernSpan([]float32{1, 1}), kernSpan(ids), 2, 2, 1)
			return dst
		}, []float32{1, nan}, "ScatterAdd: id NaN at position 1 is outside the table of 2 rows"},
		{"scatter fraction", func(b *Backend, ids []float32) []float32 {
			dst := []float32{7, 7}
			b.ScatterAdd(kernSpan(dst), kernSpan([]float32{1}), kernSpan(ids), 1, 2, 1)
			return dst
		}, []float32{0.5}, "ScatterAdd: id 0.5 at position 0"},
		{"cross-entropy target", func(b *Backend, ids []float32) []float32 {
			loss := []float32{7}
			b.CrossEntropy(kernSpan(loss), kernSpan([]float32{7}), kernSpan([]float32{1, 2, 3}), kernSpan(ids), 1, 3, -100, 0)
			return loss
		}, []float32{3}, "CrossEntropy: id 3 at position 0 is outside the table of 3 rows: want an integer in [0, 3) or the ignore index -100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			out := tc.run(b, tc.ids)
			for _, v := range out {
				require.Equal(t, float32(7), v, "output written despite a bad id")
			}
			err := b.Sync()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var idErr *tensor.IDError
			require.ErrorAs(t, err, &idErr)
			require.ErrorIs(t, b.Read(&Buffer{Data: []float32{1}}, 0, make([]float32, 1)), err, "Read returns the sticky error")
		})
	}
}
