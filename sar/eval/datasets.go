package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sargo/sar/data"
	"sargo/tensor"
)

// LoadSplits opens the training and test splits of a dataset: "mnist", or
// an image folder (data.LoadFolder) at size×size with channels. A folder
// holding train/ and test/ sub-folders uses them; any other folder is
// split deterministically, every tenth image (by index) going to test.
func LoadSplits(spec string, size, channels int) (train, test *data.Dataset, err error) {
	if spec == "" || spec == "mnist" {
		if train, err = data.LoadMNIST(true); err != nil {
			return nil, nil, fmt.Errorf("load splits: %w", err)
		}
		if test, err = data.LoadMNIST(false); err != nil {
			return nil, nil, fmt.Errorf("load splits: %w", err)
		}
		return train, test, nil
	}
	trDir, teDir := filepath.Join(spec, "train"), filepath.Join(spec, "test")
	if isDir(trDir) && isDir(teDir) {
		if train, err = data.LoadFolder(trDir, size, channels); err != nil {
			return nil, nil, fmt.Errorf("load splits: %w", err)
		}
		if test, err = data.LoadFolder(teDir, size, channels); err != nil {
			return nil, nil, fmt.Errorf("load splits: %w", err)
		}
		return train, test, nil
	}
	all, err := data.LoadFolder(spec, size, channels)
	if err != nil {
		return nil, nil, fmt.Errorf("load splits: %w", err)
	}
	train, test = SplitEvery(all, 10)
	return train, test, nil
}

// LoadTestSplit opens only the test split of LoadSplits's dataset (MNIST's
// test file alone; a folder is still read whole when it has no test/).
func LoadTestSplit(spec string, size, channels int) (*data.Dataset, error) {
	if spec == "" || spec == "mnist" {
		test, err := data.LoadMNIST(false)
		if err != nil {
			return nil, fmt.Errorf("load test split: %w", err)
		}
		return test, nil
	}
	if teDir := filepath.Join(spec, "test"); isDir(teDir) && isDir(filepath.Join(spec, "train")) {
		test, err := data.LoadFolder(teDir, size, channels)
		if err != nil {
			return nil, fmt.Errorf("load test split: %w", err)
		}
		return test, nil
	}
	_, test, err := LoadSplits(spec, size, channels)
	return test, err
}

// SplitEvery puts image i of ds into test when i % every == 0 and into
// train otherwise.
func SplitEvery(ds *data.Dataset, every int) (train, test *data.Dataset) {
	train = &data.Dataset{Name: ds.Name + "-train", Classes: ds.Classes, C: ds.C, H: ds.H, W: ds.W}
	test = &data.Dataset{Name: ds.Name + "-test", Classes: ds.Classes, C: ds.C, H: ds.H, W: ds.W}
	for i := range ds.Len() {
		d := train
		if i%every == 0 {
			d = test
		}
		d.Images = append(d.Images, ds.Image(i)...)
		d.Labels = append(d.Labels, ds.Labels[i])
	}
	return train, test
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// ClassifierFile is the classifier's file name inside a cache folder.
const ClassifierFile = "classifier.safetensors"

// CachedClassifier returns the classifier in dir/ClassifierFile when it
// exists and fits the data; otherwise it trains one on train with cfg,
// measures its accuracy on test, saves it there and returns it.
func CachedClassifier(ctx context.Context, dir string, train, test *data.Dataset, cfg ClassifierTrainConfig, dev tensor.Backend, log io.Writer) (*Classifier, error) {
	if log == nil {
		log = io.Discard
	}
	path := filepath.Join(dir, ClassifierFile)
	want := DefaultClassifierConfig(train.C, train.H, len(train.Classes))
	if _, err := os.Stat(path); err == nil {
		c, name, err := LoadClassifier(path, dev)
		if err != nil {
			return nil, err
		}
		if c.Cfg.Channels != want.Channels || c.Cfg.ImageSize != want.ImageSize || c.Cfg.Classes != want.Classes {
			return nil, fmt.Errorf("classifier %s (trained on %s) does not fit %s: remove it or pass another one", path, name, train.Name)
		}
		fmt.Fprintf(log, "classifier %s (trained on %s, test accuracy %.4f)\n", path, name, c.TestAccuracy)
		return c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("classifier cache: %w", err)
	}
	c, err := NewClassifier(want, dev, cfg.Seed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "training the feature classifier on %s (%d images, %d steps of %d)\n", train.Name, train.Len(), cfg.Steps, cfg.Batch)
	if err := TrainClassifier(ctx, c, train, cfg, log); err != nil {
		return nil, err
	}
	acc, err := c.TestAccuracyOn(test, 0)
	if err != nil {
		return nil, fmt.Errorf("classifier test accuracy: %w", err)
	}
	fmt.Fprintf(log, "classifier test accuracy %.4f on %d images of %s\n", acc, test.Len(), test.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("classifier cache: %w", err)
	}
	if err := c.Save(path, train.Name); err != nil {
		return nil, err
	}
	return c, nil
}
