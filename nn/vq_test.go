package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/tensor"
)

func TestVectorQuantizerForward(t *testing.T) {
	in := NewInit(dev(), 31)
	q, err := NewVectorQuantizer(in, DefaultVQConfig(8, 4))
	require.NoError(t, err)
	cb := q.Embedding.Weight.Value.Data()
	for k := range 8 {
		n := 0.0
		for _, v := range cb[4*k : 4*k+4] {
			n += float64(v) * float64(v)
		}
		assert.InDelta(t, 1, n, 1e-5, "codebook rows are unit vectors")
	}
	z := randT(1, 1, 2, 4, 3, 3)
	g := autograd.NewGraph(dev())
	defer g.Close()
	zv := autograd.Param(z)
	res, err := q.Forward(g, zv)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 4, 3, 3}, res.Quant.Shape())
	assert.Equal(t, []int{2, 3, 3}, res.IDs.Shape())

	// Each output vector is the codebook row of maximal cosine similarity.
	zd, qd, ids := z.Data(), res.Quant.Value.Data(), res.IDs.Data()
	var loss1, loss2 float64
	for b := range 2 {
		for p := range 9 {
			vec := make([]float64, 4)
			norm := 0.0
			for c := range 4 {
				vec[c] = float64(zd[b*36+c*9+p])
				norm += vec[c] * vec[c]
			}
			norm = math.Sqrt(norm)
			best, bestK := -2.0, -1
			for k := range 8 {
				s := 0.0
				for c := range 4 {
					s += vec[c] / norm * float64(cb[4*k+c])
				}
				if s > best {
					best, bestK = s, k
				}
			}
			assert.Equal(t, float32(bestK), ids[b*9+p])
			for c := range 4 {
				e := float64(cb[4*bestK+c])
				assert.InDelta(t, e, qd[b*36+c*9+p], 1e-5)
				d := e - vec[c]/norm
				loss1 += d * d
			}
		}
	}
	loss1 /= 72
	loss2 = 0.25 * loss1
	assert.InDelta(t, loss1+loss2, res.Loss.Value.Item(), 1e-5)

	// Straight-through: the gradient of sum(quant · r) w.r.t. z is that of
	// sum(normalize(z) · r); the loss gives the codebook its gradient.
	r := randT(9, 1, 2, 4, 3, 3)
	total := g.Add(g.Sum(g.Mul(res.Quant, autograd.Const(r)), false), res.Loss)
	require.NoError(t, g.Backward(total))
	g2 := autograd.NewGraph(dev())
	defer g2.Close()
	z2 := autograd.Param(z)
	zn := g2.L2Normalize(z2, 1, 1e-12)
	require.NoError(t, g2.Backward(g2.Sum(g2.Mul(zn, autograd.Const(r)), false)))
	st, ref := zv.Grad.Data(), z2.Grad.Data()
	// The commitment term adds a small extra gradient; with it removed
	// (loss weight 0 would be needed) the straight-through part dominates.
	for i := range st {
		assert.InDelta(t, ref[i], st[i], 0.2)
	}
	require.NotNil(t, q.Embedding.Weight.Grad)
}

func TestVectorQuantizerStraightThroughExact(t *testing.T) {
	q, err := NewVectorQuantizer(NewInit(dev(), 32), DefaultVQConfig(8, 4))
	require.NoError(t, err)
	z := randT(2, 1, 1, 4, 2, 2)
	r := randT(3, 1, 1, 4, 2, 2)
	g := autograd.NewGraph(dev())
	defer g.Close()
	zv := autograd.Param(z)
	res, err := q.Forward(g, zv)
	require.NoError(t, err)
	require.NoError(t, g.Backward(g.Sum(g.Mul(res.Quant, autograd.Const(r)), false)))
	g2 := autograd.NewGraph(dev())
	defer g2.Close()
	z2 := autograd.Param(z)
	require.NoError(t, g2.Backward(g2.Sum(g2.Mul(g2.L2Normalize(z2, 1, 1e-12), autograd.Const(r)), false)))
	assert.InDeltaSlice(t, z2.Grad.Data(), zv.Grad.Data(), 1e-6)
}

func TestVectorQuantizerRestart(t *testing.T) {
	cfg := DefaultVQConfig(16, 4)
	cfg.DeadAfter, cfg.Recent = 2, 64
	q, err := NewVectorQuantizer(NewInit(dev(), 33), cfg)
	require.NoError(t, err)
	q.Train = true
	// All inputs point the same way, so one code wins and the rest die.
	z := tensor.Ones(dev(), 2, 4, 2, 2)
	for range 3 {
		_, err := q.Forward(nil, autograd.Const(z))
		require.NoError(t, err)
	}
	assert.Equal(t, int64(3*8), sumInt64(q.Usage))
	// One code wins the first two calls; in the third a restarted copy of
	// the input may win instead.
	assert.LessOrEqual(t, q.UsedFraction(), 2.0/16)
	assert.Equal(t, uint64(15), q.Restarts())
	// Restarted codes are copies of the (normalised) inputs.
	cb := q.Embedding.Weight.Value.Data()
	restarted := 0
	for k := range 16 {
		if math.Abs(float64(cb[4*k])-0.5) < 1e-6 {
			restarted++
		}
	}
	assert.GreaterOrEqual(t, restarted, 15)

	q.Train = false
	_, err = q.Forward(nil, autograd.Const(z))
	require.NoError(t, err)
	assert.Equal(t, int64(3*8), sumInt64(q.Usage), "eval mode does not count")
	_, err = q.Forward(nil, autograd.Const(tensor.Ones(dev(), 1, 3, 2, 2)))
	assert.ErrorContains(t, err, "not [B, 4, H, W]")
}

func sumInt64(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}
