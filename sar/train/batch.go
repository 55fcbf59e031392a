package train

import (
	"math/rand/v2"

	"sargo/sar/data"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// loader yields the batch of every step as a pure function of the step,
// so a resumed run reads exactly the images an uninterrupted run would
// (data.Loader: a fixed permutation per epoch, the dataset's augmentation
// drawn from the seed and the step, images decoded in parallel and the
// next batch prepared while this step runs).
type loader struct {
	*data.Loader
}

func newLoader(ds *data.Dataset, batch int, seed uint64) (*loader, error) {
	l, err := data.NewLoader(ds, batch, seed, data.LoaderOptions{})
	if err != nil {
		return nil, err
	}
	return &loader{l}, nil
}

// stepsPerEpoch is the number of full batches in one pass.
func (l *loader) stepsPerEpoch() int { return l.StepsPerEpoch() }

// at returns the images and labels of step t and its epoch.
func (l *loader) at(t int) (x []float32, labels []int, epoch int, err error) {
	return l.Batch(t)
}

// part returns images [lo, hi) of step t's batch, their labels and the
// epoch; only those are decoded.
func (l *loader) part(t, lo, hi int) (x []float32, labels []int, epoch int, err error) {
	return l.Part(t, lo, hi)
}

// Batch is one training batch on the device: images tokenized at every
// scale of its schedule, with the teacher-forcing inputs. Its tensors
// belong to the scope open when NewBatch made it.
type Batch struct {
	// Labels [B] are the class labels after condition dropout.
	Labels *tensor.Tensor
	// Classes [B] are the class labels before condition dropout (nil when
	// the batch was built from dropped labels only); SAR's pass 2 drops
	// them again.
	Classes *tensor.Tensor
	// Scales is the batch's schedule s_0 < ... < s_{n-1}.
	Scales schedule.Schedule
	// IDs [B, s_k²] and Z [B, CVae, s_k, s_k] are the ground-truth ids and
	// normalised latents of every scale.
	IDs, Z []*tensor.Tensor
	// Target [B, L] concatenates IDs token-major.
	Target *tensor.Tensor
	// Inputs [B, L − s_0², CVae] are the teacher-forcing inputs
	// bicubic(z_{k−1} → s_k) of every later scale; nil for one scale.
	Inputs *tensor.Tensor
	// Start and Global place a data-parallel shard in its global batch:
	// its first image is image Start of Global (0 and 0 mean the batch is
	// whole). Per-image random draws are laid out over the global batch.
	Start, Global int
}

// Size is the batch size B.
func (b *Batch) Size() int { return b.Labels.Dim(0) }

// NewBatch tokenizes images x [B, C, H, W] at every scale and builds the
// ground-truth targets and teacher-forcing inputs. labels are the
// (already dropped) class labels [B]. inputs may be nil for the package's
// own builder (UpsampleInputs).
func NewBatch(tok Tokenizer, inputs InputBuilder, x, labels *tensor.Tensor, scales schedule.Schedule) *Batch {
	if inputs == nil {
		inputs = UpsampleInputs
	}
	ids, z := tok.Tokenize(x, scales)
	b := &Batch{Labels: labels, Scales: scales, IDs: ids, Z: z}
	b.Target = tensor.Concat(1, ids...)
	if len(scales) > 1 {
		b.Inputs = inputs(z, scales)
	}
	return b
}

// UpsampleInputs builds teacher-forcing inputs from per-scale latents
// z[k] [B, CVae, s_k, s_k]: for k ≥ 1, bicubic(z[k−1] → s_k) flattened
// token-major, concatenated to [B, L − s_0², CVae]. It is the same
// construction as sar.NextScaleInputs.
func UpsampleInputs(z []*tensor.Tensor, scales schedule.Schedule) *tensor.Tensor {
	parts := make([]*tensor.Tensor, 0, len(scales)-1)
	for k := 1; k < len(scales); k++ {
		parts = append(parts, upsampleTokens(z[k-1], scales[k]))
	}
	return tensor.Concat(1, parts...)
}

// upsampleTokens resizes z [B, C, s, s] bicubically to t×t and returns it
// token-major as [B, t², C] (row-major h, w within the scale).
func upsampleTokens(z *tensor.Tensor, t int) *tensor.Tensor {
	b, c := z.Dim(0), z.Dim(1)
	up := tensor.Interpolate(z, t, t, tensor.InterpBicubic)
	return up.Reshape(b, c, t*t).Permute(0, 2, 1).Contiguous()
}

// stepSchedule draws the schedule of step t: FlexVAR's random schedule
// from a generator keyed by (seed, t) with the configured sampler, or the
// fixed VAR list.
func stepSchedule(c Config, largest int, t int) schedule.Schedule {
	if c.Schedule == ScheduleFixed {
		return schedule.VARList(largest)
	}
	sampler, _ := schedule.ParseSampler(c.ScheduleSampler) // checked by Validate
	return schedule.Random(largest, sampler, rand.New(rand.NewPCG(c.Seed, uint64(t))))
}
