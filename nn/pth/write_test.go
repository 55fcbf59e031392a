package pth

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleTensors() []Tensor {
	return []Tensor{
		{Name: "a.weight", DType: "F32", Shape: []int{2, 3}, Raw: []byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64, 0, 0, 192, 64}},
		{Name: "b", DType: "F16", Shape: []int{3}, Raw: []byte{0, 0x3c, 0, 0x40, 0, 0xc0}},
		{Name: "c", DType: "BF16", Shape: []int{1, 1, 2}, Raw: []byte{0x80, 0x3f, 0x80, 0xbf}},
		{Name: "d", DType: "I64", Shape: []int{2}, Raw: []byte{1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{Name: "scalar", DType: "F32", Shape: []int{}, Raw: []byte{0, 0, 96, 64}},
		{Name: "empty", DType: "F32", Shape: []int{0, 5}, Raw: []byte{}},
		{Name: "big", DType: "F32", Shape: []int{70000}, Raw: make([]byte, 4*70000)},
	}
}

func TestWriteRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		opt  WriteOptions
	}{{"state dict at the root", WriteOptions{}}, {"state dict under a key", WriteOptions{Key: "model"}},
		{"state dict two levels down", WriteOptions{Key: "trainer.var_wo_ddp"}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := sampleTensors()
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, in, tc.opt))
			c, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			require.NoError(t, err)
			sd, err := c.Find("")
			require.NoError(t, err)
			assert.Equal(t, tc.opt.Key, sd.Path)
			out, err := c.Tensors(sd)
			require.NoError(t, err)
			require.Len(t, out, len(in))
			for i := range in {
				assert.Equal(t, in[i].Name, out[i].Name)
				assert.Equal(t, in[i].DType, out[i].DType)
				assert.Equal(t, len(in[i].Shape), len(out[i].Shape))
				if len(in[i].Shape) > 0 {
					assert.Equal(t, in[i].Shape, out[i].Shape)
				}
				assert.Equal(t, in[i].Raw, out[i].Raw, in[i].Name)
			}
			// The same tensors give the same bytes.
			var again bytes.Buffer
			require.NoError(t, Write(&again, in, tc.opt))
			assert.Equal(t, buf.Bytes(), again.Bytes())
		})
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.pth")
	require.NoError(t, WriteFile(path, sampleTensors()[:2], WriteOptions{}))
	c, err := Open(path)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "zip", c.Format)
	sd, err := c.Find("")
	require.NoError(t, err)
	assert.Equal(t, []string{"a.weight", "b"}, sd.Names)
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		t    []Tensor
		want string
	}{
		{"dtype", []Tensor{{Name: "x", DType: "F8_E4M3", Shape: []int{1}, Raw: []byte{0}}}, "no torch storage class"},
		{"size", []Tensor{{Name: "x", DType: "F32", Shape: []int{2}, Raw: []byte{0, 0, 0, 0}}}, "4 bytes for shape [2] of F32 (want 8)"},
		{"duplicate", []Tensor{{Name: "x", DType: "U8", Shape: []int{1}, Raw: []byte{1}}, {Name: "x", DType: "U8", Shape: []int{1}, Raw: []byte{1}}}, "duplicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, Write(&bytes.Buffer{}, tc.t, WriteOptions{}), tc.want)
		})
	}
}
