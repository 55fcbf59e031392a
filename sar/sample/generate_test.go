package sample

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

func dev() tensor.Backend { return tensor.MustOpen("cpu") }

// models builds a tiny untrained transformer and tokenizer that fit each
// other (latent 4, CVae 4, codebook 16).
func models(t *testing.T) (*sar.Model, *tokenizer.VQ) { return modelsOn(t, dev()) }

// modelsOn is models on device d.
func modelsOn(t *testing.T, d tensor.Backend) (*sar.Model, *tokenizer.VQ) {
	t.Helper()
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}, d, 1)
	require.NoError(t, err)
	m, err := sar.NewModel(sar.Config{Depth: 2, Width: 32, Heads: 2, MLPRatio: 4, NumClasses: 3, Vocab: 16,
		CVae: 4, Largest: 4, CondDrop: 0.1, AttnL2: true}, d, 2)
	require.NoError(t, err)
	return m, vq
}

func baseOptions() Options {
	return Options{Schedule: schedule.Schedule{1, 2, 3, 4}, CFG: 1.5, TopK: 8, TopP: 0.9, Temperature: 1, Seed: 5}
}

func data(ts []*tensor.Tensor) [][]float32 {
	out := make([][]float32, len(ts))
	for i, t := range ts {
		out[i] = t.Data()
	}
	return out
}

func TestGenerateDeterministic(t *testing.T) {
	m, vq := models(t)
	labels := []int{0, 1, 2, 3}
	r1, err := Generate(m, vq, labels, baseOptions(), nil)
	require.NoError(t, err)
	r2, err := Generate(m, vq, labels, baseOptions(), nil)
	require.NoError(t, err)
	assert.Equal(t, []int{4, 1, 16, 16}, r1.Images.Shape())
	assert.Equal(t, data(r1.IDs), data(r2.IDs))
	assert.Equal(t, r1.Images.Data(), r2.Images.Data())
	opt := baseOptions()
	opt.Seed = 6
	r3, err := Generate(m, vq, labels, opt, nil)
	require.NoError(t, err)
	assert.NotEqual(t, data(r1.IDs), data(r3.IDs))
	for k, s := range opt.Schedule {
		assert.Equal(t, []int{4, s * s}, r1.IDs[k].Shape())
		assert.Equal(t, []int{4, 4, s, s}, r1.Z[k].Shape())
	}
}

// manual is the reference sampler: KV-cached steps, CFG mixing by hand.
func manual(m *sar.Model, vq *tokenizer.VQ, labels []int, opt Options) [][]float32 {
	b := len(labels)
	guided := opt.CFG != 0
	lab := labelTensor(dev(), labels, m.Cfg.NumClasses, guided)
	c := m.NewCache()
	var in *tensor.Tensor
	var off uint64
	var ids [][]float32
	n := len(opt.Schedule)
	for k, s := range opt.Schedule {
		logits := m.Step(c, lab, opt.Schedule, k, in)
		if guided {
			w := opt.CFG * float32(k) / float32(n-1)
			d := logits.Data()
			half := b * s * s * m.Cfg.Vocab
			mixed := make([]float32, half)
			for i := range mixed {
				mixed[i] = (1+w)*d[i] - w*d[half+i]
			}
			logits = tensor.FromSlice(dev(), mixed, b, s*s, m.Cfg.Vocab)
		}
		id := tensor.Sample(logits, opt.TopK, opt.TopP, opt.Temperature, opt.Seed, off)
		off += uint64(b * s * s)
		ids = append(ids, id.Data())
		if k+1 < n {
			in = sar.UpsampleTokens(vq.Embed(id, s), opt.Schedule[k+1])
			if guided {
				in = tensor.Concat(0, in, in)
			}
		}
	}
	return ids
}

func TestGenerateMatchesManualSampling(t *testing.T) {
	m, vq := models(t)
	labels := []int{2, 0, 1}
	tests := []struct {
		name string
		cfg  float32
	}{
		{"cfg 0 samples the conditional logits", 0},
		{"cfg 2 mixes the halves", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := baseOptions()
			opt.CFG = tc.cfg
			r, err := Generate(m, vq, labels, opt, nil)
			require.NoError(t, err)
			assert.Equal(t, manual(m, vq, labels, opt), data(r.IDs))
		})
	}
}

