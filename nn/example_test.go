package nn_test

import (
	"fmt"
	"os"
	"path/filepath"

	"sargo/autograd"
	_ "sargo/kernels/cpu"
	"sargo/nn"
	"sargo/tensor"
)

// A linear layer trained for one step and saved with its optimiser state.
func Example() {
	dev := tensor.MustOpen("cpu")
	lin := nn.NewLinear(nn.NewInit(dev, 1), 3, 2, true)
	params := lin.Parameters()
	opt, err := nn.NewAdamW(params, nn.DefaultAdamWConfig())
	if err != nil {
		panic(err)
	}
	sched := nn.Schedule{Peak: 3e-4, Floor: 3e-5, Warmup: 10, Total: 100, Kind: nn.DecayCosine}

	g := autograd.NewGraph(dev)
	defer g.Close()
	x := autograd.Const(tensor.Ones(dev, 4, 3))
	loss := g.Mean(g.Square(lin.Forward(g, x)), false)
	if err := g.Backward(loss); err != nil {
		panic(err)
	}
	if _, err := nn.ClipGradNorm(params, 2.0); err != nil {
		panic(err)
	}
	if err := opt.UpdateLR(float32(sched.LR(0))); err != nil {
		panic(err)
	}

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ck.safetensors")
	if err := nn.SaveCheckpoint(path, params, &nn.TrainState{Step: 1, Optimizer: opt}); err != nil {
		panic(err)
	}
	r, err := nn.Inspect(path)
	if err != nil {
		panic(err)
	}
	for _, t := range r.Tensors {
		fmt.Println(t.Name, t.Shape)
	}
	// Output:
	// weight [2 3]
	// bias [2]
	// optim.m.weight [2 3]
	// optim.v.weight [2 3]
	// optim.m.bias [2]
	// optim.v.bias [2]
}
