//go:build opengl && cgo

package opengl

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/gpu"
	"sargo/tensor"
)

func TestDevices(t *testing.T) {
	devs, err := Devices()
	skipOrFail(t, err)
	require.NotEmpty(t, devs)
	for i, d := range devs {
		t.Logf("opengl:%d: %s", i, d)
		assert.Equal(t, i, d.Index)
		assert.Equal(t, i == 0, d.Default)
		assert.NotEmpty(t, d.Renderer)
		assert.True(t, d.Major > 4 || d.Major == 4 && d.Minor >= 3, "version %d.%d", d.Major, d.Minor)
		assert.GreaterOrEqual(t, d.MaxStorageBlocks, uint32(8), "GL 4.3 minimum")
		assert.GreaterOrEqual(t, d.MaxStorageBlockSize, uint64(16<<20), "GL 4.3 minimum")
		assert.GreaterOrEqual(t, d.MaxSharedMemory, uint32(32<<10), "GL 4.3 minimum")
		assert.GreaterOrEqual(t, d.MaxWorkgroupCount[0], uint32(65535), "GL 4.3 minimum")
		assert.Contains(t, []string{"device", "surfaceless"}, d.Platform)
	}
}

func TestRegistry(t *testing.T) {
	b, err := tensor.Open("opengl")
	skipOrFail(t, err)
	assert.Equal(t, "opengl:0", b.Name())
	assert.Contains(t, b.Describe(), "OpenGL")
	same, err := tensor.Open("opengl:0")
	require.NoError(t, err)
	assert.Same(t, b, same)
	x := tensor.FromSlice(b, []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	assert.Equal(t, []float32{1, 4, 2, 5, 3, 6}, x.Transpose(0, 1).Contiguous().Data())
}

// TestDebugOutputIsActive checks that a GL error reaches KHR_debug and
// becomes the sticky error.
func TestDebugOutputIsActive(t *testing.T) {
	b, err := Open(0, Options{Debug: true})
	skipOrFail(t, err)
	b.glDo(func() { gl.BindBuffer(0xdead, 0) })
	err = b.Sync()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KHR_debug")
	assert.NotEmpty(t, b.DebugMessages())
	// Later kernels do nothing; reads report the same error.
	x := tensor.FromSlice(b, []float32{1, 2}, 2)
	_, rerr := x.Read()
	assert.ErrorIs(t, rerr, err)
	assert.Equal(t, err, b.Close())
}

// TestErrorWithoutDebug checks that, with debug output off, a GL error is
// still found (by glGetError after each batch).
func TestErrorWithoutDebug(t *testing.T) {
	b, err := Open(0, Options{})
	skipOrFail(t, err)
	b.glDo(func() { gl.BindBuffer(0xdead, 0) })
	x := tensor.FromSlice(b, []float32{1, 2}, 2)
	b.Unary(tensor.OpExp, x.View(), x.View(), 0, 0)
	err = b.Sync()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GL_INVALID_ENUM")
	b.Close() //nolint:errcheck // the error is expected
}

// TestBarriersOnlyForHazards counts glMemoryBarrier calls: none between
// independent dispatches, one before a dispatch that reads what the
// previous one wrote, and results that respect the order.
func TestBarriersOnlyForHazards(t *testing.T) {
	b := openDebug(t, Options{})
	x := tensor.FromSlice(b, randData(1000, 1), 1000)
	y := tensor.Empty(b, 1000)
	z := tensor.Empty(b, 1000)
	require.NoError(t, b.Sync())
	base := b.Stats().Barriers
	b.Unary(tensor.OpExp, y.View(), x.View(), 0, 0)
	b.Unary(tensor.OpTanh, z.View(), x.View(), 0, 0)
	assert.Equal(t, base, b.Stats().Barriers, "two dispatches reading x and writing different outputs")
	b.Binary(tensor.OpAdd, x.View(), y.View(), z.View())
	assert.Equal(t, base+1, b.Stats().Barriers, "reading y and z written before, and writing x read before")
	w := tensor.Empty(b, 1000)
	b.Unary(tensor.OpNeg, w.View(), z.View(), 0, 0)
	assert.Equal(t, base+1, b.Stats().Barriers, "z was written before the last barrier")
	b.Unary(tensor.OpNeg, y.View(), z.View(), 0, 0)
	assert.Equal(t, base+2, b.Stats().Barriers, "y was read since the last barrier")
	got := x.Data()
	assert.Equal(t, base+2, b.Stats().Barriers, "x was written before the last barrier, which orders reads back too")
	_ = y.Data()
	assert.Equal(t, base+3, b.Stats().Barriers, "reading y back right after a shader wrote it")
	want := randData(1000, 1)
	for i := range want {
		w := math.Exp(float64(want[i])) + math.Tanh(float64(want[i]))
		require.InDelta(t, w, float64(got[i]), 1e-5*(1+math.Abs(w)))
	}
}

func TestBatchLimitAndHazards(t *testing.T) {
	b := openDebug(t, Options{BatchLimit: 4})
	// A chain of dependent in-place updates across several batches.
	x := tensor.FromSlice(b, make([]float32, 1000), 1000)
	for range 37 {
		b.Unary(tensor.OpAffine, x.View(), x.View(), 1, 1)
	}
	got := x.Data()
	for i := range got {
		require.Equal(t, float32(37), got[i])
	}
	assert.GreaterOrEqual(t, b.Stats().Batches, uint64(37/4))
}

// TestWritesAreOrdered checks that writes (small ones through the batch,
// large ones at once) land between the kernels recorded around them.
func TestWritesAreOrdered(t *testing.T) {
	for _, n := range []int{100, smallUpload + 5} {
		b := openDebug(t, Options{})
		x := tensor.FromSlice(b, randData(n, 1), n)
		y := tensor.Empty(b, n)
		b.Unary(tensor.OpNeg, y.View(), x.View(), 0, 0)
		second := randData(n, 2)
		b.Write(x.Span().Buf, 0, second)
		z := tensor.Empty(b, n)
		b.Unary(tensor.OpNeg, z.View(), x.View(), 0, 0)
		first := randData(n, 1)
		gy, gz := y.Data(), z.Data()
		for i := range n {
			require.Equal(t, -first[i], gy[i], "element %d of the kernel before the write", i)
			require.Equal(t, -second[i], gz[i], "element %d of the kernel after the write", i)
		}
		part := make([]float32, 3)
		require.NoError(t, b.Read(z.Span().Buf, n-3, part))
		assert.Equal(t, gz[n-3:], part)
	}
}

func TestOversizeAllocation(t *testing.T) {
	b, err := Open(0, Options{})
	skipOrFail(t, err)
	defer b.Close() //nolint:errcheck // the oversize error is the sticky error
	n := int(b.Info().MaxStorageBlockSize/4) + 1
	s := b.Alloc(n)
	require.Equal(t, n, s.Len())
	err = b.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GL_MAX_SHADER_STORAGE_BLOCK_SIZE")
	// Kernels on the placeholder are no-ops, not crashes.
	b.Fill(tensor.View{Buf: s, Shape: []int{n}, Strides: []int{1}}, 1)
	b.Free(s)
	require.Error(t, b.Sync())
}

// TestPushConstantsMismatch launches copy with a struct that lacks the
// last member of the shader's push-constant block: building the program
// fails with an error naming the push constants.
func TestPushConstantsMismatch(t *testing.T) {
	b, err := Open(0, Options{NoBinaryCache: true})
	skipOrFail(t, err)
	defer b.Close() //nolint:errcheck // the error is expected
	s := b.Alloc(4)
	p := struct {
		Off    [4]uint32
		N      uint32
		Shape  [4]uint32
		Stride [16]uint32
		Alpha  float32
	}{N: 4, Shape: [4]uint32{1, 1, 1, 4}}
	b.launch("copy", nil, &p, [3]uint32{1, 1, 1}, gpu.Binding{Storage: s, Write: true}, gpu.Binding{Storage: s})
	err = b.Sync()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "push constants: the Go struct has 5 fields, the shader's block 6 members")
}

