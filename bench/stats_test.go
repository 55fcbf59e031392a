package bench

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// seq is 1, 2, …, n in a shuffled order (the interval must not depend on
// the order).
func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64((i*7)%n + 1)
	}
	return xs
}

func TestMedianInterval(t *testing.T) {
	tests := []struct {
		name   string
		xs     []float64
		level  float64
		lo, hi float64
		ok     bool
	}{
		{"empty", nil, 0.95, 0, 0, false},
		{"5 values are too few at 95%", seq(5), 0.95, 0, 0, false},
		{"5 values reach 90%", seq(5), 0.90, 1, 5, true},
		{"6 values: the whole range", seq(6), 0.95, 1, 6, true},
		{"10 values: ranks 2 and 9", seq(10), 0.95, 2, 9, true},
		{"20 values: ranks 6 and 15", seq(20), 0.95, 6, 15, true},
		{"20 values at 99%: ranks 4 and 17", seq(20), 0.99, 4, 17, true},
		{"100 values: ranks 40 and 61", seq(100), 0.95, 40, 61, true},
		{"bad level", seq(10), 1, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, ok := MedianInterval(tt.xs, tt.level)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.lo, lo)
			assert.Equal(t, tt.hi, hi)
		})
	}
}

// TestMedianRankCoverage checks the rank against the binomial tails summed
// directly: the interval's miss probability is at most 1−level and one
// rank further would exceed it.
func TestMedianRankCoverage(t *testing.T) {
	tail := func(n, k int) float64 { // P(X ≤ k−1), X ~ Binomial(n, ½)
		p := 0.0
		for j := range k {
			c := 1.0
			for i := range j {
				c = c * float64(n-i) / float64(i+1)
			}
			p += c * math.Pow(0.5, float64(n))
		}
		return p
	}
	for n := 6; n <= 60; n++ {
		k := medianRank(n, 0.95)
		require.GreaterOrEqual(t, k, 1, "n=%d", n)
		assert.LessOrEqual(t, 2*tail(n, k), 0.05+1e-12, "n=%d k=%d", n, k)
		assert.Greater(t, 2*tail(n, k+1), 0.05, "n=%d k=%d", n, k)
	}
}

func TestSummariseInterval(t *testing.T) {
	s := Summarise([]float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10})
	assert.InDelta(t, 5.5, s.Median, 1e-12)
	assert.Equal(t, 2.0, s.Lo)
	assert.Equal(t, 9.0, s.Hi)
	short := Summarise([]float64{1, 2, 3})
	assert.Zero(t, short.Lo)
	assert.Zero(t, short.Hi)
}

func TestWithinTolerance(t *testing.T) {
	assert.True(t, WithinTolerance(1, 0.95, 1.05, 0.1))
	assert.True(t, WithinTolerance(2, 1.8, 2.2, 0.1))
	assert.False(t, WithinTolerance(2, 1.7, 2.1, 0.1))
	assert.False(t, WithinTolerance(2, 1.9, 2.3, 0.1))
	assert.False(t, WithinTolerance(0, 0, 0, 0.1))
}

// fakeSide returns the rates of a list in turn and logs each call.
type fakeSide struct {
	name  string
	rates []float64
	next  int
	fail  int // the repeat (1-based) that fails; 0 never
	log   *[]string
}

func (f *fakeSide) warmup(n int) error {
	for range n {
		*f.log = append(*f.log, strings.ToLower(f.name))
	}
	return nil
}

func (f *fakeSide) repeat() (float64, float64, error) {
	f.next++
	if f.next == f.fail {
		return 0, 0, errors.New("fake failure")
	}
	*f.log = append(*f.log, f.name)
	r := f.rates[(f.next-1)%len(f.rates)]
	return r, r / 2, nil
}

