package vulkan

import (
	"bytes"
	"fmt"

	"sargo/kernels/gpu"
)

// AddShader makes the SPIR-V module code launchable under name: the way a
// compute kernel written outside this package (an op that a program adds
// on top of the library) reaches the device. The module follows the
// conventions of shaders/README.md (entry point main, storage buffers in
// set 0, push constants of at most 128 bytes) and is checked by the driver
// when its first pipeline is created. The name cannot be one of the
// embedded shaders; adding the same code under a name again does nothing,
// and other code under an added name is an error.
func (b *Backend) AddShader(name string, code []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := shaderFS.Open("shaders/" + name + ".spv"); err == nil {
		return fmt.Errorf("vulkan: add shader %s: an embedded shader has that name", name)
	}
	if old, dup := b.pipes.added[name]; dup {
		if bytes.Equal(old, code) {
			return nil
		}
		return fmt.Errorf("vulkan: add shader %s: other code was added under that name", name)
	}
	if len(code) == 0 || len(code)%4 != 0 {
		return fmt.Errorf("vulkan: add shader %s: %d bytes is not a SPIR-V module (a positive multiple of 4)", name, len(code))
	}
	b.pipes.added[name] = append([]byte(nil), code...)
	return nil
}

// Launch records one dispatch of an embedded or added shader, as every
// kernel of kernels/gpu does: d names the shader and holds its
// specialization constants, push constants, workgroup counts and
// bindings (fill it with gpu.SetDispatch). Errors become the backend's
// sticky error.
func (b *Backend) Launch(d *gpu.Dispatch) { b.launch(d) }
