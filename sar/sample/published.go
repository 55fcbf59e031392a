package sample

import "sargo/sar/schedule"

// InferenceGCPercent is the garbage collector's percent (GOGC) that
// generation with a released-size model should run under on the CPU
// backend, whose tensors are Go memory: a FlexVAR d16 allocates some 4 GB
// of short-lived activations per image, which under the default of 100
// lets the heap, and the memory the runtime keeps, reach several times the
// 1.5 GB of weights. The weights hold no pointers, so a collection costs
// little and a small percent keeps the peak near the weights' size.
const InferenceGCPercent = 20

// Published returns the settings with which the authors evaluate their
// released FlexVAR / SAR models on ImageNet 256 (SAR's eval_c2i.py and
// scripts/eval_SAR_d*.sh): the 10-scale list up to 16, top-k 900, top-p
// 0.95, and CFG 2.2, 2.6 or 3.3 for depth 16, 20 or 24 (other depths take
// the value of the nearest of these).
func Published(depth int) Options {
	cfg := float32(2.2)
	switch {
	case depth >= 22:
		cfg = 3.3
	case depth >= 18:
		cfg = 2.6
	}
	return Options{Schedule: schedule.VARList(16), CFG: cfg, TopK: 900, TopP: 0.95, Temperature: 1}
}
