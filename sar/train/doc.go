// Package train trains the scale-wise transformer of package sar with the
// three methods the SAR paper compares, and keeps training runs on disk.
//
// # Methods
//
// tf (teacher forcing, FlexVAR): each batch draws a schedule s_0 < ... <
// s_{n−1} (schedule.Random with FlexVAR's sampler, which ends about a third
// of the schedules of a 16×16 latent below 16, or keep-last; or the fixed
// VAR list), tokenizes the images
// at every scale, and runs one forward whose inputs are the ground-truth
// latents of the previous scale, bicubic-upsampled (sar.NextScaleInputs).
// L_TF is the mean cross-entropy over all tokens (each token of an image
// weighted 1/L, images averaged).
//
// sf (naive student forcing, the seed's eq. 1): every scale's input is
// built from the model's own prediction at the scale before, generated
// from the start token without gradient, and every scale is trained
// against the ground truth. It is computed as the authors' progressive
// form (one forward per scale over the growing prefix) would be, with one
// forward with gradient over the whole schedule; see studentForcing for
// why the two are equal. It drifts, which is what it is there to show.
//
// sar (Stagger-Scale Rollout + Contrastive Student-Forcing Loss):
//
//  1. Pass 1 is teacher forcing: logits z^T and L_TF.
//  2. Without gradient, z^T becomes the teacher's ids per scale: by
//     default (Teacher "sample", what the authors' released runs execute
//     whatever their scripts' flags say) classifier-free guidance with the
//     authors' ramp to 1.2, then top-k 900 (clamped to the vocabulary) and
//     top-p 0.96 sampling; or the argmax. Guidance needs unconditional
//     logits, so pass 1 then runs on a doubled batch with null labels in
//     the second half; L_TF uses the conditional half.
//  3. SSR: the teacher's ids at s_{j−1}, embedded with the normalised
//     codebook and upsampled to s_j, are the student input of scale s_j.
//     The rollout is one step deep: inputs always come from the teacher.
//  4. Pass 2 (student forcing) gives logits z^S. Its first token is the
//     class embedding without the start vector, and its labels go through
//     condition dropout again, independently of pass 1, as in the
//     authors' model.
//  5. L_CSFL is the cross-entropy of z^S against the teacher's ids at the
//     rolled-out scales, which are constants: no gradient reaches pass 1
//     through them. SAR.md and the authors' trainer (its "csfl" mode, the
//     one their scripts run) both take the teacher's ids as targets.
//  6. L = L_TF + Sigma·L_CSFL (Sigma 0.01 by default).
//
// # Rollout
//
// Config.Rollout chooses the transitions of pass 2. Its sequence is always
// the start token(s) of the first scale followed by the rolled-out scales
// only: the pass-2 schedule is [s_0] + the last K scales, and scale s_j's
// input comes from the teacher's prediction at s_{j−1}, the scale before
// it in the full schedule. "last" (K = 1, the default) is the authors'
// choice: [class token] + s_n² tokens. "last:K" rolls out the last K
// transitions and "all" every one (K = n − 1, as the seed's equations and
// Figure 5 describe). The loss covers the rolled-out scales' tokens.
//
// # Learning rate
//
// Config.Rates is the schedule: by default FlexVAR's "lin0" (warm-up from
// 0.005× the peak, 5% of the rest at the peak, then linear to LRFloor ×
// the peak at the last step). A run started from a checkpoint continues
// the learning-rate path of the run that wrote it (Continue, ContinueFrom)
// as the authors' SAR post-training resumes FlexVAR's schedule at its
// tail: same peak and shape, no new warm-up, a fresh optimiser.
//
// # Runs
//
// Run keeps a run directory: config.json (the resolved Config), run.json
// (RunInfo), model.safetensors (latest checkpoint with optimiser moments
// and step), checkpoints/step_N.safetensors, samples/step_N.png and
// metrics.jsonl (one Metric per LogEvery steps). Batches, schedules,
// condition dropout and teacher sampling are functions of the seed and
// the step, so a resumed run continues bit-identically on the CPU. A
// non-finite loss or gradient stops the run with a NonFiniteError naming
// the step and the first non-finite parameter (or skips the step with
// SkipNonFinite); the last good checkpoint stays.
//
// Each step runs the forward and backward passes, then reads the loss
// terms and the squared gradient norm from the device in one read, clips
// and updates: no other host reads.
//
// # Data-parallel
//
// With Setup.Parallel, replicas on several local devices and in several
// MPI processes (package dist) each train on a contiguous shard of every
// global batch. Condition dropout and teacher sampling draw by the image's
// index in the global batch, so N replicas compute what one device does up
// to float32 rounding; drop-path draws from a separate range per replica.
// The gradients are averaged in buckets during the backward pass; the loss
// terms, the squared gradient norm and a stop flag are averaged after it,
// so every replica takes the same decisions. Global replica 0 broadcasts
// its weights, optimiser moments and step at the start and writes the run
// directory; Run on other ranks only trains.
//
// Layering: like every sar package, it never imports a backend, bench or
// cmd.
package train
