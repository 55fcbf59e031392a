package main

import (
	"fmt"

	"sargo/internal/membudget"
	"sargo/sar"
	"sargo/sar/imgio"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// sampleBytes is a lower bound of the device memory that sampling n
// images at once takes (sample.Generate): per image (twice over with
// classifier-free guidance) the KV cache of every block over the whole
// schedule, the largest step's activations and logits, the decoder's
// full-resolution feature maps and the image itself, as float32.
func sampleBytes(m sar.Config, t tokenizer.Config, sc schedule.Schedule, n int, guided bool) int64 {
	rows := int64(n)
	if guided {
		rows *= 2
	}
	last := int64(sc.Last()) * int64(sc.Last())
	pixels := int64(t.ImageSize) * int64(t.ImageSize)
	perImage := membudget.Sum(
		membudget.Product(2, int64(m.Depth), int64(sc.Tokens()), int64(m.Width)),   // KV cache
		membudget.Product(last, int64(m.Vocab)+int64(m.Width)*int64(3+m.MLPRatio)), // last step
		membudget.Product(4, int64(t.Base), pixels),                                // decoder
		membudget.Product(int64(t.ImageChannels), pixels),                          // image
	)
	return membudget.Product(rows, perImage, 4)
}

// checkSampleMemory checks that sampling n images at once fits the
// device's memory budget.
func checkSampleMemory(dev tensor.Backend, m sar.Config, t tokenizer.Config, sc schedule.Schedule, n int, guided bool) error {
	b, err := membudget.ForDevice(dev)
	if err != nil {
		return err
	}
	cfg := "without guidance"
	if guided {
		cfg = "with guidance (a doubled batch)"
	}
	return b.Check(fmt.Sprintf("sampling %d images at once (schedule %s, %s)", n, sc, cfg), sampleBytes(m, t, sc, n, guided))
}

// checkGridMemory checks that a grid of n images of side size, cols per
// row and scaled by scale fits the host's memory budget.
func checkGridMemory(n, cols, size, scale int) error {
	b, err := membudget.ForHost()
	if err != nil {
		return err
	}
	return b.Check(fmt.Sprintf("a grid of %d images of %dx%d pixels at --scale %d", n, size, size, scale), imgio.GridBytes(n, cols, size, size, scale))
}

// checkImagesMemory checks that n images of the tokenizer's size, all
// held on the device (eval keeps every generated image), fit its budget.
func checkImagesMemory(dev tensor.Backend, n int, t tokenizer.Config) error {
	b, err := membudget.ForDevice(dev)
	if err != nil {
		return err
	}
	pixels := int64(t.ImageChannels) * int64(t.ImageSize) * int64(t.ImageSize)
	return b.Check(fmt.Sprintf("holding %d generated images of %dx%dx%d", n, t.ImageChannels, t.ImageSize, t.ImageSize),
		membudget.Product(int64(n), pixels, 4))
}
