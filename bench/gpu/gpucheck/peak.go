package main

import "strings"

// peakEntry is a GPU's fp32 peak without tensor cores (FMA on the CUDA
// cores at boost clock), from its vendor's datasheet.
type peakEntry struct {
	// Match is a substring of the device name, such as Vulkan's
	// "NVIDIA H200" or nvidia-smi's "NVIDIA H100 80GB HBM3".
	Match  string
	TFLOPS float64
}

// peakTable lists fp32 peaks by device name, the more specific names
// first ("H100 PCIe" before "H100"). The figures are datasheet values, not
// measurements; a run measures its own practical peak as the best cuBLAS
// fp32 GEMM rate of the same run.
var peakTable = []peakEntry{
	{"H200 NVL", 60},
	{"GH200", 67},
	{"H200", 67}, // SXM
	{"H100 PCIe", 51},
	{"H100 NVL", 60},
	{"H100", 67}, // SXM
	{"A100", 19.5},
	{"L40S", 91.6},
	{"L40", 90.5},
	{"L4", 30.3},
	{"A10", 31.2},
	{"RTX 4090", 82.6},
	{"V100", 15.7}, // SXM2
	{"T4", 8.1},
}

// datasheetPeak returns the fp32 peak (TFLOP/s) of the first table entry
// whose name device contains, and the entry's name.
func datasheetPeak(device string) (float64, string, bool) {
	d := strings.ToUpper(device)
	for _, e := range peakTable {
		if strings.Contains(d, strings.ToUpper(e.Match)) {
			return e.TFLOPS, e.Match, true
		}
	}
	return 0, "", false
}
