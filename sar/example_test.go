package sar_test

import (
	"fmt"

	"sargo/autograd"
	_ "sargo/kernels/cpu"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// A teacher-forcing pass: per-scale latents become the inputs of the next
// scales, and the model returns logits for every token of the schedule.
// The graph owns everything the pass makes; the scope owns the rest.
func Example() {
	dev := tensor.MustOpen("cpu")
	s := tensor.NewScope(dev)
	defer s.Close()
	cfg := sar.Config{Depth: 2, Width: 32, Heads: 2, MLPRatio: 4, NumClasses: 10, Vocab: 64,
		CVae: 8, Largest: 8, CondDrop: 0.1, AttnL2: true}
	m, err := sar.NewModel(cfg, dev, 1)
	if err != nil {
		panic(err)
	}
	scales := schedule.Schedule{1, 2, 4, 8}
	z := make([]*tensor.Tensor, len(scales))
	for k, s := range scales {
		z[k] = tensor.Randn(dev, 2, uint64(k)<<20, 2, cfg.CVae, s, s)
	}
	inputs := sar.NextScaleInputs(z, scales)
	labels := tensor.FromSlice(dev, []float32{3, 7}, 2)
	g := autograd.NewGraph(dev)
	defer g.Close()
	logits := m.Forward(g, labels, scales, autograd.Const(inputs))
	fmt.Println(inputs.Shape(), logits.Shape())
	// Output: [2 84 8] [2 85 64]
}
