package eval

import (
	"fmt"
	"io"
	"time"

	"sargo/nn"
	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/sample"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// FeatureName is how every feature-based metric here must be labelled:
// the features come from sargo's own classifier, not from Inception.
const FeatureName = "sargo classifier"

// Options control Evaluate.
type Options struct {
	// N is the number of generated images (labels cycle through the
	// classes); the reference is min(N, test split size) real test images.
	N int
	// Batch is the generation batch.
	Batch int
	// Sampling: the schedule (default the VAR-like list of the latent),
	// CFG scale, top-k, top-p and temperature, and the seed.
	Schedule    schedule.Schedule
	CFG         float32
	TopK        int
	TopP        float32
	Temperature float32
	Seed        uint64
	// Ramp and Greedy are sample.Options' guidance ramp and greedy rule
	// ("" for FlexVAR's).
	Ramp, Greedy string
	// K is the neighbourhood of precision and recall (3 by default).
	K int
	// TokenizerImages is the number of test images the tokenizer's
	// reconstruction error and codebook usage are measured on (0: 1000).
	TokenizerImages int
	// Exposure configures the exposure-bias measurement on the test split
	// (ExposureBias); Exposure.Images 0 skips it.
	Exposure ExposureOptions
}

// DefaultOptions are 10,000 samples in batches of 250 with CFG 1.5 and
// no top-k/top-p, k = 3, and the exposure bias on 1,000 test images.
func DefaultOptions() Options {
	return Options{N: 10000, Batch: 250, CFG: 1.5, Temperature: 1, K: 3, TokenizerImages: 1000, Exposure: DefaultExposureOptions()}
}

// Report is the evaluation of one model. The JSON keys fid, accuracy, is,
// precision, recall and images_per_s are the headline numbers.
type Report struct {
	Model      string  `json:"model"`
	Step       int     `json:"step"`
	Params     int     `json:"params"`
	FID        float64 `json:"fid"`
	Accuracy   float64 `json:"accuracy"`
	IS         float64 `json:"is"`
	Precision  float64 `json:"precision"`
	Recall     float64 `json:"recall"`
	ImagesPerS float64 `json:"images_per_s"`
	// Features names the feature extractor: always FeatureName.
	Features string `json:"features"`
	// ClassifierAccuracy is the classifier's accuracy on the test split.
	ClassifierAccuracy float64 `json:"classifier_accuracy"`
	// RealIS is the Inception-Score analogue of the real test images: the
	// ceiling of IS under this classifier.
	RealIS float64 `json:"real_is"`
	// TokenizerRecon is the tokenizer's reconstruction loss
	// mean|x̂−x| + mean((x̂−x)²) on test images at the largest scale;
	// CodebookUsage the fraction of codes those images use there.
	TokenizerRecon float64 `json:"tokenizer_recon"`
	CodebookUsage  float64 `json:"codebook_usage"`
	N              int     `json:"n"`
	NReference     int     `json:"n_reference"`
	Schedule       string  `json:"schedule"`
	CFG            float32 `json:"cfg"`
	TopK           int     `json:"top_k"`
	TopP           float32 `json:"top_p"`
	Ramp           string  `json:"cfg_ramp,omitempty"`
	Greedy         string  `json:"greedy,omitempty"`
	Seed           uint64  `json:"seed"`
	Seconds        float64 `json:"seconds"`
	// Exposure is the exposure bias on test images (nil when not measured).
	Exposure *Exposure `json:"exposure,omitempty"`
}

// Reference is the real side of the metrics: the classifier's embedding
// of test images and its Gaussian.
type Reference struct {
	Emb    *Embedding
	Labels []int
	Gauss  Gaussian
	IS     float64
}

// NewReference embeds the first n test images (all when n <= 0).
func NewReference(c *Classifier, test *data.Dataset, n int) (*Reference, error) {
	e, labels, err := c.EmbedDataset(test, n, 256)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	g, err := FitGaussian(e.Features, e.N, e.Dim)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	is, err := InceptionScore(e.Probs, e.N, e.Classes)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	return &Reference{Emb: e, Labels: labels, Gauss: g, IS: is}, nil
}

// Generated is a set of class-conditional samples and the time taken.
type Generated struct {
	Images  *tensor.Tensor // [N, C, H, W]
	Labels  []int
	Seconds float64
}

// GenerateSet draws n samples with labels i mod classes in batches,
// timing generation (transformer and decoder) alone. The images belong to
// the caller's scope.
func GenerateSet(m *sar.Model, vq *tokenizer.VQ, opt Options) (*Generated, error) {
	if opt.N < 1 || opt.Batch < 1 {
		return nil, fmt.Errorf("generate set: n %d, batch %d: want positive values", opt.N, opt.Batch)
	}
	sc := opt.Schedule
	if len(sc) == 0 {
		sc = schedule.VARList(vq.Cfg.Latent())
	}
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	out := &Generated{}
	var parts []*tensor.Tensor
	for lo := 0; lo < opt.N; lo += opt.Batch {
		hi := min(lo+opt.Batch, opt.N)
		labels := make([]int, hi-lo)
		for i := range labels {
			labels[i] = (lo + i) % m.Cfg.NumClasses
		}
		so := sample.Options{Schedule: sc, CFG: opt.CFG, TopK: opt.TopK, TopP: opt.TopP, Temperature: opt.Temperature,
			Seed: opt.Seed + uint64(lo)*0x9e3779b97f4a7c15, Ramp: opt.Ramp, Greedy: opt.Greedy}
		images, secs, err := generateBatch(m, vq, labels, so)
		if err != nil {
			return nil, fmt.Errorf("generate set: batch at %d: %w", lo, err)
		}
		out.Seconds += secs
		parts = append(parts, images)
		out.Labels = append(out.Labels, labels...)
	}
	out.Images = tensor.Concat(0, parts...)
	s.Keep(out.Images)
	return out, nil
}

// generateBatch generates one batch and waits for it, returning the
// images (in the caller's scope) and the seconds taken.
func generateBatch(m *sar.Model, vq *tokenizer.VQ, labels []int, so sample.Options) (*tensor.Tensor, float64, error) {
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	t0 := time.Now()
	res, err := sample.Generate(m, vq, labels, so, nil)
	if err != nil {
		return nil, 0, err
	}
	if err := res.Images.Backend().Err(); err != nil {
		return nil, 0, err
	}
	// Reading one value waits for the device to finish the batch.
	if _, err := res.Images.Narrow(0, 0, 1).Read(); err != nil {
		return nil, 0, err
	}
	s.Keep(res.Images)
	return res.Images, time.Since(t0).Seconds(), nil
}

// Score computes every sample metric of generated images against the
// reference.
func Score(c *Classifier, ref *Reference, gen *Generated, k int, r *Report) error {
	e, err := c.Embed(gen.Images, 256)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	g, err := FitGaussian(e.Features, e.N, e.Dim)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if r.FID, err = FrechetDistance(ref.Gauss, g); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if r.Accuracy, err = Accuracy(e.Probs, gen.Labels, e.Classes); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if r.IS, err = InceptionScore(e.Probs, e.N, e.Classes); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if k <= 0 {
		k = 3
	}
	if r.Precision, r.Recall, err = PrecisionRecall(ref.Emb.Features, ref.Emb.N, e.Features, e.N, e.Dim, k); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if gen.Seconds > 0 {
		r.ImagesPerS = float64(e.N) / gen.Seconds
	}
	r.N, r.NReference = e.N, ref.Emb.N
	r.Features = FeatureName
	r.ClassifierAccuracy = c.TestAccuracy
	r.RealIS = ref.IS
	return nil
}

// TokenizerQuality is the tokenizer's reconstruction loss and codebook
// usage at the largest scale over the first n images of ds.
func TokenizerQuality(vq *tokenizer.VQ, ds *data.Dataset, n int) (recon, usage float64, err error) {
	n = min(max(n, 1), ds.Len())
	s := vq.Cfg.Latent()
	if recon, err = tokenizer.Evaluate(vq, ds, s, n, 100); err != nil {
		return 0, 0, fmt.Errorf("tokenizer quality: %w", err)
	}
	used := make([]bool, vq.Cfg.Codebook)
	for lo := 0; lo < n; lo += 100 {
		if err := markUsed(vq, ds, lo, min(lo+100, n), used); err != nil {
			return 0, 0, fmt.Errorf("tokenizer quality: %w", err)
		}
	}
	count := 0
	for _, u := range used {
		if u {
			count++
		}
	}
	return recon, float64(count) / float64(len(used)), nil
}

// markUsed marks the codebook entries the largest-scale ids of images
// [lo, hi) of ds use; what it makes on the device is freed.
func markUsed(vq *tokenizer.VQ, ds *data.Dataset, lo, hi int, used []bool) error {
	s := tensor.NewScope(vq.Device())
	defer s.Close()
	x, _ := imageRange(vq.Device(), ds, lo, hi)
	ids, _ := vq.Tokenize(x, schedule.Schedule{vq.Cfg.Latent()})
	v, err := ids[0].Read()
	if err != nil {
		return err
	}
	for _, id := range v {
		if i := int(id); i >= 0 && i < len(used) {
			used[i] = true
		}
	}
	return nil
}

// Evaluate generates opt.N samples from m and scores them, and measures
// the tokenizer and the exposure bias (opt.Exposure) on the test split
// when test is given. log receives one line per phase (nil
// discards them).
func Evaluate(m *sar.Model, vq *tokenizer.VQ, c *Classifier, ref *Reference, test *data.Dataset, opt Options, log io.Writer) (*Report, error) {
	if log == nil {
		log = io.Discard
	}
	start := time.Now()
	sc := opt.Schedule
	if len(sc) == 0 {
		sc = schedule.VARList(vq.Cfg.Latent())
		opt.Schedule = sc
	}
	r := &Report{Params: nn.NumParams(m.Parameters()), Schedule: sc.String(), CFG: opt.CFG, TopK: opt.TopK, TopP: opt.TopP,
		Ramp: opt.Ramp, Greedy: opt.Greedy, Seed: opt.Seed}
	s := tensor.NewScope(vq.Device()) // the generated images
	defer s.Close()
	gen, err := GenerateSet(m, vq, opt)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	fmt.Fprintf(log, "eval: %d samples in %.1fs (%.1f images/s)\n", opt.N, gen.Seconds, float64(opt.N)/gen.Seconds)
	if err := Score(c, ref, gen, opt.K, r); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	if test != nil {
		n := opt.TokenizerImages
		if n <= 0 {
			n = 1000
		}
		if r.TokenizerRecon, r.CodebookUsage, err = TokenizerQuality(vq, test, n); err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		if opt.Exposure.Images > 0 {
			eo := opt.Exposure
			if len(eo.Schedule) == 0 {
				eo.Schedule = sc
			}
			if r.Exposure, err = ExposureBias(m, vq, test, eo); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
			fmt.Fprintf(log, "eval: exposure bias on %d test images: gap SSR %+.4f, chained %+.4f nats/token\n",
				r.Exposure.Images, r.Exposure.MeanGapSSR, r.Exposure.MeanGapChained)
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}
