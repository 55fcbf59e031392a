// Package gpu holds the kernels of tensor.Backend for the backends that run
// sargo's GLSL compute shaders (kernels/vulkan/shaders): Vulkan and OpenGL.
//
// A kernel here checks for empty work, packs its arguments into the
// shader's push constants, chooses the shader variant (specialization
// constants: the op, tile sizes, transposes, workgroup size) and the
// workgroup count, and hands the dispatch to its Device. The Device owns
// everything that differs between the APIs: memory, pipelines or programs,
// barriers, submission and the sticky error. One copy of this code serves
// both backends, so a kernel change reaches both.
//
// Layering: it imports tensor only; the Vulkan and OpenGL backends import
// it, never the reverse, and it never imports autograd, nn or sar.
package gpu

import "sargo/tensor"

// Binding is one storage buffer of a dispatch: the whole storage, bound at
// the binding index equal to its position in the dispatch's list. Element
// offsets travel in the push constants.
type Binding struct {
	Storage tensor.Storage
	Write   bool // written (or read and written) by the shader
}

// read binds s read-only.
func read(s tensor.Storage) Binding { return Binding{Storage: s} }

// write binds s for writing (or reading and writing).
func write(s tensor.Storage) Binding { return Binding{Storage: s, Write: true} }

// Device is the API side of a GPU backend: the functions its kernels call.
type Device struct {
	// Launch records one dispatch of the shader shaders/<name>.comp. spec
	// are its specialization constants (constant_id i = spec[i], uint32 bit
	// patterns); push points to a struct whose fields are all 4 bytes wide
	// (uint32, int32, float32, or arrays of them), at most 128 bytes, the
	// shader's push constants in field order; groups is the workgroup
	// count; bufs are bound at bindings 0..len(bufs)-1. Errors become the
	// device's sticky error.
	Launch func(name string, spec []uint32, push any, groups [3]uint32, bufs ...Binding)
	// Alloc returns a storage of n elements with undefined content (see
	// tensor.Backend.Alloc).
	Alloc func(n int) tensor.Storage
	// Free returns a storage to the device.
	Free func(s tensor.Storage)
	// Fail records err as the device's sticky error if it has none.
	Fail func(err error)
}

// Features are the properties of a device that choose kernel variants.
type Features struct {
	SubgroupSize            uint32    // invocations per subgroup
	SubgroupArithmetic      bool      // subgroupAdd and friends in the compute stage
	SubgroupShuffle         bool      // subgroupShuffleXor and friends in the compute stage
	MaxWorkgroupInvocations uint32    // invocations per workgroup
	MaxWorkgroupSize        [3]uint32 // workgroup size per dimension
	MaxSharedMemory         uint32    // shared memory per workgroup, bytes
}

// Options force kernel variants, for testing each path.
type Options struct {
	// NoSubgroups selects the shared-memory variants of kernels that
	// otherwise use subgroup operations.
	NoSubgroups bool
	// NoVec4 makes matmul load its operands one float at a time even when
	// they are aligned for vec4 loads.
	NoVec4 bool
}

// Kernels implements the compute methods of tensor.Backend (every method
// but Name, Describe, Alloc, Free, Write, Read, Sync and Err) on a Device.
// A backend embeds it. Kernels may be called from one goroutine at a time.
type Kernels struct {
	dev         Device
	info        Features
	noSubgroups bool
	noVec4      bool
}

// New returns the kernels of dev, whose properties are info.
func New(dev Device, info Features, opt Options) *Kernels {
	return &Kernels{dev: dev, info: info, noSubgroups: opt.NoSubgroups, noVec4: opt.NoVec4}
}

// launch hands one dispatch to the device (see Device.Launch).
func (b *Kernels) launch(name string, spec []uint32, push any, groups [3]uint32, bufs ...Binding) {
	b.dev.Launch(name, spec, push, groups, bufs...)
}

// maxGroups is the per-dimension workgroup count every device supports
// (the Vulkan and OpenGL minimum); shaders loop over larger grids.
const maxGroups = 65535

// groups1D is the workgroup count for n items at local items per group,
// capped at 65535 groups: shaders walk the rest with a grid-stride loop.
func groups1D(n, local int) [3]uint32 {
	g := (n + local - 1) / local
	return [3]uint32{uint32(min(max(g, 1), maxGroups)), 1, 1}
}