func TestGenerateUntrainedSchedules(t *testing.T) {
	m, vq := models(t)
	for _, sc := range []schedule.Schedule{{1, 4}, {2, 3, 4}, {1, 3}, {4}} {
		t.Run(sc.String(), func(t *testing.T) {
			opt := baseOptions()
			opt.Schedule = sc
			r, err := Generate(m, vq, []int{1, 3}, opt, nil)
			require.NoError(t, err)
			assert.Equal(t, []int{2, 1, 16, 16}, r.Images.Shape())
			last := r.IDs[len(sc)-1].Data()
			for _, v := range last {
				assert.True(t, v >= 0 && v < float32(m.Cfg.Vocab))
			}
		})
	}
}

func TestGenerateStart(t *testing.T) {
	m, vq := models(t)
	opt := baseOptions()
	opt.Schedule = schedule.Schedule{1, 2, 3, 4}
	imgs := tensor.Randn(dev(), 3, 0, 2, 1, 16, 16)
	ids, z := vq.Tokenize(imgs, opt.Schedule)
	for keep := 1; keep <= 3; keep++ {
		r, err := Generate(m, vq, []int{0, 1}, opt, &Start{Z: z[:keep], IDs: ids[:keep]})
		require.NoError(t, err)
		for k := range keep {
			assert.Equal(t, z[k].Data(), r.Z[k].Data(), "given latent %d", k)
			assert.Equal(t, ids[k].Data(), r.IDs[k].Data(), "given ids %d", k)
		}
		assert.Equal(t, []int{2, 1, 16, 16}, r.Images.Shape())
	}
	r, err := Generate(m, vq, []int{0, 1}, opt, &Start{Z: z[:2]})
	require.NoError(t, err)
	assert.Nil(t, r.IDs[0])
	assert.NotNil(t, r.IDs[2])
}

func TestGenerateErrors(t *testing.T) {
	m, vq := models(t)
	z := tensor.Zeros(dev(), 1, 4, 2, 2)
	tests := []struct {
		name   string
		labels []int
		change func(*Options)
		start  *Start
		want   string
	}{
		{"no labels", nil, func(*Options) {}, nil, "no labels"},
		{"label", []int{4}, func(*Options) {}, nil, "label 4"},
		{"schedule too large", []int{0}, func(o *Options) { o.Schedule = schedule.Schedule{1, 8} }, nil, "exceeds"},
		{"schedule empty", []int{0}, func(o *Options) { o.Schedule = nil }, nil, "empty"},
		{"top-k", []int{0}, func(o *Options) { o.TopK = 17 }, nil, "top-k"},
		{"top-p", []int{0}, func(o *Options) { o.TopP = 2 }, nil, "top-p"},
		{"ramp", []int{0}, func(o *Options) { o.Ramp = "cosine" }, nil, `CFG ramp "cosine"`},
		{"greedy", []int{0}, func(o *Options) { o.Greedy = "always" }, nil, `greedy rule "always"`},
		{"start shape", []int{0}, func(*Options) {}, &Start{Z: []*tensor.Tensor{z}}, "given latent 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := baseOptions()
			tc.change(&opt)
			_, err := Generate(m, vq, tc.labels, opt, tc.start)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestGuidance(t *testing.T) {
	tests := []struct {
		cfg  float32
		k, n int
		want float32
	}{{2, 0, 5, 0}, {2, 2, 5, 1}, {2, 4, 5, 2}, {1.5, 0, 1, 1.5}}
	for _, tc := range tests {
		assert.InDelta(t, tc.want, Guidance(tc.cfg, tc.k, tc.n), 1e-6)
	}
}

func TestWeight(t *testing.T) {
	tests := []struct {
		ramp             string
		k, n, s, largest int
		want             float32
	}{
		{"", 0, 5, 1, 16, 0},
		{RampFlexVAR, 2, 5, 4, 16, 1},
		{RampFlexVAR, 4, 5, 8, 16, 2},
		// Beyond ten scales FlexVAR's ratio k/min(n−1, 9) passes 1.
		{RampFlexVAR, 9, 13, 13, 16, 2},
		{RampFlexVAR, 12, 13, 16, 16, 2 * 12.0 / 9},
		{RampLinear, 12, 13, 16, 16, 2},
		{RampLinear, 9, 13, 13, 16, 2 * 9.0 / 12},
		// Scales beyond the largest trained one take the full weight.
		{RampFlexVAR, 1, 5, 24, 16, 2},
		{RampFlexVAR, 0, 1, 4, 4, 2},
	}
	for _, tc := range tests {
		o := Options{CFG: 2, Ramp: tc.ramp}
		assert.InDelta(t, tc.want, o.Weight(tc.k, tc.n, tc.s, tc.largest), 1e-6, "%+v", tc)
	}
}

func TestGreedyAt(t *testing.T) {
	o := Options{}
	for s := 1; s <= 20; s++ {
		standard := map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 8: true, 10: true, 13: true, 16: true}[s]
		assert.Equal(t, !standard, o.GreedyAt(s, 16), "scale %d of a 16 latent", s)
	}
	assert.True(t, o.GreedyAt(7, 8))
	assert.False(t, o.GreedyAt(8, 8))
	assert.True(t, o.GreedyAt(10, 8), "beyond the largest trained scale")
	assert.False(t, o.GreedyAt(12, 12), "the largest scale of the model's own VAR list")
	assert.True(t, o.GreedyAt(24, 16))
	o.Greedy = GreedyNever
	for _, s := range []int{7, 9, 24} {
		assert.False(t, o.GreedyAt(s, 16))
	}
}

// TestGreedyScales generates past a model's largest scale (a tokenizer of
// latent 8 for a model trained up to 4) from the same three given
// scales: under FlexVAR's rule the scales beyond 4 are decoded greedily,
// so two seeds give the same ids; sampling every scale, they differ.
func TestGreedyScales(t *testing.T) {
	m, _ := models(t)
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 32, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}, dev(), 1)
	require.NoError(t, err)
	sc := schedule.Schedule{1, 2, 4, 6, 8}
	labels := []int{0, 1, 2, 0}
	start := &Start{}
	z := tensor.Randn(dev(), 3, 0, len(labels), 4, 1, 1)
	for k := range 3 {
		s := sc[k]
		start.Z = append(start.Z, tensor.Interpolate(z, s, s, tensor.InterpBicubic))
	}
	run := func(greedy string, seed uint64) [][]float32 {
		opt := Options{Schedule: sc, CFG: 1.5, Temperature: 1, Seed: seed, Greedy: greedy}
		r, err := Generate(m, vq, labels, opt, start)
		require.NoError(t, err)
		return data(r.IDs[3:])
	}
	assert.Equal(t, run("", 1), run("", 2))
	assert.NotEqual(t, run(GreedyNever, 1), run(GreedyNever, 2))
}