func TestMeasurePairs(t *testing.T) {
	tests := []struct {
		name         string
		timing       Timing
		a, b         []float64
		failB        int
		order        string
		pairs        int
		ratio        float64
		stable, refE bool
	}{
		{"fixed repeats alternate", Timing{Warmup: 1, Repeats: 3}, []float64{2}, []float64{1}, 0,
			"abABABAB", 3, 2, false, false},
		{"until stable stops at six constant pairs", Timing{Repeats: 2, UntilStable: true}, []float64{3}, []float64{2}, 0,
			"ABABABABABAB", 6, 1.5, true, false},
		{"until stable goes on while the ratios scatter", Timing{UntilStable: true, MaxRepeats: 9}, []float64{1, 4, 2}, []float64{1}, 0,
			"ABABABABABABABABAB", 9, 2, false, false},
		{"a failing reference leaves sargo alone", Timing{Repeats: 4}, []float64{2}, []float64{1}, 3,
			"ABABAA", 2, 2, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			a := &fakeSide{name: "A", rates: tt.a, log: &log}
			b := &fakeSide{name: "B", rates: tt.b, fail: tt.failB, log: &log}
			m, err := measure(context.Background(), tt.timing, a, b)
			require.NoError(t, err)
			assert.Equal(t, tt.order, strings.Join(log, ""))
			var rec Record
			rec.setSargo(m.stats())
			rec.setReference(m, "fake")
			rec.setStable(tt.timing.tolerance())
			require.NotNil(t, rec.Ratio)
			assert.Len(t, rec.PairRatios, tt.pairs)
			assert.InDelta(t, tt.ratio, *rec.Ratio, 1e-12)
			assert.Equal(t, tt.stable, rec.Stable)
			assert.Equal(t, tt.refE, m.refErr != nil)
			require.NotNil(t, rec.RatioCPU)
			assert.InDelta(t, tt.ratio, *rec.RatioCPU, 1e-12)
		})
	}
}

func TestMeasureUntilStableBudget(t *testing.T) {
	var log []string
	slow := &slowSide{fakeSide: fakeSide{name: "A", rates: []float64{1, 3}, log: &log}, d: 2 * time.Millisecond}
	m, err := measure(context.Background(), Timing{UntilStable: true, Budget: 5 * time.Millisecond}, slow, nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(m.runs), 2)
	assert.Less(t, len(m.runs), 6, "the budget ends the repeats before an interval exists")
}

// slowSide is a fakeSide whose repeats take d.
type slowSide struct {
	fakeSide
	d time.Duration
}

func (s *slowSide) repeat() (float64, float64, error) {
	time.Sleep(s.d)
	return s.fakeSide.repeat()
}

// fakeReference is a reference script that speaks the protocol of
// bench_common.py without PyTorch: each warm-up appends "b" and each
// repeat "B" to the file named by the case's "log" parameter; a case
// with "fail_at" fails that repeat; one with "peak_memory" reports a
// peak of 12345 bytes at its release.
const fakeReference = `import json, sys
out = sys.stdout
hdr = json.loads(sys.stdin.readline())
out.write(json.dumps({"info": {"torch": "fake", "device": hdr["device"], "threads": hdr["threads"], "blas": "none", "tf32": False}}) + "\n"); out.flush()
case, n = None, 0
for line in sys.stdin:
    msg = json.loads(line)
    if msg["cmd"] == "setup":
        case, n = msg["case"], 0
        if case["kind"] == "broken":
            out.write(json.dumps({"error": "no such kind"}) + "\n"); out.flush(); continue
        with open(case["params"]["log"], "a") as f:
            f.write("b" * hdr["warmup"])
        out.write(json.dumps({"ok": True}) + "\n")
    elif msg["cmd"] == "repeat":
        n += 1
        if n == case["params"].get("fail_at"):
            out.write(json.dumps({"error": "repeat failed"}) + "\n"); out.flush(); continue
        with open(case["params"]["log"], "a") as f:
            f.write("B")
        out.write(json.dumps({"rate": case["work"], "cpu_rate": case["work"]}) + "\n")
    elif case is not None and case["params"].get("peak_memory"):
        out.write(json.dumps({"ok": True, "peak_bytes": 12345}) + "\n")
    else:
        out.write(json.dumps({"ok": True}) + "\n")
    out.flush()
`

