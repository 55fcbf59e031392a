package cpu

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestScratchIsPerBackend(t *testing.T) {
	tests := []struct {
		name  string
		n     int  // elements
		large bool // from the storage pool
	}{
		{"small", 1000, false},
		{"large", 1 << 20, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b1, b2 := New(), New()
			buf := b1.scratch(scratchConvCol, tc.n)
			require.Len(t, buf.data, tc.n)
			assert.Zero(t, uintptr(unsafe.Pointer(unsafe.SliceData(buf.data)))%64, "data starts on a 64-byte boundary")
			data := buf.data
			if tc.large {
				assert.Positive(t, b1.MemStats().LiveBytes, "a large buffer is a storage of the backend's pool")
				assert.Zero(t, b2.MemStats().LiveBytes)
			}
			b1.putScratch(buf)
			assert.Zero(t, b1.MemStats().LiveBytes, "a large buffer goes back to the pool with the call")

			other := b2.scratch(scratchConvCol, tc.n)
			assert.NotSame(t, buf, other, "another backend's scratch is not handed out")
			assert.NotSame(t, &data[0], &other.data[0], "another backend's memory is not handed out")
			b2.putScratch(other)

			again := b1.scratch(scratchConvCol, tc.n)
			assert.Same(t, buf, again, "a backend's buffer is handed out again")
			if !tc.large {
				assert.Same(t, &data[0], &again.data[0], "a small buffer keeps its memory")
			}
			b1.putScratch(again)
		})
	}
}

// TestConvScratchLeavesWithTheCall runs an im2col convolution whose patch
// matrix is several MiB: it comes from the backend's storage pool (counted
// in the peak, not taken from the Go heap) and is given back when the call
// returns, the pool then holding no more than its bound.
func TestConvScratchLeavesWithTheCall(t *testing.T) {
	a := tensor.ConvArgs{N: 1, Cin: 16, H: 64, W: 64, Cout: 16, KH: 3, KW: 3, Stride: 1, Pad: 1, Hout: 64, Wout: 64}
	xs, ys, ck, hw := convSizes(a)
	colBytes := int64(4 * ck * hw)
	require.GreaterOrEqual(t, colBytes, int64(mapMin), "the patch matrix is a large scratch buffer")

	b := New()
	b.convPath = -1 // im2col
	x, w, y := b.Alloc(xs), b.Alloc(a.Cout*ck), b.Alloc(ys)
	before := b.MemStats()
	b.ResetPeak()
	var heap0, heap1 runtime.MemStats
	runtime.ReadMemStats(&heap0)
	b.Conv2d(a, tensor.Span{Buf: y}, tensor.Span{Buf: x}, tensor.Span{Buf: w}, tensor.Span{})
	runtime.ReadMemStats(&heap1)
	after := b.MemStats()

	assert.GreaterOrEqual(t, after.PeakBytes-before.LiveBytes, colBytes, "the patch matrix counts in the peak")
	assert.Equal(t, before.LiveBytes, after.LiveBytes, "no scratch is live after the call")
	assert.Less(t, int64(heap1.TotalAlloc-heap0.TotalAlloc), colBytes/2, "the patch matrix is not Go heap")
	assert.LessOrEqual(t, after.ReservedBytes, after.PeakBytes+poolSlack, "the pool holds at most its bound")
	for _, s := range []tensor.Storage{x, w, y} {
		b.Free(s)
	}
}
