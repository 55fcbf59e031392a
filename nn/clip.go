package nn

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// clipEps is added to the norm in the clipping coefficient
// maxNorm/(norm+clipEps), as torch.nn.utils.clip_grad_norm_ does.
const clipEps = 1e-6

// GradSquaredNorm is Σ‖g‖² over the gradients of params (those with a
// gradient), accumulated in float32 on the device by one
// tensor.SquaredNorm (a few dispatches on a GPU), as a one-element device
// tensor; it is nil when no parameter has a gradient. It reads nothing
// back to the host, so a caller can fold it into a read it makes anyway
// and finish with ClipGradsTo or ClipCoef.
func GradSquaredNorm(params []NamedParam) *tensor.Tensor {
	grads := make([]*tensor.Tensor, 0, len(params))
	for _, p := range params {
		if p.Var.Grad != nil {
			grads = append(grads, p.Var.Grad)
		}
	}
	if len(grads) == 0 {
		return nil
	}
	return tensor.SquaredNorm(grads...)
}

// GradNorm is the global L2 norm of the gradients of params (those with
// a gradient): GradSquaredNorm, read back in one transfer, and its square
// root. It is 0 when no parameter has a gradient.
func GradNorm(params []NamedParam) (float64, error) {
	sq := GradSquaredNorm(params)
	if sq == nil {
		return 0, nil
	}
	v, err := sq.Read()
	sq.Release()
	if err != nil {
		return 0, fmt.Errorf("gradient norm: %w", err)
	}
	return math.Sqrt(float64(v[0])), nil
}

// ClipGradNorm scales all gradients by maxNorm/(norm+1e-6) when their
// global norm exceeds maxNorm, as torch.nn.utils.clip_grad_norm_ does, and
// returns the norm before clipping. It reads the norm back once.
func ClipGradNorm(params []NamedParam, maxNorm float64) (float64, error) {
	norm, err := GradNorm(params)
	if err != nil {
		return 0, fmt.Errorf("clip gradients: %w", err)
	}
	ClipGradsTo(params, norm, maxNorm)
	return norm, nil
}

// ClipGradsTo is the scaling step of ClipGradNorm for a caller that has
// already read the global norm (for instance from GradSquaredNorm,
// together with its losses): it multiplies every gradient in place by
// maxNorm/(norm+1e-6) when that is below 1 and reports whether it did.
func ClipGradsTo(params []NamedParam, norm, maxNorm float64) bool {
	coef := ClipCoef(norm, maxNorm)
	if coef == 1 {
		return false
	}
	ScaleGrads(params, coef)
	return true
}

// ClipCoef is the factor ClipGradsTo multiplies the gradients by:
// maxNorm/(norm+1e-6) when that is below 1, else 1 (also when maxNorm <=
// 0, no clipping). AdamW.UpdateScaled applies it inside the update
// instead of scaling every gradient first.
func ClipCoef(norm, maxNorm float64) float32 {
	if maxNorm <= 0 {
		return 1
	}
	coef := maxNorm / (norm + clipEps)
	if coef >= 1 {
		return 1
	}
	return float32(coef)
}

// ScaleGrads multiplies every gradient of params by c in place.
func ScaleGrads(params []NamedParam, c float32) {
	for _, p := range params {
		if p.Var.Grad == nil {
			continue
		}
		tensor.ScaleInPlace(p.Var.Grad, c)
	}
}

// ClipGradNormDevice clips like ClipGradNorm but entirely on the device:
// the coefficient min(1, maxNorm/(norm+1e-6)) is computed in float32 on
// the device and multiplied into every gradient, and the norm before
// clipping is returned as a one-element device tensor that the caller
// owns, so a training step need not wait for the device. maxNorm <= 0
// disables the scaling. It returns nil when no parameter has a gradient.
func ClipGradNormDevice(params []NamedParam, maxNorm float32) *tensor.Tensor {
	sum := GradSquaredNorm(params)
	if sum == nil {
		return nil
	}
	tensor.UnaryInPlace(tensor.OpSqrt, sum, 0, 0)
	norm := sum
	if maxNorm <= 0 {
		return norm
	}
	s := tensor.NewScope(norm.Backend())
	defer s.Close()
	ratio := tensor.Div(tensor.Scalar(norm.Backend(), maxNorm), tensor.AddScalar(norm, clipEps))
	coef := tensor.Clamp(ratio, 0, 1)
	for _, p := range params {
		if p.Var.Grad != nil {
			tensor.MulInto(p.Var.Grad, coef)
		}
	}
	return norm
}
