package bench

// List returns the suite's cases: its GPU cases when gpuShapes is set and
// it has them, else Cases.
func (s Suite) List(quick, gpuShapes bool) ([]Case, error) {
	if gpuShapes && s.GPUCases != nil {
		return s.GPUCases(quick)
	}
	return s.Cases(quick)
}
