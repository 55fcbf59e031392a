package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInceptionScore(t *testing.T) {
	tests := []struct {
		name    string
		probs   []float32
		n, c    int
		want    float64
		wantErr string
	}{
		{"confident and balanced", []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3, 3, ""},
		{"all the same class", []float32{1, 0, 1, 0, 1, 0}, 3, 2, 1, ""},
		{"uniform predictions", []float32{0.5, 0.5, 0.5, 0.5}, 2, 2, 1, ""},
		// Two images, p = (0.9, 0.1) and (0.1, 0.9): marginal (0.5, 0.5).
		{"soft", []float32{0.9, 0.1, 0.1, 0.9}, 2, 2, math.Exp(0.9*math.Log(1.8) + 0.1*math.Log(0.2)), ""},
		{"bad size", []float32{1, 0, 0}, 2, 2, 0, "3 probabilities"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InceptionScore(tc.probs, tc.n, tc.c)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-6)
		})
	}
}

func TestAccuracy(t *testing.T) {
	tests := []struct {
		name   string
		probs  []float32
		labels []int
		want   float64
	}{
		{"all right", []float32{0.9, 0.1, 0.2, 0.8}, []int{0, 1}, 1},
		{"half right", []float32{0.9, 0.1, 0.6, 0.4}, []int{0, 1}, 0.5},
		{"all wrong", []float32{0.1, 0.9}, []int{0}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Accuracy(tc.probs, tc.labels, 2)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-12)
		})
	}
}
