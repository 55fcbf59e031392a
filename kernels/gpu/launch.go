package gpu

import (
	"fmt"
	"reflect"
	"unsafe"
)

// MaxSpec is the most specialization constants a dispatch may carry, and
// MaxPush the most bytes of push constants.
const (
	MaxSpec = 16
	MaxPush = 128
)

// Dispatch is one launch of the shader shaders/<Name>.comp: its
// specialization constants (constant_id i = Spec[i], uint32 bit patterns),
// its push constants (the bytes of a struct whose fields are all 4 bytes
// wide: uint32, int32, float32 or arrays of them, in the shader's block
// order), the workgroup count, and the storages bound at bindings
// 0..NBuf-1. Everything is held by value, so that recording a dispatch
// allocates nothing.
type Dispatch struct {
	Name     string
	Spec     [MaxSpec]uint32
	NSpec    int
	Push     [MaxPush]byte
	PushSize int
	// PushType is the push-constant struct's type, for a backend that
	// lays the fields out by other rules (OpenGL's std140 uniform block);
	// nil without push constants.
	PushType reflect.Type
	Groups   [3]uint32
	Bufs     [MaxBindings]Binding
	NBuf     int
	// Subgroup is the subgroup size the pipeline requires, 0 for the
	// device's own (see Tuning.Subgroup); a backend that cannot fix it
	// ignores it.
	Subgroup uint32
}

// SpecConstants is Spec[:NSpec].
func (d *Dispatch) SpecConstants() []uint32 { return d.Spec[:d.NSpec] }

// Bindings is Bufs[:NBuf].
func (d *Dispatch) Bindings() []Binding { return d.Bufs[:d.NBuf] }

// SetDispatch fills d with one dispatch of shader name: spec, *push (a
// struct of 4-byte fields), groups and bufs are copied into it.
func SetDispatch[P any](d *Dispatch, name string, spec []uint32, push *P, groups [3]uint32, bufs ...Binding) {
	size := int(unsafe.Sizeof(*push))
	if len(spec) > MaxSpec || size > MaxPush || len(bufs) > MaxBindings {
		panic(fmt.Sprintf("gpu: launch %s: %d specialization constants, %d bytes of push constants and %d bindings exceed %d, %d and %d",
			name, len(spec), size, len(bufs), MaxSpec, MaxPush, MaxBindings))
	}
	d.Name = name
	d.NSpec = copy(d.Spec[:], spec)
	d.PushSize = copy(d.Push[:], unsafe.Slice((*byte)(unsafe.Pointer(push)), size))
	d.PushType = reflect.TypeFor[P]()
	d.Groups = groups
	d.NBuf = copy(d.Bufs[:], bufs)
	d.Subgroup = 0
}

// launch hands one dispatch of shader name to b's device (see
// SetDispatch), through b's reused Dispatch.
func launch[P any](b *Kernels, name string, spec []uint32, push *P, groups [3]uint32, bufs ...Binding) {
	launchSized(b, 0, name, spec, push, groups, bufs...)
}

// launchSized is launch with a required subgroup size (0: the device's
// own), for the kernels tuned for subgroups of tunedSubgroup invocations.
func launchSized[P any](b *Kernels, subgroup uint32, name string, spec []uint32, push *P, groups [3]uint32, bufs ...Binding) {
	d := &b.disp
	SetDispatch(d, name, spec, push, groups, bufs...)
	d.Subgroup = subgroup
	b.dev.Launch(d)
	clear(d.Bufs[:d.NBuf]) // hold no storage beyond the call
}
