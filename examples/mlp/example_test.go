package mlp_test

import (
	"fmt"

	"sargo/autograd"
	_ "sargo/kernels/cpu"
	"sargo/nn"
	"sargo/sar/data"
	"sargo/tensor"
)

// Training sizes: 200 AdamW steps of 64 images from the first 4096 of
// MNIST's test split (32×32 pixels in [-1, 1]), a 1024→64→10 perceptron.
const (
	steps, batch, hidden = 200, 64, 64
	pool                 = 4096
	every                = 40 // print the loss every this many steps
)

// curve trains the perceptron on dev and returns the loss of steps 1,
// 1+every, ... and of the last step. Its scope owns the weights and the
// optimiser's moments; each step's graph owns the batch and every
// activation, and frees them when the step ends.
func curve(dev tensor.Backend, ds *data.Dataset) ([]float32, error) {
	s := tensor.NewScope(dev)
	defer s.Close()
	in := nn.NewInit(dev, 1) // Philox-seeded: the same weights on every backend
	l1 := nn.NewLinear(in, ds.ImageSize(), hidden, true)
	l2 := nn.NewLinear(in, hidden, 10, true)
	params := append(nn.Prefix("l1", l1.Parameters()), nn.Prefix("l2", l2.Parameters())...)
	cfg := nn.DefaultAdamWConfig()
	cfg.LR, cfg.WeightDecay = 1e-3, 0
	opt, err := nn.NewAdamW(params, cfg)
	if err != nil {
		return nil, err
	}
	var losses []float32
	for step := range steps {
		l, err := trainStep(dev, ds, step, l1, l2, opt)
		if err != nil {
			return nil, err
		}
		if step%every == 0 || step == steps-1 {
			losses = append(losses, l)
		}
	}
	return losses, dev.Sync()
}

// trainStep runs one AdamW step on the step's minibatch and returns its
// loss; the graph owns everything the step makes.
func trainStep(dev tensor.Backend, ds *data.Dataset, step int, l1, l2 *nn.Linear, opt *nn.AdamW) (float32, error) {
	g := autograd.NewGraph(dev)
	defer g.Close()
	x, y := minibatch(dev, ds, step)
	h := g.Relu(l1.Forward(g, autograd.Const(x))) // [batch, hidden]
	logits := l2.Forward(g, h)                    // [batch, 10]
	loss := g.CrossEntropy(logits, y, autograd.DefaultCEOptions())
	if err := g.Backward(loss); err != nil {
		return 0, err
	}
	if err := opt.Update(); err != nil {
		return 0, err
	}
	nn.ZeroGrads(opt.Params())
	return loss.Value.Item(), nil
}

// minibatch returns the images [batch, 1024] and labels [batch] of a step:
// consecutive images of the pool, wrapping around.
func minibatch(dev tensor.Backend, ds *data.Dataset, step int) (x, y *tensor.Tensor) {
	n := ds.ImageSize()
	xs, ys := make([]float32, 0, batch*n), make([]float32, 0, batch)
	for i := range batch {
		k := (step*batch + i) % pool
		xs = append(xs, ds.Image(k)...)
		ys = append(ys, float32(ds.Labels[k]))
	}
	return tensor.FromSlice(dev, xs, batch, n), tensor.FromSlice(dev, ys, batch)
}

// Example trains a two-layer perceptron on MNIST for 200 steps on the CPU
// and prints its loss curve. The images come from the MNIST files that the
// GoMNIST module (pinned in go.mod) ships, found in the module cache.
func Example() {
	ds, err := data.LoadMNIST(false)
	if err != nil {
		panic(err)
	}
	losses, err := curve(tensor.MustOpen("cpu"), ds)
	if err != nil {
		panic(err)
	}
	for i, l := range losses {
		fmt.Printf("step %3d  loss %.2f\n", min(i*every, steps-1)+1, l)
	}
	// Output:
	// step   1  loss 2.31
	// step  41  loss 1.60
	// step  81  loss 0.90
	// step 121  loss 0.65
	// step 161  loss 0.58
	// step 200  loss 0.58
}
