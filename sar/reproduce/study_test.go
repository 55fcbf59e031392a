package reproduce

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/sar/train"
	"sargo/sar/viz"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

func TestStudies(t *testing.T) {
	for _, name := range StudyNames() {
		st, err := GetStudy(name)
		require.NoError(t, err)
		require.NoError(t, st.Validate())
		assert.Len(t, st.Seeds, 3)
		assert.Equal(t, 10000, st.EvalN)
		assert.Equal(t, 100, st.GridPerClass)
		assert.InDelta(t, 0.06, st.PostFrac, 1e-12)
		assert.Equal(t, []float32{0.003, 0.01, 0.03, 0.1}, st.Sigmas)
		assert.Equal(t, []string{"last", "last:2", "all"}, st.Rollouts)
	}
	_, err := GetStudy("large")
	assert.ErrorContains(t, err, "unknown")
}

func TestStudyValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Study)
		want string
	}{
		{"one seed", func(s *Study) { s.Seeds = s.Seeds[:1] }, "at least 2"},
		{"repeated seed", func(s *Study) { s.Seeds = []uint64{1, 1} }, "repeated"},
		{"post fraction", func(s *Study) { s.PostFrac = 0 }, "post_frac"},
		{"rollout", func(s *Study) { s.Rollouts = []string{"first"} }, "first"},
		{"plateau", func(s *Study) { s.PlateauDelta = 1 }, "plateau_delta"},
		{"schedule past the cap", func(s *Study) { s.ScheduleSteps = s.BaseSteps + 1 }, "schedule_steps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := GetStudy("medium")
			require.NoError(t, err)
			tc.edit(&st)
			assert.ErrorContains(t, st.Validate(), tc.want)
		})
	}
}

func TestStudyRuns(t *testing.T) {
	st, err := GetStudy("medium")
	require.NoError(t, err)
	var names []string
	for _, r := range st.runs() {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"tf_s1", "tf_s2", "tf_s3", "sar_s1", "sar_s2", "sar_s3", "sf_s1", "sf_s2", "sf_s3",
		"sar_sigma0.003_s1", "sar_sigma0.03_s1", "sar_sigma0.1_s1", "sar_rollout_last2_s1", "sar_rollout_all_s1"}, names)
	sigmas, rollouts := st.sweep()
	var sw []string
	for _, r := range append(sigmas, rollouts...) {
		sw = append(sw, r.Name)
	}
	assert.Equal(t, []string{"sar_sigma0.003_s1", "sar_s1", "sar_sigma0.03_s1", "sar_sigma0.1_s1", "sar_s1", "sar_rollout_last2_s1", "sar_rollout_all_s1"}, sw)
	assert.Equal(t, 120, st.postSteps(2000))
	assert.Equal(t, 1, st.postSteps(3))
}

// TestStudyLearningRates checks the medium study's learning-rate path: the
// base run decays to the floor at the schedule's end and stays there, and
// post-training takes the schedule's tail stretched to end with it,
// whether the base run stopped at the schedule's end or trained on.
func TestStudyLearningRates(t *testing.T) {
	st, err := GetStudy("medium")
	require.NoError(t, err)
	ss := &studyState{st: st}
	bc := ss.baseConfig()
	sched, from := bc.Rates(bc.Steps)
	require.Zero(t, from)
	h := st.ScheduleSteps
	floor := bc.LRFloor * bc.LR
	assert.Greater(t, sched.LR(h-2), floor)
	for _, step := range []int{h - 1, h, h + 1, st.BaseSteps - 1} {
		assert.InDelta(t, floor, sched.LR(step), 1e-12, "step %d", step)
	}
	for _, baseSteps := range []int{h, h + 2200} {
		t.Run(strconv.Itoa(baseSteps), func(t *testing.T) {
			pc := ss.postConfig(postRun{Name: "sar_s1", Method: train.MethodSAR, Seed: 1, Sigma: 0.01, Rollout: "last"}, baseResult{Steps: baseSteps})
			require.NoError(t, pc.Validate())
			assert.Equal(t, st.postSteps(baseSteps), pc.Steps)
			ps, pf := pc.Rates(pc.Steps)
			assert.Equal(t, h, pf, "post-training starts at the schedule's end")
			assert.Greater(t, ps.LR(pf), floor, "the stretched tail starts above the floor")
			assert.Less(t, ps.LR(pf), 2*floor, "near it (the authors' d16: 4.7e-5 over a floor of 3e-5)")
			assert.InDelta(t, floor, ps.LR(pf+pc.Steps-1), 1e-12, "and ends at it")
		})
	}
}

func TestPlateau(t *testing.T) {
	st := Study{PlateauWindow: 2, PlateauDelta: 0.01}
	assert.False(t, st.plateaued([]float64{3, 2}), "too few measurements")
	assert.False(t, st.plateaued([]float64{3, 2, 1.5, 1.4}), "still improving")
	assert.True(t, st.plateaued([]float64{3, 2, 1.995, 1.999}), "less than 1% better over the last two")
	assert.True(t, st.plateaued([]float64{3, 2, 2.1, 2.2}), "worse")
}

// cancelAt is a log that cancels a context when a line contains a marker.
type cancelAt struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if c.marker != "" && strings.Contains(c.buf.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}

