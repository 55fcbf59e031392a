package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTaps(t *testing.T) {
	// Same size: every output pixel is its source pixel.
	for o, ts := range taps(5, 5, bicubicFilter) {
		require.Len(t, ts, 1, "output %d", o)
		assert.Equal(t, tap{o, 1}, ts[0])
	}
	// Box halving averages pairs.
	for o, ts := range taps(8, 4, boxFilter) {
		assert.Equal(t, []tap{{2 * o, 0.5}, {2*o + 1, 0.5}}, ts)
	}
	// Weights always sum to one.
	for _, ts := range taps(37, 11, bicubicFilter) {
		var s float64
		for _, tp := range ts {
			s += tp.w
		}
		assert.InDelta(t, 1, s, 1e-12)
	}
}

func TestResizeKeepsRamps(t *testing.T) {
	p := planes{c: 1, h: 1, w: 40, v: make([]float32, 40)}
	for i := range p.v {
		p.v[i] = float32(i) / 40
	}
	r := p.resize(1, 20, bicubicFilter)
	// A linear ramp stays linear under a symmetric kernel, away from the
	// edges: output x samples the source at 2x + 0.5.
	for x := 3; x < 17; x++ {
		assert.InDelta(t, (2*float64(x)+0.5)/40, r.v[x], 1e-6, "x %d", x)
	}
}

func TestRandomCropIdentity(t *testing.T) {
	p := planes{c: 3, h: 16, w: 16, v: make([]float32, 3*16*16)}
	for i := range p.v {
		p.v[i] = float32(i%97) / 97
	}
	out := randomCrop(p, 16, 16, 0.3, 0.9, false)
	require.Len(t, out, 3*16*16)
	for i, v := range p.v {
		assert.InDelta(t, 2*v-1, out[i], 1e-6)
	}
	f := randomCrop(p, 16, 16, 0, 0, true)
	assert.InDelta(t, out[15], f[0], 1e-6, "flipped")
}

func TestRandomCropSizes(t *testing.T) {
	p := planes{c: 1, h: 30, w: 70, v: make([]float32, 30*70)}
	for i := range p.v {
		p.v[i] = float32(i%70) / 70
	}
	for _, smaller := range []int{16, 17, 19} {
		out := randomCrop(p, 16, smaller, 0.999, 0.999, false)
		require.Len(t, out, 16*16)
		for _, v := range out {
			assert.True(t, v >= -1.01 && v <= 1.01)
		}
	}
	assert.Equal(t, 19, maxSmaller(16))
	assert.Equal(t, 291, maxSmaller(256))
}

// writeJPEG writes a w×h colour gradient as a JPEG file.
func writeJPEG(t testing.TB, path string, w, h int, seed int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8((x*255/w + seed*40) % 256), uint8(y * 255 / h), uint8((x + y + seed) % 256), 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

// imageFolder writes classes × per JPEGs of different sizes.
func imageFolder(t testing.TB, classes, per int) string {
	t.Helper()
	dir := t.TempDir()
	for c := range classes {
		for i := range per {
			writeJPEG(t, filepath.Join(dir, string(rune('a'+c)), string(rune('p'+i))+".jpg"), 40+7*i, 30+5*c, c*per+i)
		}
	}
	return dir
}

func TestOpenFolderMatchesLoadFolder(t *testing.T) {
	dir := imageFolder(t, 2, 3)
	writePNG(t, filepath.Join(dir, "a", "z.png"), grey(9, 13, 77))
	for _, ch := range []int{1, 3} {
		mem, err := LoadFolder(dir, 16, ch)
		require.NoError(t, err)
		st, err := OpenFolder(dir, 16, ch, Augment{})
		require.NoError(t, err)
		require.True(t, st.Streamed())
		require.False(t, mem.Streamed())
		assert.Equal(t, mem.Labels, st.Labels)
		assert.Equal(t, mem.Classes, st.Classes)
		require.NoError(t, st.Validate())
		for i := range mem.Len() {
			a, b := mem.Image(i), st.Image(i)
			require.Len(t, b, len(a))
			for j := range a {
				assert.InDelta(t, a[j], b[j], 1e-5, "image %d value %d", i, j)
			}
		}
		x, y := st.Batch([]int{1, 0}, []bool{true, false})
		assert.Equal(t, []int{0, 0}, y)
		assert.Len(t, x, 2*ch*16*16)
		assert.Equal(t, 2, st.Subset(2).Len())
	}
}

func TestOpenFolderErrors(t *testing.T) {
	dir := imageFolder(t, 1, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "x.gif"), []byte("GIF89a"), 0o644))
	_, err := OpenFolder(dir, 16, 3, Augment{})
	assert.ErrorContains(t, err, "x.gif: unsupported image format .gif")
	_, err = OpenFolder(filepath.Join(dir, "nowhere"), 16, 3, Augment{})
	assert.ErrorContains(t, err, "no such file")
	empty := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(empty, "a"), 0o755))
	_, err = OpenFolder(empty, 16, 3, Augment{})
	assert.ErrorContains(t, err, `class folder "a" has no PNG or JPEG images`)
}

