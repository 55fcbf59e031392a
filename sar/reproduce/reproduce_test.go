package reproduce

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/sar/eval"
	"sargo/sar/viz"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

func TestProtocols(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			p, err := Get(name)
			require.NoError(t, err)
			require.NoError(t, p.Validate())
			assert.Less(t, p.PostEpochs, p.Epochs)
		})
	}
	_, err := Get("huge")
	assert.ErrorContains(t, err, "unknown")
}

func TestProtocolValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Protocol)
		want string
	}{
		{"post epochs too many", func(p *Protocol) { p.PostEpochs = p.Epochs }, "post epochs"},
		{"post epochs zero", func(p *Protocol) { p.PostEpochs = 0 }, "post epochs"},
		{"eval period misses N - k", func(p *Protocol) { p.Epochs, p.PostEpochs, p.EvalEvery = 5, 2, 2 }, "multiple of eval_every"},
		{"unknown run", func(p *Protocol) { p.Methods = []string{"tf", "ddpm"} }, "ddpm"},
		{"too few samples", func(p *Protocol) { p.EvalN = 2 }, "eval n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Get("tiny")
			require.NoError(t, err)
			tc.edit(&p)
			assert.ErrorContains(t, p.Validate(), tc.want)
		})
	}
}

func TestTinyReproduction(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a classifier, a tokenizer and two runs on MNIST")
	}
	p, err := Get("tiny")
	require.NoError(t, err)
	p.Methods = []string{RunTF, RunTFSAR}
	p.ClassifierSteps, p.Preset.TokenizerTrain.Steps = 5, 5
	out := t.TempDir()
	env := Env{Dev: tensor.MustOpen("cpu"), Data: "mnist", Command: []string{"sargo", "reproduce", "--preset", "tiny"}}
	tensortest.NoLeaks(t, env.Dev, func() { require.NoError(t, Run(context.Background(), p, out, env)) })
	report, err := os.ReadFile(filepath.Join(out, ReportFile))
	require.NoError(t, err)
	for _, want := range []string{"FID (sargo classifier)", "TF (FlexVAR)", "SAR (init TF)", "sargo reproduce --preset tiny", FigCurves} {
		assert.Contains(t, string(report), want)
	}
	for _, fig := range []string{FigCurves, FigTradeoff, FigProcess, FigGrid, FigSF} {
		assert.NoError(t, viz.CheckPNG(filepath.Join(out, fig), 100, 100, 10), fig)
	}
	tf, err := eval.ReadHistory(filepath.Join(out, RunTF, eval.HistoryFile))
	require.NoError(t, err)
	assert.Len(t, tf, p.Epochs)
	post, err := eval.ReadHistory(filepath.Join(out, RunTFSAR, eval.HistoryFile))
	require.NoError(t, err)
	require.Len(t, post, p.PostEpochs+1)
	assert.Equal(t, float64(p.Epochs-p.PostEpochs), post[0].Epoch, "the post-training curve starts at TF's checkpoint")

	// A second run resumes: nothing is trained or evaluated again.
	require.NoError(t, Run(context.Background(), p, out, env))
	again, err := eval.ReadHistory(filepath.Join(out, RunTF, eval.HistoryFile))
	require.NoError(t, err)
	assert.Len(t, again, p.Epochs)
}
