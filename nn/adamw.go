package nn

import (
	"fmt"

	"sargo/tensor"
)

// AdamWConfig holds AdamW's hyper-parameters.
type AdamWConfig struct {
	LR           float32
	Beta1, Beta2 float32
	Eps          float32
	// WeightDecay is decoupled (applied as p -= lr·wd·p) and skipped for
	// parameters marked NoDecay.
	WeightDecay float32
}

// DefaultAdamWConfig is the SAR/FlexVAR setting: betas (0.9, 0.95), eps
// 1e-8, weight decay 0.05, lr 3e-4.
func DefaultAdamWConfig() AdamWConfig {
	return AdamWConfig{LR: 3e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05}
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), the
// update of torch.optim.AdamW, over two parameter groups: decayed
// parameters and NoDecay ones. Its moments are kept per parameter name so
// checkpoints can store them.
type AdamW struct {
	Cfg AdamWConfig
	// Step counts the updates made so far (bias correction uses Step+1 for
	// the next update).
	Step   int
	params []NamedParam
	m, v   []*tensor.Tensor
}

// NewAdamW makes an optimiser over params with zeroed moments. Names must
// be unique. The first moments of all parameters are views of one
// storage, and so are the second moments, so that a GPU backend updates
// several parameters per dispatch.
func NewAdamW(params []NamedParam, cfg AdamWConfig) (*AdamW, error) {
	if _, err := ParamIndex(params); err != nil {
		return nil, fmt.Errorf("adamw: %w", err)
	}
	o := &AdamW{Cfg: cfg, params: params}
	if len(params) == 0 {
		return o, nil
	}
	be := params[0].Var.Value.Backend()
	total := NumParams(params)
	mArena, vArena := tensor.Zeros(be, total), tensor.Zeros(be, total)
	off := 0
	for _, p := range params {
		n, shape := p.Var.Value.Size(), p.Var.Value.Shape()
		o.m = append(o.m, mArena.Narrow(0, off, n).Reshape(shape...))
		o.v = append(o.v, vArena.Narrow(0, off, n).Reshape(shape...))
		off += n
	}
	return o, nil
}

// Params lists the optimised parameters.
func (o *AdamW) Params() []NamedParam { return o.params }

// Moments returns the first and second moments of parameter i.
func (o *AdamW) Moments(i int) (m, v *tensor.Tensor) { return o.m[i], o.v[i] }

// Update applies one step at the configured learning rate.
func (o *AdamW) Update() error { return o.UpdateLR(o.Cfg.LR) }

// UpdateLR applies one step at learning rate lr (from a schedule).
// Parameters without a gradient are left unchanged. It returns the first
// device error.
func (o *AdamW) UpdateLR(lr float32) error { return o.UpdateScaled(lr, 1) }

// UpdateScaled applies one step at learning rate lr with every gradient
// multiplied by gradScale first (a clipping coefficient from ClipCoef),
// which leaves the gradients themselves unchanged. All parameters are
// updated by one tensor.AdamWSteps. It returns the first device error.
func (o *AdamW) UpdateScaled(lr, gradScale float32) error {
	o.Step++
	ts := make([]tensor.AdamWTensors, 0, len(o.params))
	for i, p := range o.params {
		if p.Var.Grad == nil {
			continue
		}
		ts = append(ts, tensor.AdamWTensors{Param: p.Var.Value, Grad: p.Var.Grad, M: o.m[i], V: o.v[i], Decay: !p.NoDecay})
	}
	a := tensor.AdamWArgs{LR: lr, Beta1: o.Cfg.Beta1, Beta2: o.Cfg.Beta2, Eps: o.Cfg.Eps,
		WeightDecay: o.Cfg.WeightDecay, Step: o.Step, GradScale: gradScale}
	tensor.AdamWSteps(a, ts)
	if len(o.params) > 0 {
		if err := o.params[0].Var.Value.Backend().Err(); err != nil {
			return fmt.Errorf("adamw step %d: %w", o.Step, err)
		}
	}
	return nil
}
