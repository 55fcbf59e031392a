package nn

import (
	"math"

	"sargo/tensor"
)

// FirstNonFinite names the first parameter (in the order given) whose
// value, or else whose gradient, holds a NaN or an infinity: "parameter
// NAME" or "gradient of NAME", or "" when none does (a parameter that
// cannot be read counts as non-finite). It reads every parameter, so
// callers run it once a cheaper check (a loss, a norm) has failed, or
// before writing a checkpoint.
func FirstNonFinite(params []NamedParam) string {
	bad := func(t *tensor.Tensor) bool {
		d, err := t.Read()
		if err != nil {
			return true
		}
		for _, v := range d {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return true
			}
		}
		return false
	}
	for _, p := range params {
		if bad(p.Var.Value) {
			return "parameter " + p.Name
		}
	}
	for _, p := range params {
		if p.Var.Grad != nil && bad(p.Var.Grad) {
			return "gradient of " + p.Name
		}
	}
	return ""
}
