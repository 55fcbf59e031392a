package train_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/preset"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// realSetup builds an untrained tokenizer and model of a preset (with
// optional width/depth overrides) over a synthetic dataset.
func realSetup(tb testing.TB, name string, width, depth, batch int, method string, mods ...func(*sar.Config)) train.Setup {
	tb.Helper()
	p, err := preset.Get(name)
	require.NoError(tb, err)
	dev, err := tensor.Open("cpu")
	require.NoError(tb, err)
	vq, err := tokenizer.New(p.Tokenizer, dev, 1)
	require.NoError(tb, err)
	vq.SetTrain(false)
	mc := p.Model
	if width > 0 {
		mc.Width, mc.Depth = width, depth
		mc.Heads = width / 32
	}
	for _, mod := range mods {
		mod(&mc)
	}
	m, err := sar.NewModel(mc, dev, 1)
	require.NoError(tb, err)
	cfg := p.Train
	cfg.Method, cfg.Batch, cfg.Steps = method, batch, 1000
	ds := &data.Dataset{Name: "noise", C: 1, H: 32, W: 32}
	for i := 0; i < 10; i++ {
		ds.Classes = append(ds.Classes, fmt.Sprint(i))
	}
	for i := 0; i < 4*batch; i++ {
		for j := 0; j < 32*32; j++ {
			ds.Images = append(ds.Images, 2*tensor.PhiloxUniform(3, uint64(i*1024+j))-1)
		}
		ds.Labels = append(ds.Labels, i%10)
	}
	return train.Setup{Cfg: cfg, Net: m, Tok: vq, Inputs: sar.NextScaleInputs, NullClass: mc.NumClasses,
		Largest: p.Tokenizer.Latent(), Data: ds, Dev: dev}
}

// BenchmarkStep times one training step of the small preset's sizes and
// reports tokens per second.
func BenchmarkStep(b *testing.B) {
	for _, c := range []struct {
		preset       string
		width, depth int
		batch        int
		method       string
	}{
		{"small", 0, 0, 32, train.MethodTF},
		{"small", 128, 3, 32, train.MethodTF},
		{"small", 128, 3, 32, train.MethodSAR},
		{"small", 128, 3, 32, train.MethodSF},
		{"tiny", 0, 0, 32, train.MethodTF},
	} {
		b.Run(fmt.Sprintf("%s-w%d-d%d-b%d-%s", c.preset, c.width, c.depth, c.batch, c.method), func(b *testing.B) {
			tr, err := train.NewTrainer(realSetup(b, c.preset, c.width, c.depth, c.batch, c.method))
			require.NoError(b, err)
			tokens := 0
			cpu0 := cpuSeconds()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := tr.TrainStep()
				require.NoError(b, err)
				tokens += r.Tokens
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuSeconds is the process's user+system CPU time, which contention with
// other processes inflates much less than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkTokenizerStep times tokenizer training steps of a preset.
func BenchmarkTokenizerStep(b *testing.B) {
	for _, name := range []string{"tiny", "small"} {
		b.Run(name, func(b *testing.B) {
			s := realSetup(b, name, 0, 0, 64, train.MethodTF)
			p, err := preset.Get(name)
			require.NoError(b, err)
			vq, err := tokenizer.New(p.Tokenizer, s.Dev, 1)
			require.NoError(b, err)
			cfg := p.TokenizerTrain
			cfg.Steps, cfg.Epochs, cfg.Batch, cfg.LogEvery, cfg.SaveEvery = b.N, 0, 64, b.N, 0
			cpu0 := cpuSeconds()
			b.ResetTimer()
			_, err = tokenizer.Train(context.Background(), vq, s.Data, cfg, "", nil)
			require.NoError(b, err)
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		})
	}
}
