package reproduce

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{2, 4, 9})
	assert.InDelta(t, 5, s.Mean, 1e-12)
	assert.InDelta(t, math.Sqrt(13), s.SD, 1e-12)
	assert.Equal(t, 3, s.N)
	assert.Zero(t, Summarize([]float64{7}).SD)
	assert.True(t, math.IsNaN(Summarize(nil).Mean))
}

func TestWelchTest(t *testing.T) {
	// t and df from Welch's formulas; p by numerical integration of the
	// Student t density (Simpson, 200,000 intervals).
	tests := []struct {
		a, b     []float64
		t, df, p float64
	}{
		{[]float64{1, 2, 3.5}, []float64{2.5, 3.9, 4.1, 5.0}, -1.91588785046729, 3.8759999440539032, 0.13015036967768703},
		{[]float64{10.1, 10.4, 9.8}, []float64{11.2, 11.0, 11.5}, -5.01302650926651, 3.882568807339451, 0.008022700461783222},
	}
	for _, tc := range tests {
		w, err := WelchTest(tc.a, tc.b)
		require.NoError(t, err)
		assert.InDelta(t, tc.t, w.T, 1e-9)
		assert.InDelta(t, tc.df, w.DF, 1e-9)
		assert.InDelta(t, tc.p, w.P, 1e-6)
		back, err := WelchTest(tc.b, tc.a)
		require.NoError(t, err)
		assert.InDelta(t, -w.T, back.T, 1e-12)
		assert.InDelta(t, w.P, back.P, 1e-12)
	}
	w, err := WelchTest([]float64{1, 1}, []float64{1, 1, 1})
	require.NoError(t, err)
	assert.Equal(t, 1.0, w.P)
	w, err = WelchTest([]float64{1, 1}, []float64{2, 2})
	require.NoError(t, err)
	assert.Zero(t, w.P)
	_, err = WelchTest([]float64{1}, []float64{1, 2})
	assert.ErrorContains(t, err, "at least 2")
}
