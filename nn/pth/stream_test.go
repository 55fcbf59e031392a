package pth

import (
	"archive/zip"
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamAll reads every tensor of the root state dict with StreamTensor in
// pieces of chunk elements and reassembles each one's bytes.
func streamAll(c *Checkpoint, chunk int) (map[string][]byte, error) {
	sd, err := c.Find("")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for i, r := range sd.Refs {
		es := int64(r.storage.typ.size)
		got := make([]byte, r.NumElements()*es)
		err := c.StreamTensor(r, make([]byte, chunk*int(es)), func(raw []byte, first int64) error {
			if len(raw) > chunk*int(es) && r.whole() {
				return assert.AnError // a whole storage must come in pieces
			}
			copy(got[first*es:], raw)
			return nil
		})
		if err != nil {
			return nil, err
		}
		out[sd.Names[i]] = got
	}
	return out, nil
}

func fromFixture(name string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		b, err := os.ReadFile(fixture(name))
		require.NoError(t, err)
		return b
	}
}

func TestStreamTensor(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, sampleTensors(), WriteOptions{}))
	written := buf.Bytes()
	tests := []struct {
		name  string
		file  func(t *testing.T) []byte
		chunk int
	}{
		{"pieces of one element", func(*testing.T) []byte { return written }, 1},
		{"pieces of 1000 elements", func(*testing.T) []byte { return written }, 1000},
		{"one piece per tensor", func(*testing.T) []byte { return written }, 1 << 20},
		{"views of a shared storage (torch.save)", fromFixture("state.pth"), 2},
		{"legacy format (no CRC)", fromFixture("state_legacy.pth"), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file(t)
			c, err := NewReader(bytes.NewReader(file), int64(len(file)))
			require.NoError(t, err)
			sd, err := c.Find("")
			require.NoError(t, err)
			want, err := c.Tensors(sd)
			require.NoError(t, err)
			got, err := streamAll(c, tc.chunk)
			require.NoError(t, err)
			for _, w := range want {
				assert.Equal(t, w.Raw, got[w.Name], w.Name)
			}
		})
	}
}

func TestStreamTensorDamaged(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, []Tensor{{Name: "w", DType: "F32", Shape: []int{40}, Raw: make([]byte, 160)}}, WriteOptions{}))
	file := buf.Bytes()
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	off, err := zr.File[2].DataOffset() // data.pkl, byteorder, data/0
	require.NoError(t, err)
	file[off+150] ^= 1 // in the last piece
	for _, chunk := range []int{1, 7, 40} {
		c, err := NewReader(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		_, err = streamAll(c, chunk)
		assert.ErrorContains(t, err, `storage "0": CRC-32`, "chunk %d", chunk)
	}
}
