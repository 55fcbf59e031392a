package eval

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrecisionRecall(t *testing.T) {
	const d = 3
	base := gaussianSamples(300, []float64{0, 0, 0}, []float64{1, 1, 1}, 7)
	far := gaussianSamples(300, []float64{50, 50, 50}, []float64{1, 1, 1}, 8)
	// Half the fake set on the real manifold, half far away.
	half := append(append([]float32{}, base[:150*d]...), far[:150*d]...)
	// A collapsed fake set: every vector at the real mean.
	collapsed := make([]float32, 300*d)
	tests := []struct {
		name          string
		fake          []float32
		wantP, wantR  float64
		deltaP, delta float64
	}{
		{"identical sets", base, 1, 1, 0, 0},
		{"disjoint sets", far, 0, 0, 0, 0},
		{"half on the manifold", half, 0.5, 0, 0, 0.6},
		{"mode collapse", collapsed, 1, 0, 0, 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, r, err := PrecisionRecall(base, 300, tc.fake, len(tc.fake)/d, d, 3)
			require.NoError(t, err)
			assert.InDelta(t, tc.wantP, p, tc.deltaP+1e-12, "precision")
			if tc.name == "half on the manifold" {
				assert.Greater(t, r, 0.3, "recall")
				return
			}
			assert.InDelta(t, tc.wantR, r, tc.delta+1e-12, "recall")
		})
	}
}

func TestPrecisionRecallErrors(t *testing.T) {
	tests := []struct {
		name string
		k    int
		n    int
		want string
	}{
		{"k zero", 0, 5, "k 0"},
		{"too few vectors", 3, 3, "more than k"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float32, tc.n*2)
			_, _, err := PrecisionRecall(x, tc.n, x, tc.n, 2, tc.k)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
