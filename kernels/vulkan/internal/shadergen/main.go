// Command shadergen compiles kernels/vulkan/shaders/*.comp to SPIR-V with
// glslc and checks the result with spirv-val. It runs from go generate in
// kernels/vulkan; the .spv files it writes are committed.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Flags are the glslc flags every shader is compiled with; the stale-.spv
// test in kernels/vulkan uses the same.
var flags = []string{"-O", "--target-env=vulkan1.1"}

func main() {
	if err := run("shaders"); err != nil {
		fmt.Fprintln(os.Stderr, "shadergen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	srcs, err := filepath.Glob(filepath.Join(dir, "*.comp"))
	if err != nil {
		return err
	}
	for _, src := range srcs {
		out := strings.TrimSuffix(src, ".comp") + ".spv"
		args := append(append([]string{}, flags...), "-I", dir, "-o", out, src)
		if msg, err := exec.Command("glslc", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("glslc %s: %v\n%s", src, err, msg)
		}
		if msg, err := exec.Command("spirv-val", "--target-env", "vulkan1.1", out).CombinedOutput(); err != nil {
			return fmt.Errorf("spirv-val %s: %v\n%s", out, err, msg)
		}
	}
	fmt.Printf("shadergen: compiled %d shaders\n", len(srcs))
	return nil
}
