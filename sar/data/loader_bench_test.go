package data

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"sargo/internal/cputime"
)

// imageNetSizes are the sizes of benchFolder's images, cycled: ImageNet's
// common landscape and portrait photo sizes, and a small square PNG.
var imageNetSizes = []struct {
	w, h int
	png  bool
}{
	{500, 375, false}, {375, 500, false}, {500, 333, false}, {640, 480, false},
	{500, 375, false}, {333, 500, false}, {500, 400, false}, {256, 256, true},
}

// benchFolder writes an ImageNet-like folder of classes × perClass
// photo-like images drawn from seed into dir: smooth colour gradients
// with per-pixel noise, so that JPEG (quality 90) files have a photo's
// size (about 110 KB at 500×375), at the sizes of imageNetSizes (one in
// eight a 256×256 PNG). It returns the total size of the files.
func benchFolder(b testing.TB, dir string, classes, perClass int, seed uint64) int64 {
	b.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	var total int64
	for c := range classes {
		for i := range perClass {
			s := imageNetSizes[(c*perClass+i)%len(imageNetSizes)]
			img := image.NewRGBA(image.Rect(0, 0, s.w, s.h))
			base := [3]int{r.IntN(64), r.IntN(64), r.IntN(64)}
			for y := range s.h {
				for x := range s.w {
					o := img.PixOffset(x, y)
					img.Pix[o] = uint8(base[0] + (x*96)/s.w + r.IntN(80))
					img.Pix[o+1] = uint8(base[1] + (y*96)/s.h + r.IntN(80))
					img.Pix[o+2] = uint8(base[2] + ((x+y)*96)/(s.w+s.h) + r.IntN(80))
					img.Pix[o+3] = 255
				}
			}
			var buf bytes.Buffer
			ext := ".jpg"
			var err error
			if s.png {
				ext = ".png"
				err = png.Encode(&buf, img)
			} else {
				err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
			}
			if err != nil {
				b.Fatal(err)
			}
			p := filepath.Join(dir, fmt.Sprintf("n%08d", c), fmt.Sprintf("%d%s", i, ext))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
			total += int64(buf.Len())
		}
	}
	return total
}

// BenchmarkLoader measures the images per second the Loader delivers at
// 256 px with ADM's random crop and flips from an ImageNet-like folder
// (benchFolder: 10 classes × 50 images), without prefetching (so that the
// time is the decode's), with 1 and 2 decode workers. images/s is the
// wall-clock rate; images/cpu-s divides by the process's user plus system
// time, the rate one processor delivers, which a loaded machine changes
// far less than wall time. SARGO_LOADER_FOLDER names a folder to
// write the images to (when it does not exist) and keep, for
// `sargo train --data` on the same images.
func BenchmarkLoader(b *testing.B) {
	const classes, perClass, batch = 10, 50, 16
	dir, write := os.Getenv("SARGO_LOADER_FOLDER"), true
	if dir == "" {
		dir = b.TempDir()
	} else if _, err := os.Stat(dir); err == nil {
		write = false
	}
	if write {
		size := benchFolder(b, dir, classes, perClass, 1)
		b.Logf("%s: %d images, %.0f KB each on average", dir, classes*perClass, float64(size)/1e3/float64(classes*perClass))
	}
	ds, err := OpenFolder(dir, 256, 3, Augment{RandomCrop: true, Flip: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			l, err := NewLoader(ds, batch, 1, LoaderOptions{Workers: workers, Prefetch: -1})
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := cputime.Process()
			for i := 0; b.Loop(); i++ {
				if _, _, _, err := l.Batch(i); err != nil {
					b.Fatal(err)
				}
			}
			images := float64(b.N * batch)
			b.ReportMetric(images/b.Elapsed().Seconds(), "images/s")
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				b.ReportMetric(images/cpu.Seconds(), "images/cpu-s")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}
