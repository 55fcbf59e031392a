package nn

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

// The golden files are written by bench/torch/nn_golden.py (PyTorch,
// float64 evaluation of float32 weights and inputs). Each output and
// gradient tensor must match per tensor: max|got - want| ≤
// goldenRTol · max|want|. (Elementwise relative error is not a fair test
// of float32 gradients that are sums of many cancelling terms.)
const goldenRTol = 1e-5

func loadGolden(t *testing.T, name string) map[string]STensor {
	t.Helper()
	f, err := ReadSafetensorsFile(filepath.Join("..", "testdata", "nn", name))
	require.NoError(t, err)
	return f.Index()
}

func goldenTensor(t *testing.T, g map[string]STensor, name string) *tensor.Tensor {
	t.Helper()
	st, ok := g[name]
	require.True(t, ok, "golden tensor %s", name)
	d, err := st.Float32s()
	require.NoError(t, err)
	return tensor.FromSlice(dev(), d, st.Shape...)
}

// loadGoldenParams copies "param.<name>" into each parameter and checks
// that the file holds exactly the module's parameter names.
func loadGoldenParams(t *testing.T, g map[string]STensor, ps []NamedParam) {
	t.Helper()
	var inFile []string
	for n := range g {
		if strings.HasPrefix(n, "param.") {
			inFile = append(inFile, strings.TrimPrefix(n, "param."))
		}
	}
	assert.ElementsMatch(t, inFile, names(ps), "PyTorch and sargo parameter names")
	for _, p := range ps {
		v := goldenTensor(t, g, "param."+p.Name)
		require.Equal(t, p.Var.Value.Shape(), v.Shape(), p.Name)
		p.Var.Value.CopyFrom(v)
	}
}

// assertClose checks got against want with the per-tensor relative bound.
func assertClose(t *testing.T, what string, want, got *tensor.Tensor) {
	t.Helper()
	require.NotNil(t, got, what)
	require.Equal(t, want.Shape(), got.Shape(), what)
	w, g := want.Data(), got.Data()
	maxErr, maxWant, at := 0.0, 0.0, 0
	for i := range w {
		if e := math.Abs(float64(g[i]) - float64(w[i])); e > maxErr {
			maxErr, at = e, i
		}
		maxWant = math.Max(maxWant, math.Abs(float64(w[i])))
	}
	t.Logf("%-32s max|err| %.3g  max|want| %.3g  rel %.3g", what, maxErr, maxWant, maxErr/maxWant)
	assert.LessOrEqual(t, maxErr, goldenRTol*maxWant,
		fmt.Sprintf("%s: element %d: got %g, want %g", what, at, g[at], w[at]))
}

func TestGoldenAdaLNBlock(t *testing.T) {
	g := loadGolden(t, "adaln_block.safetensors")
	in := NewInit(dev(), 0)
	blk, err := NewAdaLNBlock(in, DefaultBlockConfig(32, 4, 1))
	require.NoError(t, err)
	head := NewAdaLNHead(in, 32, 32, 1e-6, 0.5)
	var ps Params
	ps.Sub("block", blk)
	ps.Sub("head_nm", head)
	loadGoldenParams(t, g, ps)

	gr := autograd.NewGraph(dev())
	defer gr.Close()
	x := autograd.Param(goldenTensor(t, g, "in.x"))
	cond := autograd.Param(goldenTensor(t, g, "in.cond"))
	mask := ScaleMask(dev(), 1, 2, 3)
	y := head.Forward(gr, blk.Forward(gr, x, cond, mask, nil, 0), cond)
	assertClose(t, "output", goldenTensor(t, g, "out.y"), y.Value)
	loss := gr.Sum(gr.Mul(y, autograd.Const(goldenTensor(t, g, "in.r"))), false)
	require.NoError(t, gr.Backward(loss))
	assertClose(t, "grad x", goldenTensor(t, g, "grad_in.x"), x.Grad)
	assertClose(t, "grad cond", goldenTensor(t, g, "grad_in.cond"), cond.Grad)
	for _, p := range ps {
		assertClose(t, "grad "+p.Name, goldenTensor(t, g, "grad."+p.Name), p.Var.Grad)
	}
}

