// Command shadergen compiles kernels/vulkan/shaders/*.comp to SPIR-V with
// glslc and checks the result with spirv-val, and writes the OpenGL
// version of each shader (translated by kernels/internal/gltranslate) to
// kernels/opengl/shaders. It runs from go generate in kernels/vulkan; the
// .spv and OpenGL files it writes are committed. With -gl it writes only
// the OpenGL files, which needs no shader tools. With -dir it compiles the
// shaders of another folder (an op added outside kernels/vulkan, loaded
// with vulkan.Backend.AddShader) with the same flags and checks, and
// writes no OpenGL versions:
//
//	//go:generate go run sargo/kernels/vulkan/internal/shadergen -dir .
//
// Layering: a generator run by go generate; it imports only
// kernels/internal/gltranslate.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"sargo/kernels/internal/gltranslate"
)

// Flags are the glslc flags every shader is compiled with; the stale-.spv
// test in kernels/vulkan uses the same.
var flags = []string{"-O", "--target-env=vulkan1.1"}

// glDir is where the OpenGL versions go, relative to kernels/vulkan.
const glDir = "../opengl/shaders"

func main() {
	glOnly := flag.Bool("gl", false, "write only the OpenGL versions of the shaders")
	dir := flag.String("dir", "", "compile `folder`/*.comp instead of shaders/, writing no OpenGL versions")
	flag.Parse()
	if *dir != "" {
		if err := compile(*dir); err != nil {
			fmt.Fprintln(os.Stderr, "shadergen:", err)
			os.Exit(1)
		}
		return
	}
	err := writeGL("shaders", glDir)
	if err == nil && !*glOnly {
		err = compile("shaders")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shadergen:", err)
		os.Exit(1)
	}
}

func compile(dir string) error {
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

// writeGL translates every shader of dir for OpenGL into out, writing only
// files that changed and removing those whose source is gone.
func writeGL(dir, out string) error {
	gl, err := gltranslate.Dir(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(out, "*.comp"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, keep := gl[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, text := range gl {
		path := filepath.Join(out, name)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, text) {
			continue
		}
		if err := os.WriteFile(path, text, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("shadergen: translated %d shaders for OpenGL\n", len(gl))
	return nil
}
