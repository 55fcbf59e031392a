package tokenizer_test

import (
	"fmt"

	"sargo/autograd"
	_ "sargo/kernels/cpu"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// Tokenize an image batch at every scale of a schedule and decode the
// coarsest scale back to pixels.
func Example() {
	dev := tensor.MustOpen("cpu")
	cfg := tokenizer.Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 8, ResBlocks: 1, CVae: 4, Codebook: 32, Beta: 0.25}
	vq, err := tokenizer.New(cfg, dev, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := tensor.Zeros(dev, 2, 1, 16, 16)
	ids, z := vq.Tokenize(x, schedule.Schedule{1, 2, 4})
	for k := range ids {
		fmt.Println(ids[k].Shape(), z[k].Shape())
	}
	img := vq.Decode(nil, autograd.Const(z[0]))
	fmt.Println(img.Shape())
	// Output:
	// [2 1] [2 4 1 1]
	// [2 4] [2 4 2 2]
	// [2 16] [2 4 4 4]
	// [2 1 16 16]
}
