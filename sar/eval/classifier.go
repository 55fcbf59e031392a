package eval

import (
	"encoding/json"
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/nn"
	"sargo/tensor"
)

// ClassifierConfig sizes the feature classifier: three 3×3 convolutions
// of stride 2 (each followed by ReLU) take a C×S×S image to S/8×S/8, a
// linear layer maps the flattened map to Features values (ReLU: the
// feature layer of every metric), and a last linear layer gives the class
// logits.
type ClassifierConfig struct {
	Channels  int   `json:"channels"`   // image channels
	ImageSize int   `json:"image_size"` // image side, a multiple of 8
	Widths    []int `json:"widths"`     // output channels of the three convolutions
	Features  int   `json:"features"`   // width of the feature layer
	Classes   int   `json:"classes"`
}

// DefaultClassifierConfig is the default classifier for images of the
// given channels, side and number of classes: widths 32, 64, 64 and 128
// features.
func DefaultClassifierConfig(channels, size, classes int) ClassifierConfig {
	return ClassifierConfig{Channels: channels, ImageSize: size, Widths: []int{32, 64, 64}, Features: 128, Classes: classes}
}

// Validate names the first unusable field.
func (c ClassifierConfig) Validate() error {
	switch {
	case c.Channels < 1:
		return fmt.Errorf("classifier config: channels %d, want >= 1", c.Channels)
	case c.ImageSize < 8 || c.ImageSize%8 != 0:
		return fmt.Errorf("classifier config: image size %d, want a positive multiple of 8", c.ImageSize)
	case len(c.Widths) != 3:
		return fmt.Errorf("classifier config: %d widths, want 3", len(c.Widths))
	case c.Features < 1:
		return fmt.Errorf("classifier config: features %d, want >= 1", c.Features)
	case c.Classes < 2:
		return fmt.Errorf("classifier config: classes %d, want >= 2", c.Classes)
	}
	for i, w := range c.Widths {
		if w < 1 {
			return fmt.Errorf("classifier config: width %d is %d, want >= 1", i, w)
		}
	}
	return nil
}

// Classifier is the small CNN whose features the metrics use.
type Classifier struct {
	Cfg   ClassifierConfig
	Convs []*nn.Conv2d
	Feat  *nn.Linear
	Head  *nn.Linear
	// TestAccuracy is the accuracy on the test split measured after
	// training (stored in the checkpoint; 0 when unknown).
	TestAccuracy float64
	dev          tensor.Backend
}

// NewClassifier builds a classifier with seeded weights: convolutions
// with PyTorch's default initialisation, linear layers He-normal.
func NewClassifier(cfg ClassifierConfig, dev tensor.Backend, seed uint64) (*Classifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in := nn.NewInit(dev, seed)
	c := &Classifier{Cfg: cfg, dev: dev}
	prev := cfg.Channels
	for _, w := range cfg.Widths {
		c.Convs = append(c.Convs, nn.NewConv2d(in, prev, w, 3, 2, 1, true))
		prev = w
	}
	side := cfg.ImageSize / 8
	flat := prev * side * side
	c.Feat = nn.NewLinearStd(in, flat, cfg.Features, true, math.Sqrt(2/float64(flat)))
	c.Head = nn.NewLinearStd(in, cfg.Features, cfg.Classes, true, math.Sqrt(1/float64(cfg.Features)))
	return c, nil
}

// Device is the backend holding the weights.
func (c *Classifier) Device() tensor.Backend { return c.dev }

// Parameters names the weights "conv.I.weight", "feat.weight",
// "head.weight" and their biases.
func (c *Classifier) Parameters() []nn.NamedParam {
	var p nn.Params
	for i, cv := range c.Convs {
		p.SubIndex("conv", i, cv)
	}
	p.Sub("feat", c.Feat)
	p.Sub("head", c.Head)
	return p
}

// Forward maps images x [B, C, S, S] in [-1, 1] to features [B, Features]
// and logits [B, Classes].
func (c *Classifier) Forward(g *autograd.Graph, x *autograd.Var) (features, logits *autograd.Var) {
	h := x
	for _, cv := range c.Convs {
		h = g.Relu(cv.Forward(g, h))
	}
	b := x.Shape()[0]
	h = g.Reshape(h, b, -1)
	features = g.Relu(c.Feat.Forward(g, h))
	logits = c.Head.Forward(g, features)
	return features, logits
}

// classifierMeta is the checkpoint's config JSON.
type classifierMeta struct {
	Classifier   ClassifierConfig `json:"classifier"`
	TestAccuracy float64          `json:"test_accuracy"`
	Dataset      string           `json:"dataset,omitempty"`
}

// Save writes the weights, configuration and test accuracy atomically;
// dataset names the training data.
func (c *Classifier) Save(path, dataset string) error {
	meta, err := json.Marshal(classifierMeta{Classifier: c.Cfg, TestAccuracy: c.TestAccuracy, Dataset: dataset})
	if err != nil {
		return fmt.Errorf("save classifier %s: %w", path, err)
	}
	if err := nn.SaveCheckpoint(path, c.Parameters(), &nn.TrainState{Config: meta}); err != nil {
		return fmt.Errorf("save classifier: %w", err)
	}
	return nil
}

// LoadClassifier reads a classifier written by Save; it also returns the
// name of the dataset it was trained on.
func LoadClassifier(path string, dev tensor.Backend) (*Classifier, string, error) {
	rep, err := nn.Inspect(path)
	if err != nil {
		return nil, "", fmt.Errorf("load classifier: %w", err)
	}
	var meta classifierMeta
	if err := json.Unmarshal([]byte(rep.Metadata["config"]), &meta); err != nil {
		return nil, "", fmt.Errorf("load classifier %s: no classifier configuration: %w", path, err)
	}
	c, err := NewClassifier(meta.Classifier, dev, 0)
	if err != nil {
		return nil, "", fmt.Errorf("load classifier %s: %w", path, err)
	}
	if err := nn.LoadCheckpoint(path, c.Parameters(), &nn.TrainState{}); err != nil {
		return nil, "", fmt.Errorf("load classifier: %w", err)
	}
	c.TestAccuracy = meta.TestAccuracy
	return c, meta.Dataset, nil
}
