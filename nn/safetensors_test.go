package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleTensors() []STensor {
	return []STensor{
		NewSTensorF32("a.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		NewSTensorF32("b", []int{}, []float32{-7.5}),
		NewSTensorF32("empty", []int{0, 4}, nil),
	}
}

func encodeSafetensors(t testing.TB, ts []STensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensors(&buf, ts, meta))
	return buf.Bytes()
}

// rawFile builds a file from a literal header and data.
func rawFile(header string, data []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	meta := map[string]string{"step": "12", "config": `{"a":1}`}
	buf := encodeSafetensors(t, sampleTensors(), meta)
	assert.Zero(t, (8+int(binary.LittleEndian.Uint64(buf)))%8, "data starts aligned")
	f, err := ReadSafetensors(buf)
	require.NoError(t, err)
	assert.Equal(t, meta, f.Metadata)
	require.Len(t, f.Tensors, 3)
	for i, want := range sampleTensors() {
		got := f.Tensors[i]
		assert.Equal(t, want.Name, got.Name)
		assert.Equal(t, want.Shape, got.Shape)
		assert.Equal(t, want.Raw, got.Raw)
	}
	v, err := f.Tensors[0].Float32s()
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}, v)
}

func TestSafetensorsDTypes(t *testing.T) {
	tests := []struct {
		name  string
		dtype string
		raw   []byte
		want  []float32
	}{
		{"f16", "F16", []byte{0x00, 0x3c, 0x00, 0xc0}, []float32{1, -2}},
		{"bf16", "BF16", []byte{0x80, 0x3f, 0x40, 0xc0}, []float32{1, -3}},
		{"i64", "I64", []byte{5, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []float32{5, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := encodeSafetensors(t, []STensor{{Name: "x", DType: tc.dtype, Shape: []int{2}, Raw: tc.raw}}, nil)
			f, err := ReadSafetensors(buf)
			require.NoError(t, err)
			got, err := f.Tensors[0].Float32s()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSafetensorsRejectsCorrupt(t *testing.T) {
	good := encodeSafetensors(t, sampleTensors(), map[string]string{"k": "v"})
	f8 := make([]byte, 8)
	tests := []struct {
		name string
		buf  []byte
		msg  string
	}{
		{"empty", nil, "shorter than"},
		{"truncated data", good[:len(good)-4], "truncated"},
		{"truncated header", good[:20], "exceeds"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), "trailing"},
		{"huge header", func() []byte { b := append([]byte(nil), good...); binary.LittleEndian.PutUint64(b, 1<<40); return b }(), "out of range"},
		{"not object", rawFile(`[1,2]   `, nil), "does not start"},
		{"bad json", rawFile(`{"a":`, nil), "header"},
		{"duplicate", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f8[:4]), "duplicate"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}`, f8[:4]), "unknown dtype"},
		{"shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f8), "needs 12 bytes"},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f8[:4]), "negative"},
		{"offsets reversed", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, f8[:4]), "outside"},
		{"offsets out of range", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f8[:4]), "outside"},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f8), "gap"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f8), "overlaps"},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}`, f8[:4]), "data_offsets"},
		{"missing shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f8[:4]), "missing shape"},
		{"unknown field", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, f8[:4]), "unknown field"},
		{"bad metadata", rawFile(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"huge shape", rawFile(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}`, f8[:4]), "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSafetensors(tc.buf)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrCorrupt))
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestWriteSafetensorsRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		ts   []STensor
		msg  string
	}{
		{"duplicate", []STensor{NewSTensorF32("a", []int{1}, []float32{1}), NewSTensorF32("a", []int{1}, []float32{1})}, "duplicate"},
		{"empty name", []STensor{NewSTensorF32("", []int{1}, []float32{1})}, "invalid"},
		{"size", []STensor{NewSTensorF32("a", []int{2}, []float32{1})}, "bytes for shape"},
		{"dtype", []STensor{{Name: "a", DType: "X", Shape: []int{1}, Raw: []byte{1}}}, "unknown dtype"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteSafetensors(&bytes.Buffer{}, tc.ts, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestSafetensorsFileErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	require.NoError(t, WriteSafetensorsFile(path, sampleTensors(), nil))
	buf, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, buf[:len(buf)-1], 0o644))
	_, err = ReadSafetensorsFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
