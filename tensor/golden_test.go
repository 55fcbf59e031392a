package tensor_test

// Golden tests: the CPU backend's tensor-level operations against values
// PyTorch computed in float64, stored in testdata/golden by
// bench/torch/golden.py (see its header for the file format and how to
// regenerate them). The tests read only the committed files.
//
// Tolerance: per tensor, max|got-want| <= 1e-5 · max(max|want|, 1e-6).
// Scaling by the tensor's largest magnitude rather than elementwise keeps
// gradients that cancel to near zero in a few elements from failing on fp32
// rounding, while any wrong index or weight moves the maximum error far
// above 1e-5.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// goldenRelTol is the per-tensor relative tolerance against PyTorch.
const goldenRelTol = 1e-5

// goldenFloor keeps the tolerance finite for a tensor that is all zeros.
const goldenFloor = 1e-6

// goldenFile is one family's file.
type goldenFile struct {
	Family string       `json:"family"`
	Cases  []goldenCase `json:"cases"`
}

// goldenCase is one case: operation parameters and named tensors.
type goldenCase struct {
	Name    string                  `json:"name"`
	Params  goldenParams            `json:"params"`
	Tensors map[string]goldenTensor `json:"tensors"`
}

// goldenParams is the union of every family's parameters.
type goldenParams struct {
	Mode        string  `json:"mode"`
	Hout        int     `json:"hout"`
	Wout        int     `json:"wout"`
	Scale       float64 `json:"scale"`
	Mask        string  `json:"mask"`
	Stride      int     `json:"stride"`
	Pad         int     `json:"pad"`
	Bias        bool    `json:"bias"`
	Kind        string  `json:"kind"`
	Eps         float64 `json:"eps"`
	Affine      bool    `json:"affine"`
	Groups      int     `json:"groups"`
	IgnoreIndex int     `json:"ignore_index"`
	Smoothing   float64 `json:"smoothing"`
}

// goldenTensor holds little-endian float32 or float64 values.
type goldenTensor struct {
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
	Data  []byte `json:"data"` // base64 in the file
}

func (g goldenTensor) values() []float64 {
	switch g.DType {
	case "float32":
		out := make([]float64, len(g.Data)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(g.Data[4*i:])))
		}
		return out
	case "float64":
		out := make([]float64, len(g.Data)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(g.Data[8*i:]))
		}
		return out
	}
	panic("golden: unknown dtype " + g.DType)
}

func loadGolden(t *testing.T, family string) goldenFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "golden", family+".json"))
	require.NoError(t, err, "golden files are written by bench/torch/golden.py")
	var f goldenFile
	require.NoError(t, json.Unmarshal(raw, &f))
	require.Equal(t, family, f.Family)
	require.NotEmpty(t, f.Cases)
	return f
}

// input returns a float32 tensor of the case on the CPU backend.
func (c goldenCase) input(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	g, ok := c.Tensors[name]
	require.True(t, ok, "case %s has no tensor %q", c.Name, name)
	require.Equal(t, "float32", g.DType, "input %q", name)
	v := g.values()
	d := make([]float32, len(v))
	for i, x := range v {
		d[i] = float32(x)
	}
	return tensor.FromSlice(tensor.MustOpen("cpu"), d, g.Shape...)
}

// has reports whether the case stores a tensor of that name.
func (c goldenCase) has(name string) bool {
	_, ok := c.Tensors[name]
	return ok
}

// check compares got with the case's reference tensor want.
func (c goldenCase) check(t *testing.T, want string, got *tensor.Tensor) {
	t.Helper()
	g, ok := c.Tensors[want]
	require.True(t, ok, "case %s has no tensor %q", c.Name, want)
	if got == nil {
		t.Errorf("%s: no output", want)
		return
	}
	if got.Size() != len(g.values()) {
		t.Errorf("%s: shape %v, want %v", want, got.Shape(), g.Shape)
		return
	}
	diff, scale, at := goldenError(got.Data(), g.values())
	if at >= 0 {
		t.Errorf("%s: max |got-want| = %.3g at element %d (got %v, want %v), above %.0e of max |want| %.3g",
			want, diff, at, got.Data()[at], g.values()[at], goldenRelTol, scale)
	}
}

// goldenError returns the largest absolute difference, the largest
// magnitude of want, and the element at which the difference exceeds the
// tolerance most (-1 when within it). NaN counts as exceeding.
func goldenError(got []float32, want []float64) (diff, scale float64, at int) {
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	limit := goldenRelTol * math.Max(scale, goldenFloor)
	at = -1
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > diff {
			diff = d
			if d > limit {
				at = i
			}
		}
	}
	return diff, scale, at
}

func TestGoldenInterpolate(t *testing.T) {
	modes := map[string]tensor.InterpMode{
		"nearest": tensor.InterpNearest, "bilinear": tensor.InterpBilinear,
		"bicubic": tensor.InterpBicubic, "area": tensor.InterpArea,
	}
	for _, c := range loadGolden(t, "interpolate").Cases {
		t.Run(c.Name, func(t *testing.T) {
			mode, ok := modes[c.Params.Mode]
			require.True(t, ok, "mode %q", c.Params.Mode)
			x, g := c.input(t, "x"), c.input(t, "grad_y")
			c.check(t, "y", tensor.Interpolate(x, c.Params.Hout, c.Params.Wout, mode))
			c.check(t, "grad_x", tensor.InterpolateBackward(g, x.Dim(-2), x.Dim(-1), mode))
		})
	}
}

