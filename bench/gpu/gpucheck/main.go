// Command gpucheck is the Go half of bench/gpu/run.sh, the script that
// checks and measures sargo on a GPU machine without Go:
//
//	gpucheck profile [flags]   time a bench case's steps with the Vulkan
//	                           profiler: wall, GPU busy and idle time per
//	                           step, dispatches per step, host time per
//	                           dispatch, and the slowest shaders
//	gpucheck report WORKDIR    read what run.sh left in WORKDIR (phases.tsv,
//	                           test logs, bench and profile JSON) and write
//	                           summary.json and summary.md beside them
//
// Its test binary (go test -c) holds TestConformanceOnDevice, the
// conformance suite on the first Vulkan device with the validation layer
// only when SARGO_VULKAN_VALIDATION=1, as users run it.
//
// Layering: a command at the top of the stack, like cmd/sargo: it imports
// bench, tensor, the conformance suite and the Vulkan backend; no package
// imports it.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  gpucheck profile [--suite S] [--cases REGEXP] [--steps N] [--index I] [--quick] [--gpu-shapes] --json FILE
  gpucheck report [--peak-tflops T] WORKDIR`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "profile":
		err = profileCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Println(usage)
		return
	default:
		err = fmt.Errorf("unknown command %q\n%s", os.Args[1], usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
}