// TestRunInterleavesReference runs cases against a fake reference script
// and checks from a shared log that the repeats alternate, sargo first,
// after both sides' warm-ups, and that the records carry the paired
// ratios.
func TestRunInterleavesReference(t *testing.T) {
	python := DefaultPython
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s", python)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bench_fake.py"), []byte(fakeReference), 0o644))
	logPath := filepath.Join(dir, "order.log")
	appendLog := func(s string) {
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		_, err = f.WriteString(s)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	warm := 0
	mkCase := func(name, kind string, work float64, failAt int) Case {
		return Case{Name: name, Kind: kind, Unit: "x/s", Work: work, Params: map[string]any{"log": logPath, "fail_at": failAt},
			Setup: func(tensor.Backend) (func() error, func(), error) {
				return func() error {
					if warm < 2 {
						warm++
						appendLog("a")
					} else {
						appendLog("A")
					}
					time.Sleep(time.Millisecond)
					return nil
				}, func() { warm = 0 }, nil
			}}
	}
	suite := Suite{Name: "fake", Cases: func(bool) ([]Case, error) {
		good := mkCase("good", "k", 1e-3, 0)
		good.PeakMemory, good.Params["peak_memory"] = true, true
		return []Case{good, mkCase("fails", "k", 1e-3, 2), mkCase("broken", "broken", 1e-3, 0)}, nil
	}}
	timing := Timing{Warmup: 2, Repeats: 6, MinTime: 0}
	ref := &TorchRunner{Python: python, Dir: dir, Device: "cpu", Threads: 2, Timing: timing}
	recs, err := Run(context.Background(), Config{Suites: []Suite{suite}, Backend: tensor.MustOpen("cpu"), Timing: timing, Reference: ref})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	order, err := os.ReadFile(logPath)
	require.NoError(t, err)
	// good: warm-ups aa bb, then six pairs; fails: warm-ups, one pair,
	// the reference's second repeat fails and sargo goes on alone;
	// broken: the reference's setup fails, so sargo runs alone.
	assert.Equal(t, "aabb"+strings.Repeat("AB", 6)+"aabb"+"AB"+strings.Repeat("A", 5)+"aa"+strings.Repeat("A", 6), string(order))

	good := recs[0]
	assert.Empty(t, good.Error)
	require.NotNil(t, good.Ratio)
	assert.Len(t, good.PairRatios, 6)
	require.NotNil(t, good.RatioInterval)
	assert.Contains(t, good.ReferenceDevice, "torch fake cpu, 2 threads")
	require.NotNil(t, good.ReferencePeakBytes, "the release's peak_bytes reaches the record")
	assert.Equal(t, int64(12345), *good.ReferencePeakBytes)
	if resetPeakRSS() {
		assert.Positive(t, good.SargoPeakBytes)
	}
	assert.Nil(t, recs[1].ReferencePeakBytes, "a case that does not ask for its peak has none")

	assert.Contains(t, recs[1].Error, "repeat failed")
	assert.Len(t, recs[1].SargoRuns, 6)
	assert.Len(t, recs[1].PairRatios, 1)

	assert.Contains(t, recs[2].Error, "no such kind")
	assert.Nil(t, recs[2].Ratio)
	assert.Len(t, recs[2].SargoRuns, 6)
}

// TestTorchSessionDeadScript checks that a script that exits at once gives
// an error naming it, not a hang.
func TestTorchSessionDeadScript(t *testing.T) {
	python := DefaultPython
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s", python)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bench_dead.py"), []byte("import sys\nsys.exit('cannot start')\n"), 0o644))
	r := &TorchRunner{Python: python, Dir: dir, Device: "cpu", Threads: 1}
	_, err := r.Start(context.Background(), "dead")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bench_dead.py")
	assert.Contains(t, err.Error(), "cannot start")

	_, err = r.Start(context.Background(), "missing")
	require.ErrorContains(t, err, "reference script for suite missing")
}