func TestGoldenAttention(t *testing.T) {
	for _, c := range loadGolden(t, "attention").Cases {
		t.Run(c.Name, func(t *testing.T) {
			q, k, v, g := c.input(t, "q"), c.input(t, "k"), c.input(t, "v"), c.input(t, "grad_out")
			var mask tensor.AttentionMask
			switch c.Params.Mask {
			case "none":
			case "scale":
				mask = tensor.AttentionMask{Kind: tensor.MaskScale, ScaleQ: c.input(t, "scale_q"), ScaleK: c.input(t, "scale_k")}
			default:
				t.Fatalf("unknown mask %q", c.Params.Mask)
			}
			scale := float32(c.Params.Scale)
			out, lse := tensor.Attention(q, k, v, scale, mask)
			c.check(t, "out", out)
			c.check(t, "lse", lse)
			dq, dk, dv := tensor.AttentionBackward(q, k, v, out, lse, g, scale, mask)
			c.check(t, "grad_q", dq)
			c.check(t, "grad_k", dk)
			c.check(t, "grad_v", dv)
		})
	}
}

func TestGoldenConv2d(t *testing.T) {
	for _, c := range loadGolden(t, "conv").Cases {
		t.Run(c.Name, func(t *testing.T) {
			x, w, g := c.input(t, "x"), c.input(t, "w"), c.input(t, "grad_y")
			var b *tensor.Tensor
			if c.Params.Bias {
				b = c.input(t, "b")
			}
			c.check(t, "y", tensor.Conv2d(x, w, b, c.Params.Stride, c.Params.Pad))
			dx, dw, db := tensor.Conv2dBackward(x, w, c.Params.Bias, g, c.Params.Stride, c.Params.Pad)
			c.check(t, "grad_x", dx)
			c.check(t, "grad_w", dw)
			if c.Params.Bias {
				c.check(t, "grad_b", db)
			} else {
				require.Nil(t, db, "db without bias")
			}
		})
	}
}

func TestGoldenNorm(t *testing.T) {
	for _, c := range loadGolden(t, "norm").Cases {
		t.Run(c.Name, func(t *testing.T) {
			x, g := c.input(t, "x"), c.input(t, "grad_y")
			var w, b *tensor.Tensor
			if c.Params.Affine {
				w, b = c.input(t, "w"), c.input(t, "b")
			}
			eps := float32(c.Params.Eps)
			var y, mean, rstd *tensor.Tensor
			groups := 0
			switch c.Params.Kind {
			case "layer":
				y, mean, rstd = tensor.LayerNorm(x, w, b, eps)
			case "group":
				groups = c.Params.Groups
				y, mean, rstd = tensor.GroupNorm(x, w, b, groups, eps)
			default:
				t.Fatalf("unknown norm %q", c.Params.Kind)
			}
			c.check(t, "y", y)
			c.check(t, "mean", mean)
			c.check(t, "rstd", rstd)
			dx, dw, db := tensor.NormBackward(x, w, b, mean, rstd, g, groups, eps)
			c.check(t, "grad_x", dx)
			if c.Params.Affine {
				c.check(t, "grad_w", dw)
				c.check(t, "grad_b", db)
			}
		})
	}
}

func TestGoldenCrossEntropy(t *testing.T) {
	for _, c := range loadGolden(t, "cross_entropy").Cases {
		t.Run(c.Name, func(t *testing.T) {
			logits, targets, g := c.input(t, "logits"), c.input(t, "targets"), c.input(t, "grad_loss")
			ignore, smoothing := c.Params.IgnoreIndex, float32(c.Params.Smoothing)
			loss, lse := tensor.CrossEntropy(logits, targets, ignore, smoothing)
			c.check(t, "loss", loss)
			// The log-sum-exp of an ignored row is not specified.
			want := c.Tensors["lse"].values()
			got := lse.Data()
			tg := targets.Data()
			for r := range want {
				if int(tg[r]) != ignore {
					require.InDelta(t, want[r], float64(got[r]), goldenRelTol*math.Max(math.Abs(want[r]), 1), "lse row %d", r)
				}
			}
			c.check(t, "grad_logits", tensor.CrossEntropyBackward(logits, lse, targets, g, ignore, smoothing))
		})
	}
}

// TestGoldenFilesPresent guards against a regeneration that drops a family.
func TestGoldenFilesPresent(t *testing.T) {
	for _, tc := range []struct {
		family string
		min    int
	}{{"interpolate", 36}, {"attention", 5}, {"conv", 7}, {"norm", 7}, {"cross_entropy", 6}} {
		t.Run(tc.family, func(t *testing.T) {
			f := loadGolden(t, tc.family)
			require.GreaterOrEqual(t, len(f.Cases), tc.min, fmt.Sprintf("%s cases", tc.family))
		})
	}
}
