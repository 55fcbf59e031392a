package check

import (
	"math"
	"testing"

	"sargo/tensor"
)

// ctx is the state of one running case: the backend under test (dev), the
// CPU reference (ref), and a scope on each that owns every tensor the case
// makes until it ends.
type ctx struct {
	t                  *testing.T
	dev, ref           tensor.Backend
	refScope, devScope *tensor.Scope
}

func newCtx(t *testing.T, dev, ref tensor.Backend) *ctx {
	c := &ctx{t: t, dev: dev, ref: ref, refScope: tensor.NewScope(ref)}
	if dev != ref {
		c.devScope = tensor.NewScope(dev)
	}
	return c
}

// finish checks the device for a sticky error and frees the case's tensors.
func (c *ctx) finish() {
	if err := c.dev.Sync(); err != nil {
		c.t.Errorf("%s: device error: %v", c.dev.Name(), err)
	}
	c.devScope.Close()
	c.refScope.Close()
}

// pair is one input held on both backends: dev on the backend under test,
// ref on the CPU reference. On the CPU backend both are the same tensor.
type pair struct {
	dev, ref *tensor.Tensor
}

// input copies a reference tensor to the backend under test.
func (c *ctx) input(ref *tensor.Tensor) pair {
	d := ref.To(c.dev)
	return pair{dev: d, ref: ref}
}

// randn is an N(0,1) input from Philox stream seed.
func (c *ctx) randn(seed uint64, shape ...int) pair {
	return c.input(tensor.Randn(c.ref, seed, 0, shape...))
}

// uniform is a U[lo,hi) input from Philox stream seed.
func (c *ctx) uniform(seed uint64, lo, hi float32, shape ...int) pair {
	r := tensor.Rand(c.ref, seed, 0, shape...)
	return c.input(tensor.Affine(r, hi-lo, lo))
}

// values is an input holding data.
func (c *ctx) values(data []float32, shape ...int) pair {
	return c.input(tensor.FromSlice(c.ref, data, shape...))
}

// view applies the same view (transpose, narrow, expand) to both sides.
func (c *ctx) view(p pair, f func(*tensor.Tensor) *tensor.Tensor) pair {
	r := f(p.ref)
	d := r
	if p.dev != p.ref {
		d = f(p.dev)
	}
	return pair{dev: d, ref: r}
}

// both runs op on the reference inputs, poisons the device's free memory
// with NaN blocks the size of each reference output, then runs op on the
// device inputs. It returns the device outputs (got) and the reference
// outputs (want); op may return nil entries for absent outputs.
func (c *ctx) both(op func(in []*tensor.Tensor) []*tensor.Tensor, in ...pair) (got, want []*tensor.Tensor) {
	refIn := make([]*tensor.Tensor, len(in))
	devIn := make([]*tensor.Tensor, len(in))
	for i, p := range in {
		refIn[i], devIn[i] = p.ref, p.dev
	}
	want = op(refIn)
	c.poison(want)
	got = op(devIn)
	return got, want
}

// poisonCopies is how many NaN blocks of each output size poison allocates.
const poisonCopies = 3

// poison allocates NaN-filled blocks of each output's size on the device
// and releases them, so that memory an allocator hands out next holds NaN.
func (c *ctx) poison(outs []*tensor.Tensor) {
	var scratch []*tensor.Tensor
	for _, o := range outs {
		if o == nil || o.Size() == 0 {
			continue
		}
		for range poisonCopies {
			scratch = append(scratch, tensor.Full(c.dev, float32(math.NaN()), o.Shape()...))
		}
	}
	for _, s := range scratch {
		s.Release()
	}
}

// read copies a tensor to the host, failing the case on a device error.
func (c *ctx) read(x *tensor.Tensor) []float32 {
	c.t.Helper()
	d, err := x.Read()
	if err != nil {
		c.t.Fatalf("read %v: %v", x, err)
	}
	return d
}

// read64 is read widened to float64.
func (c *ctx) read64(x *tensor.Tensor) []float64 {
	c.t.Helper()
	return widen(c.read(x))
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
