// Package data loads image datasets for sargo: MNIST from its Go module
// (the embedded default) and any folder of images with one sub-folder per
// class. Images are float32 in [-1, 1], laid out [C, H, W].
//
// Layering: it imports sar/imgio and internal utilities only, never tensor's
// backends, nn or the rest of sar.
package data

import (
	"fmt"
	"math/rand/v2"
)

// Dataset is a labelled set of same-sized images, held in memory or, for
// a folder opened with OpenFolder, read from their files on demand.
type Dataset struct {
	Name    string
	Classes []string  // class names, indexed by label
	C, H, W int       // every image's channels and size
	Images  []float32 // N images of C*H*W values in [-1, 1] (empty when streamed)
	Labels  []int     // N labels in [0, len(Classes))
	// Augment is the augmentation Loader applies to training batches.
	Augment Augment

	files []string // streamed: the file of every image
}

// Len is the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// ImageSize is the number of values in one image.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Image returns image i (a slice into Images; for a streamed dataset, a
// new slice decoded from its file, centre-cropped, and a panic naming the
// file when it cannot be read: use Loader for errors).
func (d *Dataset) Image(i int) []float32 {
	if d.Streamed() {
		img, err := d.load(i, nil)
		if err != nil {
			panic(fmt.Sprintf("dataset %s: image %d: %v", d.Name, i, err))
		}
		return img
	}
	n := d.ImageSize()
	return d.Images[i*n : (i+1)*n]
}

// Batch copies the images and labels at idx into new slices; with flip,
// image k is mirrored horizontally when flip[k] is true (flip may be nil).
// A streamed dataset decodes the images (see Image).
func (d *Dataset) Batch(idx []int, flip []bool) ([]float32, []int) {
	n := d.ImageSize()
	x := make([]float32, 0, len(idx)*n)
	y := make([]int, len(idx))
	for k, i := range idx {
		img := d.Image(i)
		if flip != nil && flip[k] {
			for c := 0; c < d.C; c++ {
				for h := 0; h < d.H; h++ {
					row := img[(c*d.H+h)*d.W : (c*d.H+h+1)*d.W]
					for w := d.W - 1; w >= 0; w-- {
						x = append(x, row[w])
					}
				}
			}
		} else {
			x = append(x, img...)
		}
		y[k] = d.Labels[i]
	}
	return x, y
}

// Subset returns the first n images (all when n <= 0 or n >= Len).
func (d *Dataset) Subset(n int) *Dataset {
	if n <= 0 || n >= d.Len() {
		return d
	}
	s := *d
	if d.Streamed() {
		s.files = d.files[:n]
	} else {
		s.Images = d.Images[:n*d.ImageSize()]
	}
	s.Labels = d.Labels[:n]
	return &s
}

// Validate checks that the sizes and labels agree.
func (d *Dataset) Validate() error {
	if d.C <= 0 || d.H <= 0 || d.W <= 0 {
		return fmt.Errorf("dataset %s: bad image size %dx%dx%d", d.Name, d.C, d.H, d.W)
	}
	if d.Streamed() {
		if len(d.files) != len(d.Labels) {
			return fmt.Errorf("dataset %s: %d files for %d labels", d.Name, len(d.files), len(d.Labels))
		}
	} else if len(d.Images) != len(d.Labels)*d.ImageSize() {
		return fmt.Errorf("dataset %s: %d values for %d images of %d", d.Name, len(d.Images), len(d.Labels), d.ImageSize())
	}
	for i, l := range d.Labels {
		if l < 0 || l >= len(d.Classes) {
			return fmt.Errorf("dataset %s: image %d has label %d, outside [0, %d)", d.Name, i, l, len(d.Classes))
		}
	}
	return nil
}

// Shuffler yields epochs of indices in an order fixed by the seed: epoch e
// of seed s is the same permutation on every machine.
type Shuffler struct {
	N    int
	Seed uint64
}

// Epoch returns the permutation for epoch e.
func (s Shuffler) Epoch(e int) []int {
	r := rand.New(rand.NewPCG(s.Seed, uint64(e)))
	return r.Perm(s.N)
}
