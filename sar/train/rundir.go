package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sargo/internal/atomicfile"
)

// checkRunDir refuses a run directory that is empty or names a file,
// a fresh run over an existing checkpoint, and a resumption without one.
func checkRunDir(o RunOptions, ckpt string) error {
	if o.Out == "" {
		return errors.New("run: no run directory given")
	}
	if st, err := os.Stat(o.Out); err == nil && !st.IsDir() {
		return fmt.Errorf("run: %s is a file, not a run directory", o.Out)
	}
	_, err := os.Stat(ckpt)
	switch {
	case o.Resume && err != nil:
		return fmt.Errorf("resume: no checkpoint %s", ckpt)
	case !o.Resume && err == nil:
		return fmt.Errorf("run directory %s already holds %s: pass --resume to continue it or choose another --out", o.Out, CheckpointFile)
	}
	return nil
}

// cleanRunDir removes the temporary files that writes into the run
// directory, its checkpoints and its samples left when they were killed,
// and notes them on log. The caller holds the directory's lock.
func cleanRunDir(dir string, log io.Writer) error {
	var removed []string
	for _, d := range []string{dir, filepath.Join(dir, CheckpointDir), filepath.Join(dir, SampleDir)} {
		names, err := atomicfile.CleanDir(d)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove temporary files: %w", err)
		}
		for _, n := range names {
			removed = append(removed, filepath.Join(d, n))
		}
	}
	if len(removed) > 0 && log != nil {
		fmt.Fprintf(log, "removed %d temporary files of interrupted writes: %s\n", len(removed), strings.Join(removed, ", "))
	}
	return nil
}

// tokenizerRef is the TokenizerRef of a run: the tokenizer's absolute
// path and its fingerprint.
func tokenizerRef(info RunInfo) TokenizerRef {
	ref := TokenizerRef{Path: info.Tokenizer, Fingerprint: info.TokenizerFingerprint}
	if abs, err := filepath.Abs(info.Tokenizer); err == nil && info.Tokenizer != "" {
		ref.Path = abs
	}
	return ref
}

// relativeTo rewrites path, given from the working directory, relative
// to dir; when it cannot, it returns path made absolute (or as given).
func relativeTo(dir, path string) string {
	if path == "" {
		return ""
	}
	absPath, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return absPath
	}
	rel, err := filepath.Rel(absDir, absPath)
	if err != nil {
		return absPath
	}
	return rel
}
