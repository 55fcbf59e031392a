package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sargo/internal/regfile"
	"sargo/sar/imgio"
)

// otherImageExt reports whether ext names an image format LoadFolder
// recognises but cannot decode; finding one is an error rather than a
// silent skip.
func otherImageExt(ext string) bool {
	switch ext {
	case ".gif", ".bmp", ".webp", ".tif", ".tiff", ".heic", ".heif", ".avif", ".ico", ".jxl":
		return true
	}
	return false
}

// LoadFolder loads a labelled image folder: every sub-folder of dir is a
// class (sorted names give the class ids; names starting with "." are
// ignored, as are plain files at the top level) and every PNG or JPEG
// file directly inside it is one image. Each image is converted to
// channels (1: grey by the ITU-R 601 luma weights of color.GrayModel; 3:
// RGB, grey replicated; alpha is dropped), centre-cropped to its largest
// square, resized to size×size with an area (box) filter, which averages
// the source pixels each output pixel covers, fractionally at the edges
// (so upscaling repeats pixels), and scaled to [-1, 1].
//
// Files are recognised by extension (.png, .jpg, .jpeg, any case); a file
// with another extension is sniffed, and loaded when it holds PNG or
// JPEG data. Other image formats (GIF, BMP, WebP, TIFF, ...) are an error
// naming the file; files that are not images (text, JSON, hidden files)
// are skipped silently. A missing path, a path that is not a folder, no
// class folders, a class folder without images, and a corrupt or
// truncated image are errors naming the path.
func LoadFolder(dir string, size int, channels int) (*Dataset, error) {
	classes, err := classFolders("load folder", dir, size, channels)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Name: filepath.Base(filepath.Clean(dir)), Classes: classes, C: channels, H: size, W: size}
	for label, class := range classes {
		n, err := loadClass(d, filepath.Join(dir, class), label)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("load folder %s: class folder %q has no PNG or JPEG images", dir, class)
		}
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("load folder %s: %w", dir, err)
	}
	return d, nil
}

// loadClass appends the images of one class folder to d and returns how
// many it found.
func loadClass(d *Dataset, dir string, label int) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("load folder: %w", err)
	}
	n := 0
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		buf, err := regfile.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("load folder: %w", err)
		}
		img, ok, err := decodeImage(path, buf)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		d.Images = append(d.Images, toPlanes(img, d.H, d.C)...)
		d.Labels = append(d.Labels, label)
		n++
	}
	return n, nil
}

// decodeImage decodes a PNG or JPEG file. It returns ok false for a file
// that is not an image, and an error for a corrupt image or an image in a
// format it does not decode.
func decodeImage(path string, buf []byte) (image.Image, bool, error) {
	ext := strings.ToLower(filepath.Ext(path))
	format := ""
	switch {
	case ext == ".png":
		format = "png"
	case ext == ".jpg" || ext == ".jpeg":
		format = "jpeg"
	case otherImageExt(ext):
		return nil, false, fmt.Errorf("load folder: %s: unsupported image format %s (want PNG or JPEG)", path, ext)
	default:
		switch ct := http.DetectContentType(buf); {
		case ct == "image/png":
			format = "png"
		case ct == "image/jpeg":
			format = "jpeg"
		case strings.HasPrefix(ct, "image/"):
			return nil, false, fmt.Errorf("load folder: %s: unsupported image format %s (want PNG or JPEG)", path, ct)
		default:
			return nil, false, nil
		}
	}
	if err := imgio.CheckSize(buf); err != nil {
		return nil, false, fmt.Errorf("load folder: %s: %w", path, err)
	}
	var img image.Image
	var err error
	if format == "png" {
		img, err = png.Decode(bytes.NewReader(buf))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(buf))
	}
	if err != nil {
		return nil, false, fmt.Errorf("load folder: %s: corrupt or truncated %s image: %w", path, strings.ToUpper(format), err)
	}
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 {
		return nil, false, fmt.Errorf("load folder: %s: empty image %dx%d", path, b.Dx(), b.Dy())
	}
	return img, true, nil
}

// toPlanes converts img to channels planes of size×size in [-1, 1]: centre
// crop to a square, area resize, scale.
func toPlanes(img image.Image, size, channels int) []float32 {
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	// src holds the crop as channels planes of side×side in [0, 1].
	src := make([]float64, channels*side*side)
	for y := range side {
		for x := range side {
			c := img.At(x0+x, y0+y)
			if channels == 1 {
				src[y*side+x] = float64(color.GrayModel.Convert(c).(color.Gray).Y) / 255
				continue
			}
			r, g, bl, _ := c.RGBA()
			p := y*side + x
			src[p] = float64(r) / 65535
			src[side*side+p] = float64(g) / 65535
			src[2*side*side+p] = float64(bl) / 65535
		}
	}
	w := areaWeights(side, size)
	out := make([]float32, channels*size*size)
	for c := range channels {
		plane := src[c*side*side : (c+1)*side*side]
		for oy := range size {
			for ox := range size {
				var acc float64
				for _, wy := range w[oy] {
					for _, wx := range w[ox] {
						acc += wy.w * wx.w * plane[wy.i*side+wx.i]
					}
				}
				out[(c*size+oy)*size+ox] = float32(acc*2 - 1)
			}
		}
	}
	return out
}

// tap is one source index of an output pixel with its weight.
type tap struct {
	i int
	w float64
}

// areaWeights gives, for each of out output pixels along an axis of in
// source pixels, the source pixels it covers with weights proportional to
// the overlap, summing to 1.
func areaWeights(in, out int) [][]tap {
	res := make([][]tap, out)
	scale := float64(in) / float64(out)
	for o := range out {
		lo, hi := float64(o)*scale, float64(o+1)*scale
		for i := int(lo); i < in && float64(i) < hi; i++ {
			ov := min(hi, float64(i+1)) - max(lo, float64(i))
			if ov > 0 {
				res[o] = append(res[o], tap{i, ov / scale})
			}
		}
	}
	return res
}

// classFolders checks the arguments of a folder dataset and lists dir's
// class folders (its sub-folders not starting with "."), sorted; what
// names the operation in errors ("load folder").
func classFolders(what, dir string, size, channels int) ([]string, error) {
	if size < 1 {
		return nil, fmt.Errorf("%s %s: size %d, want >= 1", what, dir, size)
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("%s %s: %d channels, want 1 or 3", what, dir, channels)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s %s: not a folder", what, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var classes []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		return nil, fmt.Errorf("%s %s: no class folders (want one sub-folder of images per class)", what, dir)
	}
	return classes, nil
}
