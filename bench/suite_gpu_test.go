package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// TestGPUCaseShapes checks the GPU case lists name the shapes they are
// meant to measure and count their work right.
func TestGPUCaseShapes(t *testing.T) {
	tests := []struct {
		suite string
		quick bool
		want  map[string]float64 // case name → GFLOP of one run
	}{
		{"matmul", false, map[string]float64{
			"square 1024x1024x1024 NN":      2 * 1024 * 1024 * 1024 / 1e9,
			"square 4096x4096x4096 NN":      2 * 4096 * 4096 * 4096 / 1e9,
			"train qkv 3200x1152x384 NT":    2 * 3200 * 1152 * 384 / 1e9,
			"train fc1 dX 3200x384x1536 NN": 2 * 3200 * 384 * 1536 / 1e9,
			"train proj dW 384x384x3200 TN": 2 * 384 * 384 * 3200 / 1e9,
			"train fc1 dW 1536x384x3200 TN": 2 * 1536 * 384 * 3200 / 1e9,
			"square 2048x2048x2048 NN":      2 * 2048 * 2048 * 2048 / 1e9,
		}},
		{"matmul", true, map[string]float64{
			"square 64x64x64 NN":        2 * 64 * 64 * 64 / 1e9,
			"train qkv 100x36x12 NT":    2 * 100 * 36 * 12 / 1e9,
			"train fc1 dW 48x12x100 TN": 2 * 48 * 12 * 100 / 1e9,
		}},
		{"attention", false, map[string]float64{
			"forward 4x8x1024x64 full":           4 * 32 * 1024 * 1024 * 64 / 1e9,
			"backward 4x8x1024x128 full":         2.5 * 4 * 32 * 1024 * 1024 * 128 / 1e9,
			"forward 32x6x680x64 block-causal":   4 * 192 * 64 * attnShape{scales: benchScales}.visiblePairs() / 1e9,
			"backward 32x6x680x128 block-causal": 2.5 * 4 * 192 * 128 * attnShape{scales: benchScales}.visiblePairs() / 1e9,
		}},
		{"attention", true, map[string]float64{
			"forward 2x2x16x16 full":          4 * 4 * 16 * 16 * 16 / 1e9,
			"backward 2x2x14x32 block-causal": 2.5 * 4 * 4 * 32 * attnShape{scales: quickScales}.visiblePairs() / 1e9,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.suite+map[bool]string{false: "", true: " quick"}[tt.quick], func(t *testing.T) {
			suites, err := Lookup(tt.suite)
			require.NoError(t, err)
			cases, err := suites[0].List(tt.quick, true)
			require.NoError(t, err)
			work := map[string]float64{}
			for _, c := range cases {
				work[c.Name] = c.Work
			}
			for name, w := range tt.want {
				require.Contains(t, work, name)
				assert.InDelta(t, w, work[name], 1e-9*w, name)
			}
			usual, err := suites[0].List(tt.quick, false)
			require.NoError(t, err)
			for _, c := range usual {
				assert.False(t, strings.HasPrefix(c.Name, "train ") || strings.HasSuffix(c.Name, " full"),
					"the usual cases stay as they were: %s", c.Name)
			}
		})
	}
	// 680 block-causal tokens see 286,434 (query, key) pairs.
	assert.InDelta(t, 286434.0, attnShape{scales: benchScales}.visiblePairs(), 0)
	assert.Equal(t, 680, attnShape{scales: benchScales}.tokens())
	assert.Equal(t, 1024, attnShape{length: 1024}.tokens())
}

// TestQuickGPUShapesRun runs the quick GPU cases of every suite that has
// them once on the CPU; suites without GPU cases list their usual ones.
func TestQuickGPUShapesRun(t *testing.T) {
	be := tensor.MustOpen("cpu")
	for _, name := range Suites() {
		suites, err := Lookup(name)
		require.NoError(t, err)
		if suites[0].GPUCases == nil {
			gpu, err := suites[0].List(true, true)
			require.NoError(t, err)
			usual, err := suites[0].Cases(true)
			require.NoError(t, err)
			require.Equal(t, len(usual), len(gpu), name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			recs, err := Run(context.Background(), Config{Suites: suites, Backend: be, Timing: tinyTiming, Quick: true, GPUShapes: true, Log: &log})
			require.NoError(t, err)
			require.NotEmpty(t, recs)
			seen := map[string]bool{}
			for _, r := range recs {
				assert.Empty(t, r.Error, r.Case)
				assert.False(t, seen[r.Case], "case names are unique: %s", r.Case)
				seen[r.Case] = true
				assert.Greater(t, r.Sargo, 0.0, r.Case)
			}
		})
	}
}

func TestTorchOptionsCheck(t *testing.T) {
	for _, tt := range []struct {
		opt     TorchOptions
		wantErr string
	}{
		{TorchOptions{}, ""},
		{TorchOptions{TF32: true, Attention: "sdpa"}, ""},
		{TorchOptions{Attention: "unfused"}, ""},
		{TorchOptions{Attention: "flash"}, `reference attention path "flash"`},
	} {
		err := tt.opt.Check()
		if tt.wantErr == "" {
			assert.NoError(t, err)
		} else {
			assert.ErrorContains(t, err, tt.wantErr)
		}
	}
}

// TestTorchRunnerSendsOptions checks, with a stand-in script that reports
// what it was asked, that the device and the options reach the reference
// and its description comes back.
func TestTorchRunnerSendsOptions(t *testing.T) {
	if _, err := os.Stat(DefaultPython); err != nil {
		t.Skipf("no %s", DefaultPython)
	}
	dir := t.TempDir()
	script := `import json, sys
hdr = json.loads(sys.stdin.readline())
print(json.dumps({"info": {"torch": "fake", "device": "cuda (" + hdr["device"] + ")", "threads": 1, "blas": "none",
                           "tf32": hdr["tf32"], "attention": hdr.get("attention", "")}}), flush=True)
for line in sys.stdin:
    print(json.dumps({"ok": True}), flush=True)
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bench_fake.py"), []byte(script), 0o644))
	for _, tt := range []struct {
		opt  TorchOptions
		want string
	}{
		{TorchOptions{}, "torch fake cuda (cuda), 1 threads, none, tf32=false"},
		{TorchOptions{TF32: true, Attention: "sdpa"}, "torch fake cuda (cuda), 1 threads, none, tf32=true, attention=sdpa"},
	} {
		r := &TorchRunner{Python: DefaultPython, Dir: dir, Device: "cuda", Timing: tinyTiming, Options: tt.opt}
		sess, err := r.Start(context.Background(), "fake")
		require.NoError(t, err)
		assert.Equal(t, tt.want, sess.Info.String())
		require.NoError(t, sess.Close())
	}
	r := &TorchRunner{Python: DefaultPython, Dir: dir, Device: "cuda", Timing: tinyTiming, Options: TorchOptions{Attention: "flash"}}
	_, err := r.Start(context.Background(), "fake")
	require.ErrorContains(t, err, `"flash"`)
}

// TestTorchScriptsGPUShapes runs the attention and matmul reference scripts
// on their quick GPU cases with each option, on the CPU, when Debian's
// python3 with torch is installed. scaled_dot_product_attention needs
// PyTorch 2.1: older versions must say so per case.
func TestTorchScriptsGPUShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	if err := torchMissing(); err != nil {
		t.Skip(err)
	}
	for _, tt := range []struct {
		suite string
		opt   TorchOptions
	}{
		{"matmul", TorchOptions{}},
		{"matmul", TorchOptions{TF32: true}},
		{"attention", TorchOptions{Attention: "unfused"}},
		{"attention", TorchOptions{Attention: "sdpa"}},
	} {
		t.Run(tt.suite+" "+tt.opt.Attention, func(t *testing.T) {
			suites, err := Lookup(tt.suite)
			require.NoError(t, err)
			cases, err := suites[0].List(true, true)
			require.NoError(t, err)
			var stderr bytes.Buffer
			r := &TorchRunner{Dir: "torch", Device: "cpu", Threads: 1, Timing: Timing{Warmup: 1, Repeats: 1, MinTime: time.Millisecond},
				Options: tt.opt, Stderr: &stderr}
			sess, err := r.Start(context.Background(), tt.suite)
			require.NoError(t, err, stderr.String())
			defer func() { assert.NoError(t, sess.Close()) }()
			assert.False(t, sess.Info.TF32, "TF32 applies to CUDA only")
			assert.Equal(t, tt.opt.Attention, sess.Info.Attention)
			oldTorch := strings.HasPrefix(sess.Info.Torch, "1.") || strings.HasPrefix(sess.Info.Torch, "2.0.")
			for _, c := range cases {
				err := sess.Setup(c)
				if tt.opt.Attention == "sdpa" && oldTorch {
					require.ErrorContains(t, err, "needs PyTorch 2.1 or later", c.Name)
					continue
				}
				require.NoError(t, err, c.Name)
				rate, _, err := sess.repeat()
				require.NoError(t, err, c.Name)
				assert.Greater(t, rate, 0.0, c.Name)
				_, err = sess.Release()
				require.NoError(t, err, c.Name)
			}
		})
	}
}
