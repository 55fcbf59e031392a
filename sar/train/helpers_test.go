package train

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/data"
	"sargo/sar/schedule"
	"sargo/tensor"

	_ "sargo/kernels/cpu"
)

// fakeNet is a small stand-in for the transformer with the same contract:
// start tokens at the first scale, a linear map of later inputs, a class
// embedding, and one block-causal mixing step (each token adds the mean
// of the previous scales' features), then a linear head.
type fakeNet struct {
	classes, width, cvae, vocab int
	start                       *autograd.Var
	cls                         *nn.Embedding
	in, mix, out                *nn.Linear
	dropP                       float32
	// poisonAt, when > 0, writes a NaN into in.weight at the start of that
	// step (DropLabels runs first in every step, at offset step·rngStride).
	poisonAt int
}

func newFakeNet(t testing.TB, dev tensor.Backend, classes, cvae, vocab int, seed uint64) *fakeNet {
	t.Helper()
	in := nn.NewInit(dev, seed)
	const w = 16
	return &fakeNet{classes: classes, width: w, cvae: cvae, vocab: vocab,
		start: autograd.Param(in.TruncNormal(0.5, 1, 1, w)),
		cls:   nn.NewEmbedding(in, classes+1, w, 0.5),
		in:    nn.NewLinearStd(in, cvae, w, true, 0.5),
		mix:   nn.NewLinearStd(in, w, w, false, 0.3),
		out:   nn.NewLinearStd(in, w, vocab, true, 0.5),
		dropP: 0.25,
	}
}

func (f *fakeNet) Forward(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) *autograd.Var {
	return f.forward(g, labels, scales, inputs, false)
}

// ForwardStudent leaves the start vector out of the first scale.
func (f *fakeNet) ForwardStudent(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) *autograd.Var {
	return f.forward(g, labels, scales, inputs, true)
}

func (f *fakeNet) forward(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var, student bool) *autograd.Var {
	b := labels.Dim(0)
	s0 := scales[0] * scales[0]
	cls := g.Unsqueeze(f.cls.Forward(g, labels), 1) // [B,1,W]
	first := g.Expand(cls, b, s0, f.width)
	if !student {
		first = g.Add(g.Expand(f.start, b, s0, f.width), cls)
	}
	parts := []*autograd.Var{first}
	if inputs != nil {
		parts = append(parts, g.Add(f.in.Forward(g, inputs), cls))
	}
	h := g.Tanh(g.Concat(1, parts...))
	// Block-causal mixing: scale k adds mix(mean of scales < k).
	offs := scales.Offsets()
	mixed := []*autograd.Var{g.Narrow(h, 1, 0, s0)}
	for k := 1; k < len(scales); k++ {
		prev := g.Mean(g.Narrow(h, 1, 0, offs[k]), true, 1) // [B,1,W]
		cur := g.Narrow(h, 1, offs[k], offs[k+1]-offs[k])
		mixed = append(mixed, g.Add(cur, f.mix.Forward(g, prev)))
	}
	return f.out.Forward(g, g.Concat(1, mixed...))
}

func (f *fakeNet) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Add("start", f.start, true)
	p.Sub("cls", f.cls)
	p.Sub("in", f.in)
	p.Sub("mix", f.mix)
	p.Sub("out", f.out)
	return p
}

func (f *fakeNet) SetTrain(bool) {}

func (f *fakeNet) DropLabels(labels *tensor.Tensor, seed, offset uint64) *tensor.Tensor {
	if f.poisonAt > 0 && offset == uint64(f.poisonAt)*rngStride {
		f.poison()
	}
	l := labels.Data()
	for i := range l {
		if tensor.PhiloxUniform(seed, offset+uint64(i)) < f.dropP {
			l[i] = float32(f.classes)
		}
	}
	return tensor.FromSlice(labels.Backend(), l, len(l))
}

// poison writes a NaN into in.weight.
func (f *fakeNet) poison() {
	w := f.in.Weight.Value
	d := w.Data()
	d[0] = float32(math.NaN())
	w.CopyFrom(tensor.FromSlice(w.Backend(), d, w.Shape()...))
}

func (f *fakeNet) Save(path string, st *nn.TrainState) error {
	return nn.SaveCheckpoint(path, f.Parameters(), st)
}

// fakeTok quantizes the area-downsampled first channel of an image into
// vocab bins and embeds ids with a fixed normalised codebook.
type fakeTok struct {
	vocab, cvae int
	codebook    *tensor.Tensor // [V, CVae]
}

