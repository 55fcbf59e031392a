package vulkan

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/gpu"
	"sargo/tensor"
)

func TestDevices(t *testing.T) {
	devs, err := Devices()
	skipOrFail(t, err)
	if len(devs) == 0 {
		skipOrFail(t, ErrNoDevice)
	}
	require.True(t, devs[0].Default)
	for i, d := range devs {
		assert.Equal(t, i, d.Index)
		assert.NotEmpty(t, d.Name)
		assert.NotZero(t, d.MaxStorageBufferRange)
		assert.NotZero(t, d.MinStorageBufferOffsetAlignment)
		assert.NotZero(t, d.MaxWorkgroupInvocations)
		if i > 0 {
			assert.LessOrEqual(t, typeRank(devs[i-1].typeCode), typeRank(d.typeCode), "device order")
		}
		t.Log(d)
	}
	require.NoError(t, Probe())
}

func TestSortDevices(t *testing.T) {
	infos := []DeviceInfo{{typeCode: 4}, {typeCode: 1}, {typeCode: 3}, {typeCode: 2}, {typeCode: 1}}
	assert.Equal(t, []int{3, 1, 4, 2, 0}, sortDevices(infos))
}

func TestRegistry(t *testing.T) {
	b, err := tensor.Open("vulkan")
	skipOrFail(t, err)
	assert.Equal(t, "vulkan:0", b.Name())
	assert.Contains(t, b.Describe(), "Vulkan")
	x := tensor.FromSlice(b, []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	assert.Equal(t, []float32{1, 4, 2, 5, 3, 6}, x.Transpose(0, 1).Contiguous().Data())
}

// TestValidationIsActive checks that a mistake reaches the validation
// layer and becomes the sticky error: copy declares two bindings but is
// launched with one.
func TestValidationIsActive(t *testing.T) {
	b, err := Open(0, Options{Validation: true})
	skipOrFail(t, err)
	s := b.Alloc(4)
	p := struct { // shaders/strided.glsl
		Off         [4]uint32
		N           uint32
		Shape       [4]uint32
		Stride      [16]uint32
		Alpha, Beta float32
	}{N: 4, Shape: [4]uint32{1, 1, 1, 4}}
	b.launch("copy", nil, &p, [3]uint32{1, 1, 1}, gpu.Binding{Storage: s, Write: true})
	err = b.Sync()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "validation")
	assert.NotEmpty(t, b.ValidationMessages())
	b.Close() //nolint:errcheck // the sticky error is expected
}

func TestStaleShaders(t *testing.T) {
	if _, err := exec.LookPath("glslc"); err != nil {
		t.Skip("glslc not installed")
	}
	srcs, err := filepath.Glob("shaders/*.comp")
	require.NoError(t, err)
	require.NotEmpty(t, srcs)
	tmp := t.TempDir()
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".comp")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkStale(t, src, name, tmp)
		})
	}
}

// checkStale recompiles one shader and compares it with its committed .spv.
func checkStale(t *testing.T, src, name, tmp string) {
	{
		out := filepath.Join(tmp, name+".spv")
		msg, err := exec.Command("glslc", "-O", "--target-env=vulkan1.1", "-I", "shaders", "-o", out, src).CombinedOutput()
		require.NoError(t, err, "glslc %s: %s", src, msg)
		want, err := os.ReadFile(out)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("shaders", name+".spv"))
		require.NoError(t, err, "%s has no committed .spv: run go generate ./kernels/vulkan", src)
		assert.True(t, bytes.Equal(want, got), "shaders/%s.spv is stale: run go generate ./kernels/vulkan", name)
	}
}

// TestSteadyState runs a small training-like loop and checks that, after
// warm-up, it allocates nothing new from the driver and its memory use
// stays flat.
func TestSteadyState(t *testing.T) {
	b := openValidated(t)
	x := tensor.FromSlice(b, randData(24*40, 7), 24, 40)
	w := tensor.FromSlice(b, randData(40*16, 8), 40, 16)
	step := func() {
		y := tensor.Empty(b, 24, 16)
		b.MatMul(tensor.MatMulArgs{Batch: 1, M: 24, N: 16, K: 40, A: x.Span(), B: w.Span(), C: y.Span(), Alpha: 1})
		z := tensor.Empty(b, 24, 16)
		b.Unary(tensor.OpGeluErf, z.View(), y.View(), 0, 0)
		s := tensor.Empty(b, 24)
		b.Reduce(tensor.ReduceSum, s.Span(), z.Span(), 24, 16, 1)
		y.Release()
		z.Release()
		s.Release()
	}
	for range 2 {
		for range 50 {
			step()
		}
		require.NoError(t, b.Sync())
	}
	warm := b.Stats()
	for i := range 200 {
		step()
		if i%50 == 49 {
			require.NoError(t, b.Sync())
		}
	}
	require.NoError(t, b.Sync())
	after := b.Stats()
	assert.Equal(t, warm.DriverAllocations, after.DriverAllocations, "driver allocations after warm-up")
	assert.Equal(t, warm.HighWater, after.HighWater, "high water after warm-up")
	assert.Equal(t, warm.BytesInUse, after.BytesInUse, "bytes in use")
	assert.Equal(t, warm.BytesCarved, after.BytesCarved, "bytes carved from blocks after warm-up")
	t.Logf("after warm-up: %+v; after 200 steps: %+v", warm, after)
}

