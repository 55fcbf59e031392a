package vulkan

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

func TestElapsedMasksToValidBits(t *testing.T) {
	for _, tc := range []struct {
		a, b uint64
		bits uint32
		want uint64
	}{
		{10, 25, 64, 15},
		{10, 25, 36, 15},
		{1<<36 - 5, 3, 36, 8},                   // the 36-bit counter wrapped
		{0xffff_ff00_0000_0010, 0x20, 36, 0x10}, // bits above the valid ones are garbage
		{1<<63 + 7, 1<<63 + 9, 0, 2},            // 0: treated as 64
	} {
		assert.Equal(t, tc.want, elapsed(tc.a, tc.b, tc.bits), "%+v", tc)
	}
}

// TestProfileCountsDeviceTime checks that profiling adds each shader's
// device time to the counters, so a caller can take it per step.
func TestProfileCountsDeviceTime(t *testing.T) {
	var table bytes.Buffer
	b, err := Open(0, Options{Profile: true, Validation: true, ProfileOutput: &table})
	skipOrFail(t, err)
	if b.prof == nil {
		b.Close() //nolint:errcheck
		t.Skip("device has no compute timestamps")
	}
	x := tensor.FromSlice(b, randData(4096, 1), 4096)
	before := b.Counters()
	for range 4 {
		b.Unary(tensor.OpExp, x.View(), x.View(), 0, 0)
	}
	require.NoError(t, b.Sync())
	d := b.Counters().Sub(before)
	assert.Equal(t, uint64(4), d.ByShader["unary"])
	assert.Positive(t, d.DeviceTime["unary"])
	require.NoError(t, b.Close())
	assert.Empty(t, b.ValidationMessages())
	assert.Contains(t, table.String(), "dispatches serialised")
}

// TestTrace records a Chrome trace of a few ops and checks that every
// dispatch appears on both the host and the device track.
func TestTrace(t *testing.T) {
	b := openValidated(t)
	if b.prof == nil {
		t.Skip("device has no compute timestamps")
	}
	x := tensor.FromSlice(b, randData(1024, 1), 32, 32)
	require.NoError(t, b.Sync())
	require.NoError(t, b.StartTrace())
	y := tensor.MatMul(x, x, false, false)
	tensor.Sigmoid(y)
	var buf bytes.Buffer
	require.NoError(t, b.StopTrace(&buf))
	var tr struct {
		TraceEvents []traceEvent `json:"traceEvents"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &tr))
	count := map[string]int{}
	for _, e := range tr.TraceEvents {
		if e.Ph != "X" {
			continue
		}
		count[e.Cat+"/"+e.Name]++
		assert.GreaterOrEqual(t, e.TS, 0.0, "%+v", e)
		assert.GreaterOrEqual(t, e.Dur, 0.0, "%+v", e)
	}
	for _, name := range []string{"matmul", "unary"} {
		assert.Equal(t, 1, count["host/"+name], name)
		assert.Equal(t, 1, count["device/"+name], name)
	}
	assert.Positive(t, count["host/submit"])
	require.Error(t, b.StopTrace(&buf), "no trace is recorded any more")
	assert.False(t, b.prof.active(), "timestamps stop with the trace")
}