func TestGoldenAdaLNBlockPlain(t *testing.T) {
	g := loadGolden(t, "adaln_block_plain.safetensors")
	cfg := DefaultBlockConfig(16, 2, 1)
	cfg.MLPRatio, cfg.L2Norm = 2, false
	cfg.AttnScale = float32(0.25 / math.Sqrt(8)) // VAR's plain scale
	blk, err := NewAdaLNBlock(NewInit(dev(), 0), cfg)
	require.NoError(t, err)
	ps := blk.Parameters()
	loadGoldenParams(t, g, ps)

	gr := autograd.NewGraph(dev())
	defer gr.Close()
	x := autograd.Param(goldenTensor(t, g, "in.x"))
	cond := autograd.Param(goldenTensor(t, g, "in.cond"))
	y := blk.Forward(gr, x, cond, ScaleMask(dev(), 1, 2), nil, 0)
	assertClose(t, "output", goldenTensor(t, g, "out.y"), y.Value)
	require.NoError(t, gr.Backward(gr.Sum(gr.Mul(y, autograd.Const(goldenTensor(t, g, "in.r"))), false)))
	assertClose(t, "grad x", goldenTensor(t, g, "grad_in.x"), x.Grad)
	assertClose(t, "grad cond", goldenTensor(t, g, "grad_in.cond"), cond.Grad)
	for _, p := range ps {
		assertClose(t, "grad "+p.Name, goldenTensor(t, g, "grad."+p.Name), p.Var.Grad)
	}
}

func TestGoldenConvStack(t *testing.T) {
	g := loadGolden(t, "conv_stack.safetensors")
	in := NewInit(dev(), 0)
	res, err := NewResBlock(in, 8, 16, 4, 1e-6)
	require.NoError(t, err)
	down, up := NewDownsample(in, 16), NewUpsample(in, 16)
	var ps Params
	ps.Sub("res", res)
	ps.Sub("down", down)
	ps.Sub("up", up)
	loadGoldenParams(t, g, ps)

	gr := autograd.NewGraph(dev())
	defer gr.Close()
	x := autograd.Param(goldenTensor(t, g, "in.x"))
	y := up.Forward(gr, down.Forward(gr, res.Forward(gr, x)))
	assertClose(t, "output", goldenTensor(t, g, "out.y"), y.Value)
	require.NoError(t, gr.Backward(gr.Sum(gr.Mul(y, autograd.Const(goldenTensor(t, g, "in.r"))), false)))
	assertClose(t, "grad x", goldenTensor(t, g, "grad_in.x"), x.Grad)
	for _, p := range ps {
		assertClose(t, "grad "+p.Name, goldenTensor(t, g, "grad."+p.Name), p.Var.Grad)
	}
}

func TestGoldenAdamW(t *testing.T) {
	g := loadGolden(t, "adamw.safetensors")
	p := autograd.Param(goldenTensor(t, g, "p0"))
	q := autograd.Param(goldenTensor(t, g, "q0"))
	opt, err := NewAdamW([]NamedParam{{Name: "p", Var: p}, {Name: "q", Var: q, NoDecay: true}},
		AdamWConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05})
	require.NoError(t, err)
	for step := 1; step <= 3; step++ {
		p.Grad = goldenTensor(t, g, fmt.Sprintf("grad_p.%d", step))
		q.Grad = goldenTensor(t, g, fmt.Sprintf("grad_q.%d", step))
		require.NoError(t, opt.Update())
	}
	assertClose(t, "p", goldenTensor(t, g, "p3"), p.Value)
	assertClose(t, "q", goldenTensor(t, g, "q3"), q.Value)
	m, v := opt.Moments(0)
	assertClose(t, "exp_avg", goldenTensor(t, g, "m_p"), m)
	assertClose(t, "exp_avg_sq", goldenTensor(t, g, "v_p"), v)
}