// tinyStudy runs in seconds: the tiny protocol's sizes, a base run of 6
// steps, post-training runs of 2 steps with two seeds and a two-run
// sweep, and a few samples per evaluation.
func tinyStudy(t *testing.T) Study {
	p, err := Get("tiny")
	require.NoError(t, err)
	p.Preset.TokenizerTrain.Steps = 5
	return Study{Name: "tiny-study", Preset: p.Preset, TrainImages: 32, ScheduleSteps: 3, BaseSteps: 6, ValEvery: 3, ValImages: 16,
		PlateauWindow: 4, PlateauDelta: 0.005, PostFrac: 0.34, Seeds: []uint64{1, 2},
		Sigmas: []float32{0.01, 0.1}, Rollouts: []string{"last", "all"},
		EvalN: 20, EvalBatch: 20, GridPerClass: 2, ExposureImages: 8, ClassifierSteps: 5, TokenizerImages: 20}
}

// TestStudyEndToEnd runs a tiny study, kills it in the middle of the
// post-training runs, and runs it again: it continues where it stopped
// and writes the report, the JSON, the figures, and an evaluation and a
// grid of every final checkpoint.
func TestStudyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a classifier, a tokenizer and nine tiny runs on MNIST")
	}
	st := tinyStudy(t)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelAt{marker: "== train sar_s2", cancel: cancel}
	env := Env{Dev: tensor.MustOpen("cpu"), Data: "mnist", Log: log, Command: []string{"sargo", "reproduce", "--preset", "tiny-study"}}
	var err error
	tensortest.NoLeaks(t, env.Dev, func() { err = RunStudy(ctx, st, out, env) })
	require.ErrorIs(t, err, context.Canceled)
	_, err = os.Stat(filepath.Join(out, EvalDir, "sar_s1.json"))
	require.NoError(t, err, "runs before the kill are evaluated")
	_, err = os.Stat(filepath.Join(out, EvalDir, "sar_s2.json"))
	require.True(t, os.IsNotExist(err))
	val, err := os.ReadFile(filepath.Join(out, WorkDir, baseDir, valFile))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(val), "\n"), "held-out loss at steps 3 and 6")

	log2 := &cancelAt{}
	env.Log = log2
	tensortest.NoLeaks(t, env.Dev, func() { require.NoError(t, RunStudy(context.Background(), st, out, env)) })
	again, err := os.ReadFile(filepath.Join(out, WorkDir, baseDir, valFile))
	require.NoError(t, err)
	assert.Equal(t, string(val), string(again), "the base run is not trained again")
	assert.Contains(t, log2.buf.String(), "sar_s1 already trained")
	assert.NotContains(t, log2.buf.String(), "== evaluate sar_s1 ", "finished evaluations are reused")

	for _, r := range append(st.runs(), postRun{Name: BaseName}) {
		rep, err := readReport(filepath.Join(out, EvalDir, r.Name+".json"))
		require.NoError(t, err)
		require.NotNil(t, rep, r.Name)
		require.NotNil(t, rep.Exposure, r.Name)
		assert.Equal(t, 20, rep.N)
		assert.Equal(t, 8, rep.Exposure.Images)
		assert.NoError(t, viz.CheckPNG(filepath.Join(out, GridDir, r.Name+".png"), 2*32, 10*32, 2), r.Name)
		if r.Name != BaseName {
			ck, err := os.Stat(filepath.Join(out, WorkDir, runsDir, r.Name, train.CheckpointFile))
			require.NoError(t, err)
			assert.Positive(t, ck.Size())
		}
	}
	// The sampling seed is the run's: seeds give different samples.
	s1, _ := readReport(filepath.Join(out, EvalDir, "tf_s1.json"))
	s2, _ := readReport(filepath.Join(out, EvalDir, "tf_s2.json"))
	assert.NotEqual(t, s1.FID, s2.FID)

	raw, err := os.ReadFile(filepath.Join(out, ResultsFile))
	require.NoError(t, err)
	var res StudyResults
	require.NoError(t, json.Unmarshal(raw, &res))
	assert.Equal(t, 6, res.Base.Steps)
	assert.False(t, res.Base.Plateau)
	assert.Equal(t, 2, res.PostSteps)
	assert.Len(t, res.Runs, 8)
	assert.Equal(t, 2, res.Groups[GroupSAR]["fid"].N)
	assert.Len(t, res.Tests, 2*len(studyMetrics))
	assert.Greater(t, res.LRFirst, res.LRLast, "the post-training rate falls along the base run's tail")
	assert.Contains(t, res.Verdict, "SAR's FID")

	report, err := os.ReadFile(filepath.Join(out, ReportFile))
	require.NoError(t, err)
	for _, want := range []string{"tiny-study preset", "## Verdict", "Welch t-tests", "TF continued", "SAR post-training",
		"naive SF post-training", "Sweep of SAR's sigma and rollout", "| 0.1 | last |", "| 0.01 | all |", "sargo classifier", FigExposure, "gap chained"} {
		assert.Contains(t, string(report), want)
	}
	for _, fig := range []string{FigBaseLoss, FigExposure} {
		assert.NoError(t, viz.CheckPNG(filepath.Join(out, fig), 400, 250, 10), fig)
	}

	// The report alone is redrawn from the files.
	require.NoError(t, os.Remove(filepath.Join(out, ReportFile)))
	require.NoError(t, ReportStudy(context.Background(), st, out, Env{Dev: env.Dev, Data: "mnist"}))
	_, err = os.Stat(filepath.Join(out, ReportFile))
	require.NoError(t, err)
}
