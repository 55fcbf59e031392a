package opengl

import (
	"encoding/binary"
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStd140Layout(t *testing.T) {
	type elt struct { // shaders/strided.glsl
		Off         [4]uint32
		N           uint32
		Shape       [4]uint32
		Stride      [16]uint32
		Alpha, Beta float32
	}
	type flat struct {
		A, B  uint32
		C     int32
		Scale float32
		D     uint32
	}
	tests := []struct {
		name    string
		typ     reflect.Type
		size    int
		offsets []int
	}{
		{"scalars pack at 4 bytes", reflect.TypeOf(flat{}), 32, []int{0, 4, 8, 12, 16}},
		{"array elements every 16 bytes", reflect.TypeOf(elt{}), 416, []int{0, 64, 80, 144, 400, 404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := std140Layout(tt.typ)
			require.NoError(t, err)
			assert.Equal(t, tt.size, l.size)
			var got []int
			for _, f := range l.fields {
				got = append(got, f.dst)
			}
			assert.Equal(t, tt.offsets, got)
		})
	}
}

func TestStd140Pack(t *testing.T) {
	type push struct {
		Off   [2]uint32
		N     uint32
		Alpha float32
	}
	p := push{Off: [2]uint32{7, 9}, N: 5, Alpha: 1.5}
	l, err := std140Layout(reflect.TypeOf(p))
	require.NoError(t, err)
	dst := make([]byte, l.size)
	l.pack(dst, unsafe.Pointer(&p))
	u := func(off int) uint32 { return binary.NativeEndian.Uint32(dst[off:]) }
	assert.Equal(t, uint32(7), u(0))
	assert.Equal(t, uint32(9), u(16))
	assert.Equal(t, uint32(5), u(32))
	assert.Equal(t, uint32(0x3fc00000), u(36))
	assert.Equal(t, 48, l.size)
}

func TestStd140LayoutRejects(t *testing.T) {
	type bad struct {
		A uint64
	}
	_, err := std140Layout(reflect.TypeOf(bad{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "field A is uint64")
	_, err = std140Layout(reflect.TypeOf(3))
	assert.ErrorContains(t, err, "want a struct")
}
