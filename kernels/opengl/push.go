package opengl

import (
	"fmt"
	"reflect"
	"unsafe"
)

// The push constants of a kernel are a Go struct of 4-byte fields (uint32,
// int32, float32, or arrays of them) that mirrors the shader's push-constant
// block. Vulkan copies its bytes as they are (push-constant blocks use
// std430 rules, which match Go's layout of such a struct); OpenGL has no
// push constants, so gltranslate turns the block into a std140 uniform
// block, in which each array element takes 16 bytes. pushLayout moves the
// fields to their std140 offsets.

// pushLayout is the std140 layout of one push-constant struct type.
type pushLayout struct {
	size   int // bytes, a multiple of 16
	fields []pushField
}

// pushField is one field: n 4-byte elements at src in the Go struct,
// stride bytes apart from dst in the std140 block.
type pushField struct {
	name   string
	src    uintptr
	dst    int
	n      int
	stride int
}

// std140Layout lays out struct type t by std140 rules.
func std140Layout(t reflect.Type) (*pushLayout, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("push constants of type %s: want a struct", t)
	}
	l := &pushLayout{}
	off := 0
	for i := range t.NumField() {
		f := t.Field(i)
		switch k := f.Type.Kind(); {
		case scalar4(k):
			l.fields = append(l.fields, pushField{name: f.Name, src: f.Offset, dst: off, n: 1, stride: 4})
			off += 4
		case k == reflect.Array && scalar4(f.Type.Elem().Kind()):
			off = alignUp(off, 16) // an array's base alignment is a vec4's
			l.fields = append(l.fields, pushField{name: f.Name, src: f.Offset, dst: off, n: f.Type.Len(), stride: 16})
			off += 16 * f.Type.Len()
		default:
			return nil, fmt.Errorf("push constants of type %s: field %s is %s; want uint32, int32, float32 or an array of them", t, f.Name, f.Type)
		}
	}
	l.size = alignUp(off, 16)
	return l, nil
}

func scalar4(k reflect.Kind) bool {
	return k == reflect.Uint32 || k == reflect.Int32 || k == reflect.Float32
}

func alignUp(x, a int) int { return (x + a - 1) / a * a }

// pack writes the struct at src into dst (at least l.size bytes) in
// std140 layout. Bytes between fields are left as they are.
func (l *pushLayout) pack(dst []byte, src unsafe.Pointer) {
	_ = dst[l.size-1]
	base := unsafe.Pointer(&dst[0])
	for _, f := range l.fields {
		for k := range f.n {
			*(*uint32)(unsafe.Add(base, f.dst+k*f.stride)) = *(*uint32)(unsafe.Add(src, f.src+uintptr(4*k)))
		}
	}
}
