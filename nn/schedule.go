package nn

import "math"

// DecayKind selects the shape of a schedule after warm-up.
type DecayKind int

// The decay shapes.
const (
	DecayConstant DecayKind = iota // stay at the peak
	DecayLinear                    // straight line to the floor
	DecayCosine                    // half cosine to the floor
)

// Schedule is a learning-rate schedule: a linear warm-up from Peak/Warmup
// to Peak over Warmup steps, then a decay to Floor reached at step Total,
// held afterwards. Steps count from 0.
type Schedule struct {
	Peak, Floor   float64
	Warmup, Total int
	Kind          DecayKind
}

// LR is the learning rate at step.
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	if s.Kind == DecayConstant || s.Total <= s.Warmup {
		return s.Peak
	}
	p := math.Min(1, float64(step-s.Warmup)/float64(s.Total-s.Warmup))
	switch s.Kind {
	case DecayLinear:
		return s.Floor + (s.Peak-s.Floor)*(1-p)
	default:
		return s.Floor + (s.Peak-s.Floor)*0.5*(1+math.Cos(math.Pi*p))
	}
}
