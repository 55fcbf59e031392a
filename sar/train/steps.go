package train

import "fmt"

// MaxSteps bounds a run's length. Step t draws its random numbers from
// offsets [t·2^32, (t+1)·2^32) of a 64-bit stream, so steps beyond 2^32
// would repeat earlier draws; 2^31 also keeps step counts within an
// int32.
const MaxSteps = 1 << 31

// runLength is the run length for a dataset of n images (Config.TotalSteps),
// or an error when it exceeds MaxSteps, including when Epochs × the steps
// of an epoch overflows.
func runLength(c Config, n int) (int, error) {
	if c.Steps > 0 {
		if c.Steps > MaxSteps {
			return 0, fmt.Errorf("trainer: %d steps: want at most %d", c.Steps, MaxSteps)
		}
		return c.Steps, nil
	}
	perEpoch := max(1, n/max(c.Batch, 1))
	if c.Epochs > MaxSteps/perEpoch {
		return 0, fmt.Errorf("trainer: %d epochs of %d steps (%d images, batch %d) exceed the %d-step limit",
			c.Epochs, perEpoch, n, c.Batch, MaxSteps)
	}
	return c.TotalSteps(n), nil
}
