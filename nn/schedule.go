package nn

import "math"

// DecayKind selects the shape of a schedule after warm-up.
type DecayKind int

// The decay shapes.
const (
	DecayConstant DecayKind = iota // stay at the peak
	DecayLinear                    // straight line to the floor at step Total
	DecayCosine                    // half cosine to the floor at step Total
	// DecayPlateauLinear is FlexVAR's "lin0": the peak held for the first
	// Plateau of the steps after warm-up, then a straight line to the
	// floor at the last step, Total−1.
	DecayPlateauLinear
)

// Schedule is a learning-rate schedule: a linear warm-up over Warmup
// steps, then a decay to Floor, held afterwards. Steps count from 0. The
// warm-up starts at WarmupFrom·Peak and reaches Peak at step Warmup; with
// WarmupFrom 0 it goes from Peak/Warmup at step 0 to Peak at step
// Warmup−1.
type Schedule struct {
	Peak, Floor   float64
	Warmup, Total int
	Kind          DecayKind
	WarmupFrom    float64
	// Plateau is the share of the steps after warm-up held at Peak by
	// DecayPlateauLinear.
	Plateau float64
}

// LR is the learning rate at step.
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		if s.WarmupFrom > 0 {
			return s.Peak * (s.WarmupFrom + (1-s.WarmupFrom)*float64(step)/float64(s.Warmup))
		}
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	if s.Kind == DecayConstant || s.Total <= s.Warmup {
		return s.Peak
	}
	if s.Kind == DecayPlateauLinear {
		span := s.Total - 1 - s.Warmup
		if span <= 0 {
			return s.Peak
		}
		p := math.Min(1, float64(step-s.Warmup)/float64(span))
		if p < s.Plateau {
			return s.Peak
		}
		return s.Floor + (s.Peak-s.Floor)*(1-p)/(1-s.Plateau)
	}
	p := math.Min(1, float64(step-s.Warmup)/float64(s.Total-s.Warmup))
	switch s.Kind {
	case DecayLinear:
		return s.Floor + (s.Peak-s.Floor)*(1-p)
	default:
		return s.Floor + (s.Peak-s.Floor)*0.5*(1+math.Cos(math.Pi*p))
	}
}
