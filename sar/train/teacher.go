package train

import (
	"sargo/tensor"
)

// Teacher turns logits of one scale into token ids without gradient:
// argmax, or classifier-free guidance followed by top-k / top-p sampling
// as the authors' trainer does. SAR's teacher, naive student forcing's
// own predictions and the exposure-bias measure of package eval use it.
type Teacher struct {
	sample bool
	cfg    float32
	topK   int
	topP   float32
	seed   uint64
}

// NewTeacher is the teacher of a configuration: Teacher, TeacherCFG,
// TeacherTopK, TeacherTopP and Seed.
func NewTeacher(c Config) Teacher {
	return Teacher{sample: c.Teacher == TeacherSample, cfg: c.TeacherCFG, topK: c.TeacherTopK, topP: c.TeacherTopP, seed: c.Seed}
}

// Guided reports whether the teacher needs unconditional logits: it
// samples with a CFG scale above 1, the authors' condition
// (use_cfg = sf_cfg_scale > 1.0 and sf_use_sampling).
func (t Teacher) Guided() bool { return t.sample && t.cfg > 1 }

// IDs returns [B, s²] token ids for scale i of n from cond [B, s², V]
// (and uncond of the same shape when Guided). Sampling mixes
// (1+w)·cond − w·uncond with w = cfg·(1 + i/(n−1))/2, the authors'
// training-time ramp (from cfg/2 at the first scale to cfg at the last),
// clamps top-k to the vocabulary and draws with Philox(seed, offset+row).
func (t Teacher) IDs(cond, uncond *tensor.Tensor, i, n int, offset uint64) *tensor.Tensor {
	if !t.sample {
		return tensor.Argmax(cond, -1, false)
	}
	logits := cond
	if t.Guided() && uncond != nil {
		ratio := float32(0)
		if n > 1 {
			ratio = float32(i) / float32(n-1)
		}
		w := t.cfg * 0.5 * (1 + ratio)
		logits = tensor.Sub(tensor.Scale(cond, 1+w), tensor.Scale(uncond, w))
	}
	k := min(t.topK, cond.Dim(-1))
	return tensor.Sample(logits, k, t.topP, 1, t.seed, offset)
}
