package main

import (
	"os"
	"path/filepath"
	"strconv"

	"sargo/sar/imgio"
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