func TestDecodeScales(t *testing.T) {
	m, vq := models(t)
	r, err := Generate(m, vq, []int{1}, baseOptions(), nil)
	require.NoError(t, err)
	imgs, err := DecodeScales(vq, r.Z)
	require.NoError(t, err)
	require.Len(t, imgs, 4)
	for _, im := range imgs {
		assert.Equal(t, []int{1, 1, 16, 16}, im.Shape())
	}
	assert.Equal(t, r.Images.Data(), imgs[3].Data())
	_, err = DecodeScales(vq, []*tensor.Tensor{nil})
	require.Error(t, err)
}

// TestGenerateInParts checks that a batch drawn in parts (of 1, 2 and 3
// images, the last part shorter) gives the images, ids and latents of the
// batch drawn at once, with and without guidance and from given scales.
func TestGenerateInParts(t *testing.T) {
	m, vq := models(t)
	labels := []int{0, 1, 2, 3, 1, 0, 2}
	for _, guided := range []bool{true, false} {
		opt := baseOptions()
		if !guided {
			opt.CFG = 0
		}
		whole, err := Generate(m, vq, labels, opt, nil)
		require.NoError(t, err)
		start := &Start{Z: []*tensor.Tensor{whole.Z[0], whole.Z[1]}, IDs: []*tensor.Tensor{whole.IDs[0], nil}}
		fromStart, err := Generate(m, vq, labels, opt, start)
		require.NoError(t, err)
		for _, per := range []int{1, 2, 3} {
			opt.Batch = per
			parts, err := Generate(m, vq, labels, opt, nil)
			require.NoError(t, err)
			require.Equal(t, whole.Images.Shape(), parts.Images.Shape())
			assert.Equal(t, data(whole.IDs), data(parts.IDs), "ids, guided %v, parts of %d", guided, per)
			assert.Equal(t, data(whole.Z), data(parts.Z), "latents, guided %v, parts of %d", guided, per)
			assert.Equal(t, whole.Images.Data(), parts.Images.Data(), "images, guided %v, parts of %d", guided, per)
			partsFromStart, err := Generate(m, vq, labels, opt, start)
			require.NoError(t, err)
			assert.Nil(t, partsFromStart.IDs[1], "the given scale without ids has none")
			assert.Equal(t, data(fromStart.IDs[2:]), data(partsFromStart.IDs[2:]), "ids from given scales, guided %v, parts of %d", guided, per)
			assert.Equal(t, fromStart.Images.Data(), partsFromStart.Images.Data(), "images from given scales, guided %v, parts of %d", guided, per)
		}
	}
}
