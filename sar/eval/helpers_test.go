package eval

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/sar/data"
	"sargo/tensor"
)

// cpu opens the CPU backend.
func cpu(t testing.TB) tensor.Backend {
	t.Helper()
	b, err := tensor.Open("cpu")
	require.NoError(t, err)
	return b
}

// gaussianSamples draws n vectors with independent coordinates
// N(mean[j], std[j]²).
func gaussianSamples(n int, mean, std []float64, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	d := len(mean)
	x := make([]float32, n*d)
	for i := range n {
		for j := range d {
			x[i*d+j] = float32(mean[j] + std[j]*r.NormFloat64())
		}
	}
	return x
}

// toyDataset is n 8×8 grey images of two classes: class 0 bright on the
// left half, class 1 bright on the right half, with noise.
func toyDataset(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 2))
	d := &data.Dataset{Name: "toy", Classes: []string{"left", "right"}, C: 1, H: 8, W: 8}
	for i := range n {
		l := i % 2
		for range 8 {
			for x := range 8 {
				v := -0.8
				if (x < 4) == (l == 0) {
					v = 0.8
				}
				d.Images = append(d.Images, float32(v+0.2*r.NormFloat64()))
			}
		}
		d.Labels = append(d.Labels, l)
	}
	return d
}
