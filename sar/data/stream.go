package data

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Augment is the data augmentation of training batches (Loader):
//
//   - RandomCrop is ADM's random_crop_arr, as FlexVAR and SAR train on
//     ImageNet: the smaller side resized to a random size in
//     [R, ⌈R/0.88⌉] (box-filter halvings, then bicubic), then a random
//     R×R crop. It needs the source images, so it applies to datasets
//     opened with OpenFolder; others are already at their size.
//   - Flip mirrors each image horizontally with probability 1/2.
type Augment struct {
	RandomCrop bool `json:"random_crop"`
	Flip       bool `json:"flip"`
}

// minCropFrac is random_crop_arr's min_crop_frac as FlexVAR uses it: the
// crop covers at least 88% of the resized smaller side.
const minCropFrac = 0.88

// OpenFolder indexes a labelled image folder laid out as for LoadFolder
// (one sub-folder of PNG or JPEG files per class) without decoding it:
// images are read and decoded when a batch needs them, so a folder of any
// size (ImageNet's 1.28 million files) opens in the time of a directory
// listing. Images may have any size. Without augmentation an image is
// LoadFolder's centre crop; aug is applied by Loader. Files are
// recognised by extension (.png, .jpg, .jpeg, any case); others are
// sniffed, and errors are as LoadFolder's, except that a corrupt image is
// found when first decoded.
func OpenFolder(dir string, size, channels int, aug Augment) (*Dataset, error) {
	classes, err := classFolders("open folder", dir, size, channels)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Name: filepath.Base(filepath.Clean(dir)), Classes: classes, C: channels, H: size, W: size, Augment: aug}
	for label, class := range classes {
		files, err := listImages(filepath.Join(dir, class))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("open folder %s: class folder %q has no PNG or JPEG images", dir, class)
		}
		for _, f := range files {
			d.files = append(d.files, f)
			d.Labels = append(d.Labels, label)
		}
	}
	return d, nil
}

// listImages lists the PNG and JPEG files of a class folder in name order.
func listImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open folder: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		switch ext := strings.ToLower(filepath.Ext(name)); {
		case ext == ".png" || ext == ".jpg" || ext == ".jpeg":
			out = append(out, path)
		case otherImageExt(ext):
			return nil, fmt.Errorf("open folder: %s: unsupported image format %s (want PNG or JPEG)", path, ext)
		default:
			ct, err := sniff(path)
			if err != nil {
				return nil, err
			}
			switch {
			case ct == "image/png" || ct == "image/jpeg":
				out = append(out, path)
			case strings.HasPrefix(ct, "image/"):
				return nil, fmt.Errorf("open folder: %s: unsupported image format %s (want PNG or JPEG)", path, ct)
			}
		}
	}
	return out, nil
}

// sniff returns the content type of a file's first 512 bytes.
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open folder: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", fmt.Errorf("open folder: %s: %w", path, err)
	}
	return http.DetectContentType(head[:n]), nil
}

// Streamed reports whether the dataset decodes its images on demand
// (OpenFolder) rather than holding them in Images.
func (d *Dataset) Streamed() bool { return d.files != nil }

// draw is one image's augmentation: the smaller side it is resized to,
// the crop position as fractions of the free range, and the flip.
type draw struct {
	smaller int
	fx, fy  float64
	flip    bool
}

// load returns image i at the dataset's size in [-1, 1], augmented by dr
// when not nil.
func (d *Dataset) load(i int, dr *draw) ([]float32, error) {
	if !d.Streamed() {
		img := d.Image(i)
		if dr == nil || !dr.flip {
			return append([]float32(nil), img...), nil
		}
		return flipped(img, d.C, d.H, d.W), nil
	}
	path := d.files[i]
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load image: %w", err)
	}
	img, ok, err := decodeImage(path, buf)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("load image: %s: not a PNG or JPEG image", path)
	}
	p := toFloatPlanes(img, d.C)
	if dr == nil {
		return centreCrop(p, d.H), nil
	}
	if !d.Augment.RandomCrop {
		out := centreCrop(p, d.H)
		if dr.flip {
			out = flipped(out, d.C, d.H, d.W)
		}
		return out, nil
	}
	return randomCrop(p, d.H, dr.smaller, dr.fx, dr.fy, dr.flip), nil
}

// maxSmaller is the largest size random_crop_arr resizes the smaller side
// to: ⌈size/0.88⌉.
func maxSmaller(size int) int { return int(math.Ceil(float64(size) / minCropFrac)) }

// flipped mirrors [C, H, W] horizontally into a new slice.
func flipped(img []float32, c, h, w int) []float32 {
	out := make([]float32, len(img))
	for r := range c * h {
		row, dst := img[r*w:(r+1)*w], out[r*w:(r+1)*w]
		for x := range w {
			dst[x] = row[w-1-x]
		}
	}
	return out
}