func TestLoaderDeterministic(t *testing.T) {
	dir := imageFolder(t, 2, 4)
	ds, err := OpenFolder(dir, 16, 3, Augment{RandomCrop: true, Flip: true})
	require.NoError(t, err)
	serial, err := NewLoader(ds, 3, 9, LoaderOptions{Workers: 1, Prefetch: -1})
	require.NoError(t, err)
	parallel, err := NewLoader(ds, 3, 9, LoaderOptions{Workers: 4, Prefetch: 2})
	require.NoError(t, err)
	other, err := NewLoader(ds, 3, 10, LoaderOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, serial.StepsPerEpoch())
	seen := map[string]bool{}
	for _, step := range []int{0, 1, 5, 2, 2, 9} {
		xa, la, ea, err := serial.Batch(step)
		require.NoError(t, err)
		xb, lb, eb, err := parallel.Batch(step)
		require.NoError(t, err)
		assert.Equal(t, xa, xb, "step %d", step)
		assert.Equal(t, la, lb)
		assert.Equal(t, step/2, ea)
		assert.Equal(t, ea, eb)
		xc, _, _, err := other.Batch(step)
		require.NoError(t, err)
		assert.NotEqual(t, xa, xc, "another seed, other crops")
		seen[string(float32Key(xa))] = true
	}
	assert.Len(t, seen, 5, "every step has its own crops")
}

// float32Key is a map key for a batch.
func float32Key(x []float32) []byte {
	b := make([]byte, 0, len(x))
	for _, v := range x {
		b = append(b, byte(int(v*100)))
	}
	return b
}

func TestLoaderAugmentOff(t *testing.T) {
	dir := imageFolder(t, 1, 3)
	ds, err := OpenFolder(dir, 16, 3, Augment{})
	require.NoError(t, err)
	l, err := NewLoader(ds, 3, 1, LoaderOptions{})
	require.NoError(t, err)
	x, labels, _, err := l.Batch(0)
	require.NoError(t, err)
	perm := Shuffler{N: 3, Seed: 1}.Epoch(0)
	want, wantLabels := ds.Batch(perm, nil)
	assert.Equal(t, want, x, "without augmentation a batch is the centre crops")
	assert.Equal(t, wantLabels, labels)

	mem := &Dataset{Name: "m", Classes: []string{"a"}, C: 1, H: 1, W: 2, Images: []float32{1, 2, 3, 4}, Labels: []int{0, 0},
		Augment: Augment{Flip: true}}
	ml, err := NewLoader(mem, 2, 3, LoaderOptions{})
	require.NoError(t, err)
	flips := 0
	for step := range 40 {
		x, _, _, err := ml.Batch(step)
		require.NoError(t, err)
		for k := range 2 {
			if x[2*k] > x[2*k+1] {
				flips++
			}
		}
	}
	assert.InDelta(t, 40, flips, 15, "about half the images are flipped")
}

func TestLoaderCorruptImage(t *testing.T) {
	dir := imageFolder(t, 1, 2)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "q.jpg"), []byte("\xff\xd8\xff\xe0 not really"), 0o644))
	ds, err := OpenFolder(dir, 16, 3, Augment{Flip: true})
	require.NoError(t, err)
	l, err := NewLoader(ds, 2, 1, LoaderOptions{})
	require.NoError(t, err)
	_, _, _, err = l.Batch(0)
	assert.ErrorContains(t, err, "q.jpg: corrupt or truncated JPEG")
	assert.ErrorContains(t, err, "step 0")
	_, err = NewLoader(ds, 3, 1, LoaderOptions{})
	assert.ErrorContains(t, err, "batch 3 outside [1, 2 images]")
}

// TestLoaderPart checks that a replica's part of a batch holds exactly the
// images, crops and flips of the whole batch at those positions.
func TestLoaderPart(t *testing.T) {
	dir := imageFolder(t, 2, 4)
	ds, err := OpenFolder(dir, 16, 3, Augment{RandomCrop: true, Flip: true})
	require.NoError(t, err)
	whole, err := NewLoader(ds, 4, 5, LoaderOptions{})
	require.NoError(t, err)
	parts, err := NewLoader(ds, 4, 5, LoaderOptions{})
	require.NoError(t, err)
	n := ds.ImageSize()
	for _, step := range []int{0, 3, 1} {
		x, labels, epoch, err := whole.Batch(step)
		require.NoError(t, err)
		for _, r := range [][2]int{{0, 1}, {1, 4}} {
			px, pl, pe, err := parts.Part(step, r[0], r[1])
			require.NoError(t, err)
			assert.Equal(t, x[r[0]*n:r[1]*n], px, "step %d part %v", step, r)
			assert.Equal(t, labels[r[0]:r[1]], pl)
			assert.Equal(t, epoch, pe)
		}
	}
	_, _, _, err = parts.Part(0, 2, 9)
	assert.ErrorContains(t, err, "images [2, 9) of step 0 of batches of 4")
}
