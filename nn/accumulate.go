package nn

// GradAccumulator spreads one optimiser step over Micro micro-batches:
// gradients add up in each parameter across backward passes, each
// micro-batch loss is scaled by Scale so the sum is a mean, and Done says
// when to step (then clear the gradients).
type GradAccumulator struct {
	Micro int
	count int
}

// Scale is the factor to multiply each micro-batch loss by (1/Micro).
func (a *GradAccumulator) Scale() float32 { return 1 / float32(max(a.Micro, 1)) }

// Done records one backward pass and reports whether the accumulated
// gradient is complete, resetting the count when it is.
func (a *GradAccumulator) Done() bool {
	a.count++
	if a.count >= max(a.Micro, 1) {
		a.count = 0
		return true
	}
	return false
}
