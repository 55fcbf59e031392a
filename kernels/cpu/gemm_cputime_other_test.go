//go:build !unix

package cpu

// processCPUSeconds is not measured on this system; benchmarks then omit
// the per-processor-second metric.
func processCPUSeconds() float64 { return 0 }
