package nn

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn/pth"
)

// TestLoadStreams loads 32 MiB of float32 parameters from a PyTorch
// checkpoint and from safetensors, in several dtypes and in tensors larger
// than a piece: the values arrive converted and whole, and the Go heap
// allocations Load makes beside the parameters stay a small constant (its
// pieces), not the tensors' size (a copy in the stored dtype, one in
// float32 and one on the device per tensor before).
func TestLoadStreams(t *testing.T) {
	const rows, cols, n = 1024, 2048, 4 // 4 tensors of 8 MiB as float32, 8 pieces each
	const total = 4 * rows * cols * n
	tests := []struct {
		dtype, format string
	}{
		{"F32", "pytorch"}, {"F16", "pytorch"}, {"BF16", "pytorch"}, {"F32", "safetensors"},
	}
	for _, tc := range tests {
		t.Run(tc.dtype+" "+tc.format, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var ts []STensor
			var params []NamedParam
			var want [][]float32
			for i := range n {
				v := make([]float32, rows*cols)
				for j := range v {
					v[j] = float32(rng.IntN(256) - 128) // exact in every dtype
				}
				st := NewSTensorF32(string(rune('a'+i)), []int{rows, cols}, v)
				st.DType, st.Raw = tc.dtype, encode(t, tc.dtype, v)
				ts, want = append(ts, st), append(want, v)
				params = append(params, param(st.Name, rows, cols))
			}
			path := filepath.Join(t.TempDir(), "w."+tc.format)
			if tc.format == "pytorch" {
				pts := make([]pth.Tensor, len(ts))
				for i, st := range ts {
					pts[i] = pth.Tensor(st)
				}
				require.NoError(t, pth.WriteFile(path, pts, pth.WriteOptions{Key: "model"}))
			} else {
				require.NoError(t, WriteSafetensorsFile(path, ts, nil))
			}
			ts = nil
			sd, err := OpenStateDict(path, "")
			require.NoError(t, err)
			defer sd.Close()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			require.NoError(t, sd.Load(params, nil))
			runtime.ReadMemStats(&after)
			for i, p := range params {
				assert.Equal(t, want[i], values(t, p), p.Name)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(total/8), "Go heap allocated by Load of %d MiB: %d bytes", total>>20, allocated)
		})
	}
}

// encode writes v in dtype (values exact in it).
func encode(t *testing.T, dtype string, v []float32) []byte {
	t.Helper()
	switch dtype {
	case "F32":
		return NewSTensorF32("", []int{len(v)}, v).Raw
	case "F16", "BF16":
		raw := make([]byte, 2*len(v))
		for i, x := range v {
			h := uint16(math.Float32bits(x) >> 16) // exact: 8 significant bits
			if dtype == "F16" {
				h = halfOfInt(x)
			}
			binary.LittleEndian.PutUint16(raw[2*i:], h)
		}
		return raw
	}
	require.FailNow(t, "no encoder for "+dtype)
	return nil
}

// halfOfInt is the float16 of an integer of magnitude below 2048.
func halfOfInt(x float32) uint16 {
	var sign uint16
	if x < 0 {
		sign, x = 1<<15, -x
	}
	if x == 0 {
		return sign
	}
	e := 0
	for float32(int(1)<<(e+1)) <= x {
		e++
	}
	frac := uint16((x/float32(int(1)<<e) - 1) * 1024)
	return sign | uint16(e+15)<<10 | frac
}
