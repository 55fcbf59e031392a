package viz

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar/sample"
	"sargo/sar/schedule"
)

func TestPlots(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		draw    func(path string) error
		wantErr string
	}{
		{"curves", func(p string) error {
			return Curves(p, "t", "epoch", "FID", []Series{
				{Name: "TF", X: []float64{1, 2, 3}, Y: []float64{30, 20, 15}},
				{Name: "SAR", X: []float64{1, 2, 3}, Y: []float64{28, 18, 12}},
			}, 6, 4)
		}, ""},
		{"curves without points", func(p string) error { return Curves(p, "t", "x", "y", []Series{{Name: "a"}}, 6, 4) }, "no points"},
		{"curves with ragged series", func(p string) error {
			return Curves(p, "t", "x", "y", []Series{{Name: "a", X: []float64{1}, Y: []float64{1, 2}}}, 6, 4)
		}, "1 x and 2 y"},
		{"tradeoff", func(p string) error {
			return Tradeoff(p, "t", []Bubble{{"TF", 100, 20, 1e6}, {"SAR", 100, 15, 1e6}, {"small", 300, 30, 2e5}}, 6, 4)
		}, ""},
		{"tradeoff without models", func(p string) error { return Tradeoff(p, "t", nil, 6, 4) }, "no models"},
		{"exposure", func(p string) error {
			sc := []int{1, 2, 3, 4, 5, 6, 8}
			return Exposure(p, "t", []ExposureSeries{
				{Name: "TF", Scales: sc, GapSSR: []float64{0, .1, .12, .15, .2, .22, .3}, GapChained: []float64{0, .1, .2, .3, .4, .5, .6},
					SESSR: []float64{0, .01, .01, .01, .02, .02, .02}, SEChained: []float64{0, .01, .02, .02, .03, .03, .04}},
				{Name: "SAR", Scales: sc, GapSSR: []float64{0, .05, .06, .07, .08, .09, .1}, GapChained: []float64{0, .05, .1, .15, .2, .25, .3},
					SESSR: make([]float64, 7), SEChained: make([]float64, 7)},
			}, 6, 4)
		}, ""},
		{"exposure without models", func(p string) error { return Exposure(p, "t", nil, 6, 4) }, "no models"},
		{"exposure with ragged series", func(p string) error {
			return Exposure(p, "t", []ExposureSeries{{Name: "a", Scales: []int{1, 2}, GapSSR: []float64{0}}}, 6, 4)
		}, "2 scales but 1 values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".png")
			err := tc.draw(path)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			AssertPNGFile(t, path, 400, 250, 20)
		})
	}
}

func TestImageFigures(t *testing.T) {
	m1, vq := tinyModels(t, 2)
	m2, _ := tinyModels(t, 3)
	sc := schedule.Schedule{1, 2, 3, 4}
	x := realImages(2)
	labels := []int{0, 2}
	dir := t.TempDir()

	t.Run("grid", func(t *testing.T) {
		path := filepath.Join(dir, "grid.png")
		require.NoError(t, SampleGrid(path, m1, vq, 4, sample.Options{Schedule: sc, CFG: 1.5, Seed: 1}, 2))
		// 3 rows of 4 cells of 32 px plus captions.
		AssertPNGFile(t, path, 4*32, 3*32, 10)
	})
	t.Run("process", func(t *testing.T) {
		path := filepath.Join(dir, "process.png")
		po := ProcessOptions{Schedule: sc, Keep: 2, Sampling: sample.Options{CFG: 1.5, Seed: 1}, Scale: 2}
		require.NoError(t, Process(path, []NamedModel{{"SAR", m1}, {"TF", m2}}, vq, x, labels, po))
		// Columns: real image + scales 2, 3, 4; rows: 2 images × 2 models.
		AssertPNGFile(t, path, 4*32, 4*32, 10)
		po.Keep = 4
		assert.ErrorContains(t, Process(path, []NamedModel{{"SAR", m1}}, vq, x, labels, po), "keep 4")
	})
	t.Run("sf-inputs", func(t *testing.T) {
		for _, mode := range []string{RolloutChained, RolloutSSR} {
			path := filepath.Join(dir, "sf_"+mode+".png")
			res, err := SFInputs(path, m1, vq, x, labels, sc, mode, 2)
			require.NoError(t, err)
			AssertPNGFile(t, path, 3*32, 10*32, 10)
			assert.Equal(t, []int{2, 3, 4}, res.Scales)
			require.Len(t, res.MeanSSR, 3)
			require.Len(t, res.MeanChained, 3)
			// The first column's student input is the teacher's prediction
			// in both rollouts, so both predict from the same input there.
			assert.Greater(t, res.MeanSSR[0], 0.0)
			assert.Contains(t, res.Format(), "naive SF")
		}
		_, err := SFInputs(filepath.Join(dir, "x.png"), m1, vq, x, labels, schedule.Schedule{1, 2, 4}, RolloutSSR, 2)
		assert.ErrorContains(t, err, "at least 4")
		_, err = SFInputs(filepath.Join(dir, "x.png"), m1, vq, x, labels, sc, "other", 2)
		assert.ErrorContains(t, err, "rollout")
	})
}

func TestHeat(t *testing.T) {
	m := []float64{0, 1, 2, 4}
	img := heat(m, 2, 2, 1, 4, 4, 4)
	require.Len(t, img, 16)
	assert.InDelta(t, -1, img[0], 1e-6)  // 0 → black
	assert.InDelta(t, 1, img[15], 1e-6)  // vmax → white
	assert.InDelta(t, 0, img[2*4], 1e-6) // 2 of 4 → mid grey
}
