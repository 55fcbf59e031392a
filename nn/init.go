package nn

import (
	"math"

	"sargo/autograd"
	"sargo/tensor"
)

// DefaultInitStd is VAR's standard deviation for linear and embedding
// weights.
const DefaultInitStd = 0.02

// Init is the source module constructors draw initial weights from: a
// device and a position in the Philox stream keyed by Seed. Each draw
// consumes as many stream elements as the tensor has, so constructing the
// same modules in the same order from the same seed gives identical
// weights on every backend. Init is not safe for concurrent use.
type Init struct {
	Backend tensor.Backend
	Seed    uint64
	// Offset is the next unused element of the stream.
	Offset uint64
	// NoDraw makes every draw a zero tensor that consumes no randomness:
	// for modules built only to receive loaded weights (drawing the
	// 316 M weights of a FlexVAR d16 costs more than loading them).
	NoDraw bool
}

// NewInit returns a source on b keyed by seed, starting at offset 0.
func NewInit(b tensor.Backend, seed uint64) *Init { return &Init{Backend: b, Seed: seed} }

// NewLoadInit returns a source on b whose draws are zeros (NoDraw).
func NewLoadInit(b tensor.Backend) *Init { return &Init{Backend: b, NoDraw: true} }

func (in *Init) advance(shape []int) uint64 {
	n := uint64(1)
	for _, d := range shape {
		n *= uint64(d)
	}
	off := in.Offset
	in.Offset += n
	return off
}

// TruncNormal draws N(0, std²) truncated to [-2, 2], the bounds
// torch.nn.init.trunc_normal_ uses by default.
func (in *Init) TruncNormal(std float64, shape ...int) *tensor.Tensor {
	if in.NoDraw {
		return in.Zeros(shape...)
	}
	off := in.advance(shape)
	return tensor.TruncNormal(in.Backend, in.Seed, off, std, -2, 2, shape...)
}

// Uniform draws U[lo, hi).
func (in *Init) Uniform(lo, hi float32, shape ...int) *tensor.Tensor {
	if in.NoDraw {
		return in.Zeros(shape...)
	}
	off := in.advance(shape)
	u := tensor.Rand(in.Backend, in.Seed, off, shape...)
	tensor.UnaryInPlace(tensor.OpAffine, u, hi-lo, lo)
	return u
}

// Normal draws N(0, std²).
func (in *Init) Normal(std float32, shape ...int) *tensor.Tensor {
	if in.NoDraw {
		return in.Zeros(shape...)
	}
	off := in.advance(shape)
	u := tensor.Randn(in.Backend, in.Seed, off, shape...)
	tensor.ScaleInPlace(u, std)
	return u
}

// Zeros makes a zero tensor; it consumes no randomness.
func (in *Init) Zeros(shape ...int) *tensor.Tensor { return tensor.Zeros(in.Backend, shape...) }

// Full makes a tensor filled with v; it consumes no randomness.
func (in *Init) Full(v float32, shape ...int) *tensor.Tensor {
	return tensor.Full(in.Backend, v, shape...)
}

// KaimingUniform draws U(-1/√fanIn, 1/√fanIn), PyTorch's default for the
// weights and biases of Conv2d and Linear.
func (in *Init) KaimingUniform(fanIn int, shape ...int) *tensor.Tensor {
	b := float32(1 / math.Sqrt(float64(fanIn)))
	return in.Uniform(-b, b, shape...)
}

// scaleParam multiplies a parameter's value in place by s.
func scaleParam(v *autograd.Var, s float32) { tensor.ScaleInPlace(v.Value, s) }

// scaleRows multiplies rows [lo, hi) of a 2-D parameter in place by s.
func scaleRows(v *autograd.Var, lo, hi int, s float32) {
	rows := v.Value.Narrow(0, lo, hi-lo)
	tensor.ScaleInPlace(rows, s)
	rows.Release() // a view made at construction, outside any scope
}
