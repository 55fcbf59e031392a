package vulkan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vk "github.com/vulkan-go/vulkan"

	"sargo/kernels/check"
	"sargo/tensor"
)

// openDiscrete opens a validated backend in MemoryDiscrete: storage in
// device-local memory the host does not map, as on a discrete GPU.
func openDiscrete(t *testing.T) *Backend {
	t.Helper()
	b, err := Open(0, Options{Validation: true, Memory: MemoryDiscrete, BatchLimit: 16})
	skipOrFail(t, err)
	require.Nil(t, b.pool.blocks, "no block before the first allocation")
	t.Cleanup(func() {
		require.NoError(t, b.Close())
		require.Empty(t, b.ValidationMessages(), "validation messages")
	})
	return b
}

func TestDiscretePath(t *testing.T) {
	b := openDiscrete(t)
	require.False(t, b.pool.mapped)
	require.Equal(t, MemoryDiscrete, b.mode)
	cb := cpuBackend()
	da, db := randData(37*29, 1), randData(29*41, 2)
	var outs [2][]float32
	for i, be := range []tensor.Backend{b, cb} {
		x := tensor.FromSlice(be, da, 37, 29)
		w := tensor.FromSlice(be, db, 29, 41)
		y := tensor.Empty(be, 37, 41)
		be.MatMul(tensor.MatMulArgs{Batch: 1, M: 37, N: 41, K: 29, A: x.Span(), B: w.Span(), C: y.Span(), Alpha: 1})
		z := tensor.Zeros(be, 41, 37)
		be.Binary(tensor.OpAdd, z.View(), z.View(), y.Transpose(0, 1).View())
		// Overwrite part of an input after it was used: the first matmul
		// must still see the old values.
		be.Write(x.Span().Buf, 5, []float32{9, 9, 9})
		be.MatMul(tensor.MatMulArgs{Batch: 1, M: 37, N: 41, K: 29, A: x.Span(), B: w.Span(), C: y.Span(), Alpha: 1, Beta: 1})
		s := tensor.Empty(be, 41)
		be.Reduce(tensor.ReduceSum, s.Span(), z.Span(), 41, 37, 1)
		outs[i] = append(append(z.Data(), y.Data()...), s.Data()...)
	}
	requireClose(t, outs[1], outs[0], 1e-5, "discrete")
	assert.Positive(t, b.upload.stats.DriverAllocations, "uploads go through staging")
	assert.Positive(t, b.readback.stats.DriverAllocations, "read-backs go through staging")
	c := b.Counters()
	assert.Positive(t, c.Copies, "vkCmdCopyBuffer for every transfer")
}

// TestDiscreteConformance runs the conformance suite in MemoryDiscrete
// (SARGO_VULKAN_MEMORY=discrete runs every test in it).
func TestDiscreteConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite runs once more in the default memory mode")
	}
	b := openDiscrete(t)
	check.Run(t, b)
	require.NoError(t, b.Sync())
}

func TestMemoryModeFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want MemoryMode
		err  string
	}{{"", MemoryAuto, ""}, {"auto", MemoryAuto, ""}, {"discrete", MemoryDiscrete, ""}, {"mapped", MemoryMapped, ""},
		{"vram", 0, `SARGO_VULKAN_MEMORY="vram": want auto, mapped or discrete`}} {
		t.Setenv("SARGO_VULKAN_MEMORY", tc.env)
		got, err := memoryModeFromEnv()
		if tc.err != "" {
			require.EqualError(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.env)
	}
	t.Setenv("SARGO_VULKAN_MEMORY", "discrete")
	b, err := Open(0, Options{})
	skipOrFail(t, err)
	defer b.Close() //nolint:errcheck
	assert.Equal(t, MemoryDiscrete, b.mode)
	assert.Contains(t, b.Describe(), "memory discrete")
	t.Setenv("SARGO_VULKAN_MEMORY", "vram")
	_, err = Open(0, Options{})
	require.ErrorContains(t, err, "SARGO_VULKAN_MEMORY")
}

func TestChooseMemoryMode(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		want MemoryMode
		got  MemoryMode
		err  bool
	}{
		{"integrated", MemoryAuto, MemoryMapped, false},
		{"cpu", MemoryAuto, MemoryMapped, false},
		{"discrete", MemoryAuto, MemoryDiscrete, false},
		{"virtual", MemoryAuto, MemoryDiscrete, false},
		{"integrated", MemoryDiscrete, MemoryDiscrete, false},
		{"discrete", MemoryMapped, 0, true},
	} {
		got, err := chooseMemoryMode(tc.want, DeviceInfo{Name: "gpu", Type: tc.typ})
		if tc.err {
			require.Error(t, err, "%s %s", tc.typ, tc.want)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.got, got, "%s %s", tc.typ, tc.want)
	}
}

// TestCandidateTypes places each pool on a discrete GPU with resizable BAR
// (a device-local type the host can map), a plain system-memory type and
// a cached one: storages only ever in device-local memory, uploads in
// system memory, read-backs in cached memory.
func TestCandidateTypes(t *testing.T) {
	const (
		dl = vk.MemoryPropertyDeviceLocalBit
		hv = vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit
		hc = vk.MemoryPropertyHostCachedBit
	)
	types := []memoryType{{flags: dl, heap: 0}, {flags: hv, heap: 1}, {flags: hv | hc, heap: 1}, {flags: dl | hv, heap: 0}}
	all := uint32(0b1111)
	assert.Equal(t, []uint32{0, 3}, candidateTypes(poolDevice, types, all), "storages: device-local only, never system memory")
	assert.Equal(t, []uint32{1, 2, 3}, candidateTypes(poolUpload, types, all), "uploads: system memory first")
	assert.Equal(t, []uint32{2, 1, 3}, candidateTypes(poolReadback, types, all), "read-backs: cached first")
	assert.Equal(t, []uint32{3, 1, 2}, candidateTypes(poolMapped, types, all))
	assert.Equal(t, []uint32{3}, candidateTypes(poolDevice, types, 0b1000), "types the buffers refuse are skipped")
	// A discrete GPU whose device-local memory the buffers cannot use has
	// nowhere to put storages: allocation fails rather than use system
	// memory.
	assert.Empty(t, candidateTypes(poolDevice, types[1:3], all))
}

// TestMemoryExhausted fills the device memory a limit allows: the next
// request is an error naming its size and what the pool holds, and
// nothing moves to system memory.
func TestMemoryExhausted(t *testing.T) {
	b, err := Open(0, Options{Validation: true, Memory: MemoryDiscrete, MemoryLimit: 100 << 20})
	skipOrFail(t, err)
	s := tensor.NewScope(b)
	const n = 10 << 20 // 40 MiB: a block of its own
	tensor.Zeros(b, n)
	tensor.Zeros(b, n)
	require.NoError(t, b.Sync())
	tensor.Zeros(b, n)
	err = b.Sync()
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{fmt.Sprintf("alloc %d elements (%d bytes)", n, 4*n), "the pool holds 80 MiB of device-local memory (limit 100 MiB)", "out of memory"} {
		assert.Contains(t, msg, want)
	}
	assert.True(t, strings.Contains(msg, "VK_EXT_memory_budget"), msg)
	s.Close()
	require.Equal(t, err, b.Close())
	require.Empty(t, b.ValidationMessages())
}
