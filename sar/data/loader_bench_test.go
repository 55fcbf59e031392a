package data

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchFolder writes n JPEG photos-like images of ImageNet's typical size
// (500×375, quality 90: smooth gradients with noise) into two classes.
func benchFolder(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		w, h := 500, 375
		if i%3 == 1 {
			w, h = 375, 500
		}
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				o := img.PixOffset(x, y)
				img.Pix[o] = uint8((x*255)/w + r.IntN(24))
				img.Pix[o+1] = uint8((y*255)/h + r.IntN(24))
				img.Pix[o+2] = uint8(((x+y)*255)/(w+h) + r.IntN(24))
				img.Pix[o+3] = 255
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, strconv.Itoa(i%2), strconv.Itoa(i)+".jpg")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkLoader measures the images per second the Loader delivers at
// 256 px with ADM's random crop and flips, decoding on every processor,
// without prefetching (so that the time is the decode's).
func BenchmarkLoader(b *testing.B) {
	const n, batch = 48, 16
	ds, err := OpenFolder(benchFolder(b, n), 256, 3, Augment{RandomCrop: true, Flip: true})
	if err != nil {
		b.Fatal(err)
	}
	l, err := NewLoader(ds, batch, 1, LoaderOptions{Prefetch: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, _, err := l.Batch(i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
}
