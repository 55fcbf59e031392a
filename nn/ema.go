package nn

import (
	"fmt"

	"sargo/autograd"
	"sargo/tensor"
)

// EMA keeps an exponential moving average of parameter values:
// shadow = Decay·shadow + (1-Decay)·param after each Update.
type EMA struct {
	Decay  float32
	params []NamedParam
	shadow []*tensor.Tensor
}

// NewEMA starts the average at the current values of params.
func NewEMA(params []NamedParam, decay float32) *EMA {
	e := &EMA{Decay: decay, params: params}
	for _, p := range params {
		e.shadow = append(e.shadow, p.Var.Value.Clone())
	}
	return e
}

// Update folds the current parameter values into the average.
func (e *EMA) Update() {
	for i, p := range e.params {
		b := tensor.Scale(p.Var.Value, 1-e.Decay)
		tensor.ScaleInPlace(e.shadow[i], e.Decay)
		tensor.AddInto(e.shadow[i], b)
		b.Release()
	}
}

// Swap exchanges the averaged and the live values in place (call it
// before evaluation and again after to restore training weights).
func (e *EMA) Swap() {
	for i, p := range e.params {
		t := p.Var.Value.Clone()
		p.Var.Value.CopyFrom(e.shadow[i])
		e.shadow[i].CopyFrom(t)
		t.Release()
	}
}

// Parameters exposes the averaged values under the parameters' names (as
// constants), for saving with SaveCheckpoint.
func (e *EMA) Parameters() []NamedParam {
	out := make([]NamedParam, len(e.params))
	for i, p := range e.params {
		out[i] = NamedParam{Name: p.Name, Var: autograd.Const(e.shadow[i]), NoDecay: p.NoDecay}
	}
	return out
}

// Load replaces the averaged values by vals (same order and shapes as the
// parameters).
func (e *EMA) Load(vals []*tensor.Tensor) error {
	if len(vals) != len(e.shadow) {
		return fmt.Errorf("ema load: %d tensors for %d parameters", len(vals), len(e.shadow))
	}
	for i, v := range vals {
		if !equalShape(v.Shape(), e.shadow[i].Shape()) {
			return fmt.Errorf("ema load: %s: shape %v, want %v", e.params[i].Name, v.Shape(), e.shadow[i].Shape())
		}
		e.shadow[i].CopyFrom(v)
	}
	return nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
