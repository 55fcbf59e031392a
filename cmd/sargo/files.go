package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"sargo/nn"
	"sargo/sar/imgio"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
)

// Helpers that the commands share: locating checkpoints in run
// directories and laying out sample grids.

// checkpointIn resolves a directory or checkpoint path to the checkpoint
// file and the directory holding it.
func checkpointIn(path, name string) (file, dir string) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, name), path
	}
	return path, filepath.Dir(path)
}

// checkOutDir refuses an output directory flag that is empty or names an
// existing file.
func checkOutDir(flag, path string) error {
	if path == "" {
		return fmt.Errorf("--%s is empty: name the directory to write into", flag)
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return fmt.Errorf("--%s %s is a file, not a directory: name a new or existing directory", flag, path)
	}
	return nil
}

// checkOutFile refuses an output file flag that is empty or names an
// existing directory.
func checkOutFile(flag, path string) error {
	if path == "" {
		return fmt.Errorf("--%s is empty: name the file to write", flag)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--%s %s is a directory: name a file to write", flag, path)
	}
	return nil
}

// exists reports whether path is an existing regular file.
func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// gridOf lays the images out with their class as caption.
func gridOf(images *tensor.Tensor, labels []int, numClasses, cols, scale int) (*imgio.Grid, error) {
	d, err := images.Read()
	if err != nil {
		return nil, err
	}
	sh := images.Shape()
	per := sh[1] * sh[2] * sh[3]
	g := &imgio.Grid{C: sh[1], H: sh[2], W: sh[3], Cols: cols, Scale: scale}
	for i, l := range labels {
		g.Images = append(g.Images, d[i*per:(i+1)*per])
		caption := strconv.Itoa(l)
		if l == numClasses {
			caption = "null"
		}
		g.Captions = append(g.Captions, caption)
	}
	return g, nil
}

// checkTokenizerOf refuses a tokenizer whose fingerprint differs from the
// one the model checkpoint at modelPath (whose state st holds its config
// JSON) records, naming both fingerprints and both paths.
func checkTokenizerOf(modelPath string, st *nn.TrainState, vq *tokenizer.VQ, tokPath string) error {
	meta, err := train.ParseCheckpointMeta(st.Config, train.Config{})
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}
	fp, err := vq.Fingerprint()
	if err != nil {
		return err
	}
	return meta.CheckTokenizer(modelPath, tokPath, fp)
}
