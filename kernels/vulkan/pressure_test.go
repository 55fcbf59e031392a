package vulkan

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// TestScopeRecyclesWithoutCollector makes 160 MiB of tensors, 1 MiB at a
// time, each in a scope closed at once, with Go's collector off: the pool
// reuses the freed storage (waiting for the device where it must) and
// asks the driver for one block.
func TestScopeRecyclesWithoutCollector(t *testing.T) {
	b := openValidated(t)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const n, count = 1 << 18, 160 // 1 MiB each, 160 MiB in all
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
	assert.Equal(t, 1, st.DriverAllocations)
	assert.Equal(t, int64(1), b.MemStats().Live())
}

// TestTrainingMemoryFlat trains a tiny transformer with AdamW on the device
// with Go's collector off, so that only graphs and scopes free memory, and
// checks that after warm-up the pool makes no driver allocation, its high
// water stays within the warm pool, the live storage after every step is
// exactly what was live before the first (parameters, optimiser moments
// and the fixed data; the gradients are cleared), and the process's
// resident memory outside Go's heap (the device memory, on a CPU driver)
// stays within a bound. It runs 200 steps, or 1,000 with
// SARGO_LONG=1 outside -short, in the default memory mode, and 20 steps
// in the discrete mode (staged transfers; outside -short).
func TestTrainingMemoryFlat(t *testing.T) {
	steps := 200
	if os.Getenv("SARGO_LONG") == "1" && !testing.Short() {
		steps = 1000
	}
	t.Run("mapped", func(t *testing.T) { trainingMemoryFlat(t, openValidated(t), steps) })
	t.Run("discrete", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs once more in the default memory mode")
		}
		trainingMemoryFlat(t, openDiscrete(t), 20)
	})
}

// trainingMemoryFlat is TestTrainingMemoryFlat on b for steps steps.
func trainingMemoryFlat(t *testing.T, b *Backend, steps int) {
	const warmup = 5
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	s := tensor.NewScope(b) // the model, the optimiser and the data
	defer s.Close()
	cfg := sar.Config{Depth: 1, Width: 32, Heads: 2, MLPRatio: 2, NumClasses: 3, Vocab: 16, CVae: 4,
		Largest: 4, CondDrop: 0.1, AttnL2: true}
	m, err := sar.NewModel(cfg, b, 1)
	require.NoError(t, err)
	m.SetTrain(true)
	params := m.Parameters()
	opt, err := nn.NewAdamW(params, nn.DefaultAdamWConfig())
	require.NoError(t, err)
	scales := schedule.Schedule{1, 2, 4}
	const batch = 4
	labels := tensor.FromSlice(b, []float32{0, 1, 2, 1}, batch)
	z := make([]*tensor.Tensor, len(scales))
	var tokens []float32
	for k, s := range scales {
		z[k] = tensor.Randn(b, 7, uint64(k)<<20, batch, cfg.CVae, s, s)
	}
	for i := range batch * scales.Tokens() {
		tokens = append(tokens, float32(i*7%cfg.Vocab))
	}
	targets := tensor.FromSlice(b, tokens, batch*scales.Tokens())
	is := tensor.NewScope(b) // NextScaleInputs' temporaries
	inputs := autograd.Const(sar.NextScaleInputs(z, scales))
	is.Keep(inputs.Value)
	is.Close()

	step := func(i int) float32 {
		g := autograd.NewGraph(b)
		defer g.Close()
		m.SetDropPathOffset(uint64(i) << 24)
		logits := m.Forward(g, m.DropLabels(labels, 1, uint64(i)<<24), scales, inputs)
		loss := g.CrossEntropy(g.Reshape(logits, batch*scales.Tokens(), cfg.Vocab), targets, autograd.DefaultCEOptions())
		require.NoError(t, g.Backward(loss))
		require.NoError(t, opt.Update())
		nn.ZeroGrads(params)
		v, err := loss.Value.Read()
		require.NoError(t, err)
		return v[0]
	}
	state := b.MemStats().LiveBytes // parameters, moments and data
	paramBytes := int64(nn.NumParams(params)) * 4
	for i := range warmup {
		step(i)
		require.Equal(t, state, b.MemStats().LiveBytes, "live bytes after step %d", i)
	}
	warm, rssWarm := b.Stats(), residentBytes(t)-goRuntimeBytes()
	first := step(0)
	var last float32
	for i := range steps {
		last = step(warmup + i)
		if live := b.MemStats().LiveBytes; live != state {
			require.Equal(t, state, live, "live bytes after step %d", warmup+i)
		}
	}
	require.NoError(t, b.Sync())
	after, rssAfter := b.Stats(), residentBytes(t)-goRuntimeBytes()
	t.Logf("loss %.4f -> %.4f; live %d B (parameters %d B); after warm-up %+v, RSS outside Go %d MiB; after %d steps %+v, RSS outside Go %d MiB",
		first, last, state, paramBytes, warm, rssWarm>>20, steps, after, rssAfter>>20)
	assert.Less(t, last, first, "the model trains")
	assert.Equal(t, warm.DriverAllocations, after.DriverAllocations, "driver allocations after warm-up")
	assert.Equal(t, warm.BytesReserved, after.BytesReserved, "bytes reserved after warm-up")
	assert.LessOrEqual(t, after.HighWater, warm.BytesReserved, "high water within the warm pool")
	assert.Less(t, rssAfter, rssWarm+64<<20, "resident memory outside Go's after %d steps", steps)
	// What stays live is the parameters and their two moments (the
	// gradients are cleared), and the fixed data.
	data := int64(labels.Size()+targets.Size()+inputs.Value.Size()) * 4
	for _, zk := range z {
		data += int64(zk.Size()) * 4
	}
	assert.InEpsilon(t, 3*paramBytes+data, state, 0.01, "live bytes: parameters, moments and data")
}

// residentBytes reads the process's resident set size from /proc.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	buf, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	fields := strings.Fields(string(buf))
	require.GreaterOrEqual(t, len(fields), 2)
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// goRuntimeBytes is the memory Go's runtime holds from the system, which
// grows with the collector off.
func goRuntimeBytes() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
