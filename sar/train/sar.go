package train

import (
	"sargo/autograd"
	"sargo/tensor"
)

// pass2LabelOffset is where, after the objective's first offset, the
// condition-dropout draws of SAR's pass 2 start (the teacher's draws take
// one per token of pass 1, far fewer).
const pass2LabelOffset = 1 << 23

// sar is SAR's objective (SAR.md §2): Stagger-Scale Rollout (SSR) and the
// Contrastive Student-Forcing Loss (CSFL), as the authors' trainer
// computes it (train_step_tf_then_single_sf_tf, the "csfl" mode).
//
//  1. Pass 1 (teacher forcing) over the batch's schedule with ground-truth
//     inputs gives logits z^T and L_TF. When the teacher samples with CFG,
//     pass 1 runs on the doubled batch (null labels in the second half, as
//     the authors do) and L_TF uses the conditional half only.
//  2. Without gradient, z^T becomes token ids per scale (argmax, or CFG
//     with top-k/top-p sampling).
//  3. SSR: the teacher's ids at scale s_{j−1}, embedded with the
//     normalised codebook and bicubic-upsampled to s_j, are the student
//     input for s_j. The rollout is one step deep: inputs always come from
//     the teacher, never from the student.
//  4. Pass 2 over [s_0] + the rolled-out scales gives z^S. Its first
//     token is the class embedding without the start vector
//     (Network.ForwardStudent), and its labels go through condition
//     dropout again, independently of pass 1, as the authors' model drops
//     labels inside every forward.
//  5. L_CSFL = CE(z^S, teacher ids at the rolled-out scales): the targets
//     are the teacher's own predictions, in SAR.md and in the authors'
//     trainer alike (their ground-truth variant is a separate ablation
//     mode). Targets and student inputs are constants, so no gradient
//     reaches pass 1 through them.
//  6. L = L_TF + sigma·L_CSFL.
//
// A batch without Classes (labels before dropout) uses its labels for
// both passes. It returns the losses and the pass-2 plan with the teacher
// ids it used as targets ([B, Tokens]).
func (o *Objective) sar(g *autograd.Graph, b *Batch, offset uint64) (Losses, sarTrace) {
	bs, n := b.Size(), len(b.Scales)
	offs := b.Scales.Offsets()
	labels, inputs := b.Labels, b.Inputs
	if o.Teacher.Guided() {
		labels, inputs = o.doubled(b.Labels, b.Inputs)
	}
	// Pass 1: teacher forcing.
	full := o.Net.Forward(g, labels, b.Scales, constOrNil(inputs))
	zT := full
	var uncond *tensor.Tensor
	if o.Teacher.Guided() {
		zT = g.Narrow(full, 0, 0, bs)
		uncond = full.Value.Narrow(0, bs, bs)
	}
	lossTF := g.CrossEntropy(zT, b.Target, autograd.DefaultCEOptions())
	out := Losses{Total: lossTF, TF: lossTF, Tokens: labels.Dim(0) * b.Scales.Tokens()}
	plan := planRollout(o.Rollout, b.Scales)
	tr := sarTrace{Plan: plan}
	if plan.Tokens == 0 {
		return out, tr
	}

	// Teacher ids (no gradient) at every scale that feeds or is a target
	// of a rolled-out transition.
	teacherIDs := make([]*tensor.Tensor, n)
	idsAt := func(i int) *tensor.Tensor {
		if teacherIDs[i] == nil {
			s2 := b.Scales[i] * b.Scales[i]
			cond := zT.Value.Narrow(1, offs[i], s2)
			var un *tensor.Tensor
			if uncond != nil {
				un = uncond.Narrow(1, offs[i], s2)
			}
			teacherIDs[i] = o.Teacher.IDs(cond, un, i, n, offset+b.drawOffset(offs[i], s2))
		}
		return teacherIDs[i]
	}

	// Stagger-Scale Rollout: student inputs and CSFL targets.
	ins := make([]*tensor.Tensor, 0, len(plan.Transitions))
	tgts := make([]*tensor.Tensor, 0, len(plan.Transitions))
	for _, j := range plan.Transitions {
		ins = append(ins, upsampleTokens(o.Tok.Embed(idsAt(j-1), b.Scales[j-1]), b.Scales[j]))
		tgts = append(tgts, idsAt(j))
	}
	tr.Inputs = tensor.Concat(1, ins...)
	tr.Targets = tensor.Concat(1, tgts...)

	// Pass 2: student forcing on the shifted inputs.
	labels2 := b.Labels
	if b.Classes != nil {
		labels2 = o.Net.DropLabels(b.Classes, o.Seed, offset+pass2LabelOffset+uint64(b.Start))
	}
	zS := o.Net.ForwardStudent(g, labels2, plan.Scales, autograd.Const(tr.Inputs))
	rolled := g.Narrow(zS, 1, plan.Offset, plan.Tokens)
	csfl := g.CrossEntropy(rolled, tr.Targets, autograd.DefaultCEOptions())
	out.CSFL = csfl
	out.Total = g.Add(lossTF, g.Scale(csfl, o.Sigma))
	out.Tokens += bs * plan.Scales.Tokens()
	return out, tr
}

// sarTrace exposes what SAR's pass 2 used, for tests and visualisation.
type sarTrace struct {
	Plan rolloutPlan
	// Inputs [B, Plan.Tokens, CVae] are the SSR student inputs and
	// Targets [B, Plan.Tokens] the teacher ids CSFL is trained against.
	Inputs, Targets *tensor.Tensor
}