func TestProgramBinaryCache(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	run := func() (Stats, []float32) {
		b := openDebug(t, Options{})
		if b.Info().BinaryFormats == 0 {
			t.Skip("the driver has no program binary format")
		}
		x := tensor.FromSlice(b, []float32{0, 1, 2}, 3)
		b.Unary(tensor.OpExp, x.View(), x.View(), 0, 0)
		return b.Stats(), x.Data()
	}
	_, first := run()
	files, err := filepath.Glob(filepath.Join(dir, "sargo", "opengl-programs", "*.bin"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "program binaries written")
	_, second := run()
	assert.Equal(t, first, second, "a program loaded from its binary computes the same")
	for _, f := range files {
		require.NoError(t, os.WriteFile(f, []byte("garbage binary"), 0o644))
	}
	_, third := run()
	assert.Equal(t, first, third, "a rejected binary is rebuilt from source")
}

// TestSteadyState runs a small training-like loop and checks that, after
// warm-up, it creates no buffer object and its memory stays flat.
func TestSteadyState(t *testing.T) {
	b := openDebug(t, Options{})
	x := tensor.FromSlice(b, randData(24*40, 7), 24, 40)
	w := tensor.FromSlice(b, randData(40*16, 8), 40, 16)
	step := func() {
		sc := tensor.NewScope(b)
		defer sc.Close()
		y := tensor.Empty(b, 24, 16)
		b.MatMul(tensor.MatMulArgs{Batch: 1, M: 24, N: 16, K: 40, A: x.Span(), B: w.Span(), C: y.Span(), Alpha: 1})
		z := tensor.Empty(b, 24, 16)
		b.Unary(tensor.OpGeluErf, z.View(), y.View(), 0, 0)
		s := tensor.Empty(b, 24)
		b.Reduce(tensor.ReduceSum, s.Span(), z.Span(), 24, 16, 1)
	}
	for range 20 {
		step()
	}
	require.NoError(t, b.Sync())
	warm := b.Stats()
	for range 200 {
		step()
	}
	require.NoError(t, b.Sync())
	after := b.Stats()
	assert.Equal(t, warm.BuffersCreated, after.BuffersCreated, "buffer objects created after warm-up")
	assert.Equal(t, warm.HighWater, after.HighWater, "high water after warm-up")
	assert.Equal(t, warm.BytesInUse, after.BytesInUse, "bytes in use")
	t.Logf("after warm-up: %+v; after 200 steps: %+v", warm, after)
}

// TestScopeRecyclesWithoutCollector makes 160 MiB of tensors, 1 MiB at a
// time, each in a scope closed at once, with Go's collector off: the pool
// reuses the freed buffer object every time.
func TestScopeRecyclesWithoutCollector(t *testing.T) {
	b := openDebug(t, Options{})
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const n, count = 1 << 18, 160 // 1 MiB each
	x := tensor.FromSlice(b, randData(n, 3), n)
	defer x.Release()
	for range count {
		s := tensor.NewScope(b)
		tensor.Sigmoid(x)
		s.Close()
	}
	require.NoError(t, b.Sync())
	st := b.Stats()
	t.Logf("%+v", st)
	assert.Equal(t, 2, st.BuffersCreated, "x and one reused output")
	assert.Equal(t, int64(1), b.MemStats().Live())
}

// TestAllocUninitialisedFillOnDevice checks that Alloc clears nothing (a
// reused storage holds what its last owner wrote) and that Fill sets
// exactly its range, contiguous (one clear command) or strided (the fill
// kernel), counting fills with 0 in MemStats.
func TestAllocUninitialisedFillOnDevice(t *testing.T) {
	b := openDebug(t, Options{})
	const n = 1000
	first := tensor.FromSlice(b, randData(n, 5), n)
	want := first.Data()
	first.Release()
	before := b.MemStats()
	x := tensor.Empty(b, n)
	assert.Equal(t, want, x.Data(), "the reused storage is handed out as it was")
	assert.Equal(t, before.ZeroFilledBytes, b.MemStats().ZeroFilledBytes)

	s := tensor.NewScope(b) // the views
	x.Narrow(0, 100, 300).Fill(0)
	x.Reshape(10, 100).Narrow(1, 0, 2).Fill(7) // 2 of every 100, strided
	s.Close()
	got := x.Data()
	for i := range n {
		w := want[i]
		switch {
		case i%100 < 2:
			w = 7
		case i >= 100 && i < 400:
			w = 0
		}
		require.Equal(t, w, got[i], "element %d", i)
	}
	assert.Equal(t, before.ZeroFilledBytes+300*4, b.MemStats().ZeroFilledBytes)
	assert.Equal(t, int64(4*n), b.MemStats().LiveBytes-before.LiveBytes)
	x.Release()
	assert.Equal(t, before.LiveBytes, b.MemStats().LiveBytes)
}

func TestMemoryBudget(t *testing.T) {
	b := openDebug(t, Options{})
	got := tensor.MemoryBudget(b)
	if b.Info().Software || b.Info().VideoMemory > 0 {
		assert.Positive(t, got, "a software renderer has the host's memory; a GPU what its driver reports")
	} else {
		assert.Zero(t, got, "a GPU whose driver does not report its memory")
	}
}

// TestSizeClass checks that a storage's buffer object is its size class,
// within an eighth of the request.
func TestSizeClass(t *testing.T) {
	b := openDebug(t, Options{})
	for _, n := range []int{1, 64, 65, 1000, 1 << 18, 1<<18 + 1} {
		before := b.Stats().BytesInUse
		s := b.Alloc(n)
		got := b.Stats().BytesInUse - before
		assert.GreaterOrEqual(t, got, uint64(4*n), "%d elements", n)
		assert.LessOrEqual(t, got, uint64(max(4*n+4*n/8, 256)), "%d elements", n)
		b.Free(s)
	}
}

func TestOpenBadIndex(t *testing.T) {
	devs, err := Devices()
	skipOrFail(t, err)
	_, err = Open(len(devs), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no device opengl:")
}

func TestMissingLibrary(t *testing.T) {
	t.Setenv("SARGO_OPENGL_EGL", "libsargo-no-such-egl.so.1")
	_, err := Open(0, Options{})
	require.ErrorIs(t, err, ErrNoLibrary)
	assert.Contains(t, err.Error(), "apt-get install libegl1")
	assert.ErrorIs(t, Probe(), ErrNoLibrary)
}

// TestOldDriver asks Mesa to offer OpenGL 4.2 (MESA_GL_VERSION_OVERRIDE,
// read when a display is first initialised, hence a child process) and
// checks the message.
func TestOldDriver(t *testing.T) {
	if os.Getenv("SARGO_OPENGL_OLD_DRIVER_CHILD") == "1" {
		_, err := Open(0, Options{})
		require.ErrorIs(t, err, ErrOldDriver)
		t.Log(err)
		return
	}
	devs, err := Devices()
	skipOrFail(t, err)
	if !devs[0].Software || !strings.Contains(devs[0].Version, "Mesa") {
		t.Skip("MESA_GL_VERSION_OVERRIDE needs Mesa")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOldDriver$", "-test.v")
	cmd.Env = append(os.Environ(), "SARGO_OPENGL_OLD_DRIVER_CHILD=1", "MESA_GL_VERSION_OVERRIDE=4.2")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "OpenGL 4.2")
	assert.Contains(t, string(out), "older than 4.3")
}