func TestFaultInjection(t *testing.T) {
	b, err := Open(0, Options{Validation: true})
	skipOrFail(t, err)
	defer b.Close() //nolint:errcheck // the injected fault is the sticky error
	x := tensor.FromSlice(b, randData(64, 1), 8, 8)
	y := tensor.Empty(b, 8, 8)
	b.SetFaultAfter(1)
	b.MatMul(tensor.MatMulArgs{Batch: 1, M: 8, N: 8, K: 8, A: x.Span(), B: x.Span(), C: y.Span(), Alpha: 1})
	err = b.Sync()
	require.Error(t, err)
	assert.ErrorIs(t, err, errDeviceLost)
	assert.Contains(t, err.Error(), "matmul")
	// Later kernels do nothing; reads report the same error.
	b.Unary(tensor.OpExp, y.View(), x.View(), 0, 0)
	_, err = y.Read()
	require.ErrorIs(t, err, errDeviceLost)
	require.ErrorIs(t, b.Err(), errDeviceLost)
}

func TestOversizeAllocation(t *testing.T) {
	b, err := Open(0, Options{})
	skipOrFail(t, err)
	defer b.Close() //nolint:errcheck // the oversize error is the sticky error
	n := int(b.Info().MaxStorageBufferRange/4) + 1
	s := b.Alloc(n)
	require.Equal(t, n, s.Len())
	err = b.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "maxStorageBufferRange")
	// Kernels on the placeholder are no-ops, not crashes.
	b.Fill(tensor.View{Buf: s, Shape: []int{n}, Strides: []int{1}}, 1)
	b.Free(s)
	require.Error(t, b.Sync())
}

func TestCloseReleasesEverything(t *testing.T) {
	b := openValidated(t) // its cleanup closes it and checks for leak messages
	x := tensor.FromSlice(b, randData(300, 1), 300)
	y := tensor.Empty(b, 300)
	b.Unary(tensor.OpTanh, y.View(), x.View(), 0, 0)
	b.Reduce(tensor.ReduceMax, tensor.Span{Buf: y.Span().Buf}, y.Span(), 1, 300, 1)
	require.NoError(t, b.Sync())
	assert.Positive(t, b.Stats().DriverAllocations)
}

func TestProfiler(t *testing.T) {
	var table bytes.Buffer
	b, err := Open(0, Options{Profile: true, Validation: true, ProfileOutput: &table})
	skipOrFail(t, err)
	if b.prof == nil {
		b.Close() //nolint:errcheck
		t.Skip("device has no compute timestamps")
	}
	x := tensor.FromSlice(b, randData(64, 1), 64)
	for range 3 {
		b.Unary(tensor.OpExp, x.View(), x.View(), 0, 0)
	}
	require.NoError(t, b.Sync())
	var out bytes.Buffer
	b.prof.print(&out, "test")
	assert.Contains(t, out.String(), "unary")
	assert.Equal(t, 3, b.prof.stats["unary"].count)
	require.NoError(t, b.Close())
	assert.Empty(t, b.ValidationMessages())
	assert.Contains(t, table.String(), "mean µs")
}

func TestBatchLimitAndHazards(t *testing.T) {
	b, err := Open(0, Options{Validation: true, BatchLimit: 4})
	skipOrFail(t, err)
	defer func() {
		require.NoError(t, b.Close())
		require.Empty(t, b.ValidationMessages())
	}()
	// A chain of dependent in-place updates across several batches.
	x := tensor.FromSlice(b, make([]float32, 1000), 1000)
	for range 37 {
		b.Unary(tensor.OpAffine, x.View(), x.View(), 1, 1)
	}
	got := x.Data()
	for i := range got {
		require.Equal(t, float32(37), got[i])
	}
}

func TestPipelineCacheFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	b, err := Open(0, Options{})
	skipOrFail(t, err)
	x := tensor.FromSlice(b, randData(16, 3), 16)
	b.Unary(tensor.OpExp, x.View(), x.View(), 0, 0)
	require.NoError(t, b.Close())
	files, err := filepath.Glob(filepath.Join(dir, "sargo", "vulkan-pipelines-*.bin"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	// A second open reads it back.
	b, err = Open(0, Options{})
	require.NoError(t, err)
	require.NoError(t, b.Close())
}

func TestOpenBadIndex(t *testing.T) {
	devs, err := Devices()
	skipOrFail(t, err)
	_, err = Open(len(devs), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no device vulkan:")
}

func TestMissingLoader(t *testing.T) {
	_, err := loadVulkanFrom("libsargo-no-such-vulkan.so.1", false)
	require.ErrorIs(t, err, ErrNoLoader)
	assert.Contains(t, err.Error(), "apt-get install libvulkan1")
}
