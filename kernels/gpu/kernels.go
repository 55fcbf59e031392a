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
	// Launch records one dispatch (see Dispatch). Errors become the
	// device's sticky error. The kernels reuse d: the device must not
	// keep it, or anything it points to, after Launch returns.
	Launch func(d *Dispatch)
	// Alloc returns a storage of n elements with undefined content (see
	// tensor.Backend.Alloc).
	Alloc func(n int) tensor.Storage
	// Free returns a storage to the device.
	Free func(s tensor.Storage)
	// Fail records err as the device's sticky error if it has none.
	Fail func(err error)
	// Status returns a storage of StatusWords elements, zero when the
	// device was opened, that shaders write when they find bad input (ids
	// outside their table); the device reads it whenever a batch completes
	// and turns what it holds into its sticky error (StatusError).
	Status func() tensor.Storage
}

// Features are the properties of a device that choose kernel variants.
type Features struct {
	SubgroupSize            uint32    // invocations per subgroup
	SubgroupArithmetic      bool      // subgroupAdd and friends in the compute stage
	SubgroupShuffle         bool      // subgroupShuffleXor and friends in the compute stage
	MaxWorkgroupInvocations uint32    // invocations per workgroup
	MaxWorkgroupSize        [3]uint32 // workgroup size per dimension
	MaxSharedMemory         uint32    // shared memory per workgroup, bytes
	// MinSubgroupSize and MaxSubgroupSize are the subgroup sizes the
	// device can run, which a pipeline may fix when SubgroupSizeControl
	// is set.
	MinSubgroupSize, MaxSubgroupSize uint32
	SubgroupSizeControl              bool
}

// What the kernels need of a device; a backend refuses a device below
// them, naming the limit.
const (
	// MinWorkgroupInvocations is the fewest invocations per workgroup
	// (and in its first dimension) the kernels need: the Vulkan minimum.
	// The row, reduction and elementwise kernels run 256 where the device
	// allows, fewer otherwise (ChooseTuning); matmul's smaller tiling and
	// attention run 128.
	MinWorkgroupInvocations = 128
	// MaxBindings is the most storage buffers one kernel binds (the
	// attention backward's dK/dV kernel, and the multi-tensor kernels,
	// which bind all of them).
	MaxBindings = 11
	// MinSharedMemory is the shared memory the kernels use at most
	// without asking (the Vulkan minimum); larger tilings check
	// Features.MaxSharedMemory.
	MinSharedMemory = 16 << 10
)

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
	tune        Tuning   // workgroup and subgroup sizes for the device
	spec        specs    // tune's specialization constants
	disp        Dispatch // reused by every launch
}

// New returns the kernels of dev, whose properties are info.
func New(dev Device, info Features, opt Options) *Kernels {
	t := ChooseTuning(info)
	return &Kernels{dev: dev, info: info, noSubgroups: opt.NoSubgroups, noVec4: opt.NoVec4, tune: t, spec: t.specs()}
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
