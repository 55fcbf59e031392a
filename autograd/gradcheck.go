package autograd

import (
	"fmt"
	"math"

	"sargo/tensor"
)

// CheckOptions configures CheckGrad. Zero fields take the defaults.
type CheckOptions struct {
	// H is the relative finite-difference step: element x is moved by
	// ±H·max(1, |x|). Default 1e-2.
	H float64
	// ATol and RTol bound the accepted error per element:
	// |analytic - numeric| <= ATol + RTol·|numeric|. Defaults 1e-3 and 1e-2.
	ATol, RTol float64
	// Seed seeds the random projection of a non-scalar output. Default 0.
	Seed uint64
}

// CheckResult reports the worst disagreement per input.
type CheckResult struct {
	// MaxAbs[i] is the largest |analytic - numeric| over input i.
	MaxAbs []float64
	// MaxRel[i] is the largest |analytic - numeric| / max(|analytic|,
	// |numeric|) over input i (0 where both are 0).
	MaxRel []float64
}

// CheckGrad compares the gradient that Backward computes for f with
// central finite differences.
//
// Each input is copied into a Param; f builds its output from them on the
// given graph. An output with more than one element is reduced to the
// scalar sum(out ⊙ r), with r a fixed standard normal tensor drawn from
// opt.Seed, so every output element contributes with its own weight. The
// analytic gradient comes from one Backward; the numeric one evaluates f
// on a nil graph with each input element moved by ±h:
//
//	numeric = (f(x+h) - f(x-h)) / ((x+h) - (x-h))
//
// where the two evaluations and the two perturbed inputs are the float32
// values actually used, and the differences and the quotient are taken in
// float64. The model function itself runs in float32, so the numeric
// gradient carries a rounding error of about ε32·|f|/h (ε32 ≈ 6e-8; with
// h = 1e-2 and |f| of order 10, about 1e-4) plus a truncation error of
// order h² times the third derivative; the defaults ATol 1e-3 and RTol 1e-2 sit above both for
// smooth functions of inputs of order 1 while still catching a wrong or
// missing gradient term, which shows up at order |f'|. Inputs must stay
// away from kinks (relu at 0, ties of max, clamp bounds) by more than h.
//
// f may run several times and must be deterministic, and its output must
// depend on at least one input. The returned error
// names the input, the flat element, and the analytic and numeric values
// of the worst element that exceeds the tolerance; CheckResult is filled
// in either way. f is called with the graph on which to record, which is
// nil for the numeric evaluations.
func CheckGrad(f func(g *Graph, xs []*Var) *Var, inputs []*tensor.Tensor, opt CheckOptions) (CheckResult, error) {
	if opt.H == 0 {
		opt.H = 1e-2
	}
	if opt.ATol == 0 {
		opt.ATol = 1e-3
	}
	if opt.RTol == 0 {
		opt.RTol = 1e-2
	}
	res := CheckResult{MaxAbs: make([]float64, len(inputs)), MaxRel: make([]float64, len(inputs))}
	if len(inputs) == 0 {
		return res, fmt.Errorf("autograd: CheckGrad: no inputs")
	}
	dev := inputs[0].Backend()
	s := tensor.NewScope(dev) // the inputs' copies and the projection
	defer s.Close()
	xs := make([]*Var, len(inputs))
	for i, t := range inputs {
		xs[i] = Param(t.Clone())
	}
	defer func() {
		for _, x := range xs {
			x.ZeroGrad()
		}
	}()
	var proj *tensor.Tensor // the fixed projection, made on first use
	defer func() { proj.Release() }()
	scalar := func(g *Graph, out *Var) *Var {
		if out.Value.Size() == 1 {
			return g.Sum(out, false)
		}
		if proj == nil {
			proj = tensor.Randn(out.Value.Backend(), opt.Seed, 0, out.Value.Shape()...)
			tensor.Escape(proj) // made inside the graph, used after it
		}
		return g.Sum(g.Mul(out, Const(proj)), false)
	}

	g := NewGraph(dev)
	err := g.Backward(scalar(g, f(g, xs)))
	g.Close()
	if err != nil {
		return res, fmt.Errorf("autograd: CheckGrad: %w", err)
	}
	eval := func() (float64, error) {
		es := tensor.NewScope(dev)
		defer es.Close()
		v, err := scalar(nil, f(nil, xs)).Value.Read()
		if err != nil {
			return 0, err
		}
		return float64(v[0]), nil
	}

	var worst error
	worstExcess := 0.0
	for i, x := range xs {
		var analytic []float32
		if x.Grad != nil {
			var err error
			if analytic, err = x.Grad.Read(); err != nil {
				return res, fmt.Errorf("autograd: CheckGrad: read gradient of input %d: %w", i, err)
			}
		} else {
			analytic = make([]float32, x.Value.Size()) // no path to the output
		}
		data, err := x.Value.Read()
		if err != nil {
			return res, fmt.Errorf("autograd: CheckGrad: read input %d: %w", i, err)
		}
		be, span := x.Value.Backend(), x.Value.Span()
		set := func(j int, v float32) { be.Write(span.Buf, span.Offset+j, []float32{v}) }
		for j, x0 := range data {
			h := opt.H * math.Max(1, math.Abs(float64(x0)))
			xp, xm := float32(float64(x0)+h), float32(float64(x0)-h)
			set(j, xp)
			fp, err := eval()
			if err != nil {
				return res, fmt.Errorf("autograd: CheckGrad: evaluate f: %w", err)
			}
			set(j, xm)
			fm, err := eval()
			if err != nil {
				return res, fmt.Errorf("autograd: CheckGrad: evaluate f: %w", err)
			}
			set(j, x0)
			num := (fp - fm) / (float64(xp) - float64(xm))
			an := float64(analytic[j])
			diff := math.Abs(an - num)
			if m := math.Max(math.Abs(an), math.Abs(num)); m > 0 {
				res.MaxRel[i] = math.Max(res.MaxRel[i], diff/m)
			}
			if math.IsNaN(diff) {
				diff = math.Inf(1)
			}
			res.MaxAbs[i] = math.Max(res.MaxAbs[i], diff)
			tol := opt.ATol + opt.RTol*math.Abs(num)
			if excess := diff / tol; diff > tol && excess > worstExcess {
				worstExcess = excess
				worst = fmt.Errorf("autograd: CheckGrad: input %d element %d: analytic %.6g, numeric %.6g (|diff| %.3g > tolerance %.3g)", i, j, an, num, diff, tol)
			}
		}
	}
	return res, worst
}
