package sample_test

import (
	"fmt"
	"os"
	"path/filepath"

	_ "sargo/kernels/cpu"
	"sargo/sar"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// Example loads a tokenizer and a SAR model from their checkpoints and
// samples one image per class, four scales with classifier-free guidance.
// The checkpoints here are tiny untrained ones that writeCheckpoints saves
// first; those of `sargo train` load the same way (sargo sample is this
// example with flags).
func Example() {
	dir, err := os.MkdirTemp("", "sample-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	writeCheckpoints(dir)

	dev := tensor.MustOpen("cpu") // or "vulkan": the same seed gives the same images
	s := tensor.NewScope(dev)     // owns the models and the samples
	defer s.Close()
	vq, _, err := tokenizer.Load(filepath.Join(dir, "tokenizer.safetensors"), dev)
	if err != nil {
		panic(err)
	}
	m, _, err := sar.LoadModel(filepath.Join(dir, "model.safetensors"), dev)
	if err != nil {
		panic(err)
	}
	labels := []int{0, 1, 2} // one image per class
	opt := sample.Options{Schedule: schedule.Schedule{1, 2, 3, 4}, CFG: 1.5, TopK: 8, Seed: 1}
	r, err := sample.Generate(m, vq, labels, opt, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("images", r.Images.Shape()) // [classes, channels, height, width]
	for k, s := range opt.Schedule {
		fmt.Printf("scale %d: ids %v\n", s, r.IDs[k].Shape())
	}
	// Output:
	// images [3 1 16 16]
	// scale 1: ids [3 1]
	// scale 2: ids [3 4]
	// scale 3: ids [3 9]
	// scale 4: ids [3 16]
}

// writeCheckpoints saves an untrained tokenizer (16×16 grey images, a
// 4×4 latent of 4 channels, 16 codes) and a two-block transformer for
// three classes that fits it.
func writeCheckpoints(dir string) {
	dev := tensor.MustOpen("cpu")
	s := tensor.NewScope(dev)
	defer s.Close()
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 4, Codebook: 16, Beta: 0.25}, dev, 1)
	if err != nil {
		panic(err)
	}
	m, err := sar.NewModel(sar.Config{Depth: 2, Width: 32, Heads: 2, MLPRatio: 4, NumClasses: 3, Vocab: 16,
		CVae: 4, Largest: 4, CondDrop: 0.1, AttnL2: true}, dev, 2)
	if err != nil {
		panic(err)
	}
	if err := vq.Save(filepath.Join(dir, "tokenizer.safetensors"), nil); err != nil {
		panic(err)
	}
	if err := m.Save(filepath.Join(dir, "model.safetensors"), nil); err != nil {
		panic(err)
	}
}
