package nn

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// GradNorm is the global L2 norm of the gradients of params (those with
// a gradient), computed in float32 per parameter and summed in float64.
func GradNorm(params []NamedParam) (float64, error) {
	var sum float64
	for _, p := range params {
		if p.Var.Grad == nil {
			continue
		}
		sq := tensor.Square(p.Var.Grad)
		s := tensor.Sum(sq, false)
		sq.Release()
		v, err := s.Read()
		s.Release()
		if err != nil {
			return 0, fmt.Errorf("gradient norm of %s: %w", p.Name, err)
		}
		sum += float64(v[0])
	}
	return math.Sqrt(sum), nil
}

// ClipGradNorm scales all gradients by maxNorm/(norm+1e-6) when their
// global norm exceeds maxNorm, as torch.nn.utils.clip_grad_norm_ does, and
// returns the norm before clipping.
func ClipGradNorm(params []NamedParam, maxNorm float64) (float64, error) {
	norm, err := GradNorm(params)
	if err != nil {
		return 0, fmt.Errorf("clip gradients: %w", err)
	}
	coef := maxNorm / (norm + 1e-6)
	if coef >= 1 {
		return norm, nil
	}
	for _, p := range params {
		if p.Var.Grad == nil {
			continue
		}
		t := tensor.Scale(p.Var.Grad, float32(coef))
		p.Var.Grad.CopyFrom(t)
		t.Release()
	}
	return norm, nil
}
