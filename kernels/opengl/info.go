package opengl

import (
	"errors"
	"fmt"
)

// ErrNoLibrary is wrapped by errors when libEGL cannot be loaded.
var ErrNoLibrary = errors.New("no EGL library: install libegl1 and an OpenGL driver (apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri)")

// ErrNoDevice is wrapped by errors when EGL finds no device to run on.
var ErrNoDevice = errors.New("no OpenGL device: EGL found no driver (install libegl-mesa0 and libgl1-mesa-dri for Mesa's llvmpipe CPU driver, or your GPU's driver)")

// ErrOldDriver is wrapped by errors when the driver's OpenGL is older than
// 4.3, the first version with compute shaders.
var ErrOldDriver = errors.New("the OpenGL driver is older than 4.3, the first version with compute shaders")

// ErrNotBuilt is returned by every entry point of a binary built without
// the opengl tag.
var ErrNotBuilt = errors.New("this binary was built without the OpenGL backend: rebuild with `go build -tags opengl` (needs libegl-dev and libgl-dev; `make build` adds the tag when they are installed)")

// DeviceInfo describes one OpenGL device: what its driver reports and the
// limits the backend checks.
type DeviceInfo struct {
	Index    int    // opengl:Index
	Renderer string // GL_RENDERER
	Vendor   string // GL_VENDOR
	Version  string // GL_VERSION
	GLSL     string // GL_SHADING_LANGUAGE_VERSION
	Major    int    // context version
	Minor    int
	Platform string // the EGL platform: "device" or "surfaceless"
	EGL      string // EGL_VENDOR and EGL_VERSION
	Software bool   // a software renderer (EGL_MESA_device_software)
	DRMNode  string // the device's DRM node, if any
	Default  bool   // the device that opengl (no index) opens

	Robust             bool   // the context has robust buffer access
	VideoMemory        uint64 // dedicated video memory in bytes (GL_NVX_gpu_memory_info, GL_ATI_meminfo); 0 when the driver does not say
	SubgroupSize       uint32 // GL_KHR_shader_subgroup; 0 without it
	SubgroupArithmetic bool   // subgroup arithmetic in compute shaders

	MaxStorageBlockSize     uint64    // GL_MAX_SHADER_STORAGE_BLOCK_SIZE, bytes
	MaxStorageBlocks        uint32    // GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS
	MaxUniformBlockSize     uint32    // GL_MAX_UNIFORM_BLOCK_SIZE, bytes
	MaxSharedMemory         uint32    // GL_MAX_COMPUTE_SHARED_MEMORY_SIZE, bytes
	MaxWorkgroupInvocations uint32    // GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS
	MaxWorkgroupSize        [3]uint32 // GL_MAX_COMPUTE_WORK_GROUP_SIZE
	MaxWorkgroupCount       [3]uint32 // GL_MAX_COMPUTE_WORK_GROUP_COUNT
	StorageAlignment        uint32    // GL_SHADER_STORAGE_BUFFER_OFFSET_ALIGNMENT
	UniformAlignment        uint32    // GL_UNIFORM_BUFFER_OFFSET_ALIGNMENT
	BinaryFormats           int       // GL_NUM_PROGRAM_BINARY_FORMATS
}

// Kind is "software" or "GPU".
func (d DeviceInfo) Kind() string {
	if d.Software {
		return "software"
	}
	return "GPU"
}

// String is a one-line description.
func (d DeviceInfo) String() string {
	return fmt.Sprintf("%s (%s, OpenGL %s, EGL %s platform)", d.Renderer, d.Kind(), d.Version, d.Platform)
}