func newFakeTok(dev tensor.Backend, vocab, cvae int) *fakeTok {
	cb := tensor.Randn(dev, 99, 0, vocab, cvae)
	n := tensor.Sqrt(tensor.Sum(tensor.Square(cb), true, 1))
	return &fakeTok{vocab: vocab, cvae: cvae, codebook: tensor.Div(cb, n)}
}

func (f *fakeTok) Tokenize(x *tensor.Tensor, scales schedule.Schedule) (ids, z []*tensor.Tensor) {
	b := x.Dim(0)
	first := x.Narrow(1, 0, 1)
	for _, s := range scales {
		d := tensor.Interpolate(first, s, s, tensor.InterpArea).Data()
		v := make([]float32, len(d))
		for i, x := range d {
			q := math.Round(float64((x + 1) / 2 * float32(f.vocab-1)))
			v[i] = float32(min(max(q, 0), float64(f.vocab-1)))
		}
		id := tensor.FromSlice(x.Backend(), v, b, s*s)
		ids = append(ids, id)
		z = append(z, f.Embed(id, s))
	}
	return ids, z
}

func (f *fakeTok) Embed(ids *tensor.Tensor, s int) *tensor.Tensor {
	b := ids.Dim(0)
	e := tensor.Gather(f.codebook, ids.Reshape(-1)) // [B*s², C]
	return e.Reshape(b, s, s, f.cvae).Permute(0, 3, 1, 2).Contiguous()
}

// fakeData is n random 1×8×8 images with labels in [0, classes).
func fakeData(n, classes int) *data.Dataset {
	ds := &data.Dataset{Name: "fake", C: 1, H: 8, W: 8}
	for i := 0; i < classes; i++ {
		ds.Classes = append(ds.Classes, string(rune('a'+i)))
	}
	for i := 0; i < n; i++ {
		for j := 0; j < 64; j++ {
			ds.Images = append(ds.Images, 2*tensor.PhiloxUniform(7, uint64(i*64+j))-1)
		}
		ds.Labels = append(ds.Labels, i%classes)
	}
	return ds
}

const (
	fakeClasses = 4
	fakeVocab   = 12
	fakeCVae    = 3
	fakeLargest = 4
)

// fakeSetup is a training setup over the fakes on the CPU.
func fakeSetup(t testing.TB, cfg Config) Setup {
	t.Helper()
	dev, err := tensor.Open("cpu")
	require.NoError(t, err)
	return fakeSetupOn(t, cfg, dev)
}

// fakeSetupOn is a training setup over the fakes on dev.
func fakeSetupOn(t testing.TB, cfg Config, dev tensor.Backend) Setup {
	t.Helper()
	return Setup{Cfg: cfg, Net: newFakeNet(t, dev, fakeClasses, fakeCVae, fakeVocab, 1), Tok: newFakeTok(dev, fakeVocab, fakeCVae),
		NullClass: fakeClasses, Largest: fakeLargest, Data: fakeData(32, fakeClasses), Dev: dev}
}

// fakeBatch tokenizes the first b images of s.Data over scales.
func fakeBatch(t testing.TB, s Setup, b int, scales schedule.Schedule) *Batch {
	t.Helper()
	x, labels := s.Data.Batch(seq(b), nil)
	lf := make([]float32, b)
	for i, l := range labels {
		lf[i] = float32(l)
	}
	xt := tensor.FromSlice(s.Dev, x, b, s.Data.C, s.Data.H, s.Data.W)
	return NewBatch(s.Tok, nil, xt, tensor.FromSlice(s.Dev, lf, b), scales)
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// grads runs f's loss backward from zeroed gradients and returns a copy of
// every parameter gradient by name.
func grads(t testing.TB, params []nn.NamedParam, loss func(g *autograd.Graph) *autograd.Var) map[string][]float32 {
	t.Helper()
	nn.ZeroGrads(params)
	g := autograd.NewGraph(params[0].Var.Value.Backend())
	defer g.Close()
	require.NoError(t, g.Backward(loss(g)))
	out := map[string][]float32{}
	for _, p := range params {
		if p.Var.Grad == nil {
			out[p.Name] = make([]float32, p.Var.Value.Size())
			continue
		}
		out[p.Name] = p.Var.Grad.Data()
	}
	nn.ZeroGrads(params)
	return out
}

// newGraph opens a graph on dev that is closed when the test ends.
func newGraph(t testing.TB, dev tensor.Backend) *autograd.Graph {
	g := autograd.NewGraph(dev)
	t.Cleanup(g.Close)
	return g
}
