package train

import (
	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// Network is what training needs of the scale-wise transformer; *sar.Model
// implements it.
type Network interface {
	// Forward runs one block-causal pass over scales: the first scale's
	// s_0² positions are start tokens, inputs [B, L − s_0², CVae] hold the
	// later scales' input features token-major (nil for one scale).
	// It returns logits [B, L, V].
	Forward(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) *autograd.Var
	// ForwardStudent is Forward for SAR's student-forcing pass: the first
	// scale's positions hold the class embedding without the learned
	// start vector (FlexVAR's forward with student_forcing=True).
	ForwardStudent(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) *autograd.Var
	// Parameters lists the trainable parameters with their NoDecay flags.
	Parameters() []nn.NamedParam
	// SetTrain switches between training and inference behaviour.
	SetTrain(train bool)
	// DropLabels replaces each label by the null class with the
	// condition-dropout probability, drawn from Philox(seed, offset+i).
	DropLabels(labels *tensor.Tensor, seed, offset uint64) *tensor.Tensor
	// Save writes the weights and state atomically.
	Save(path string, state *nn.TrainState) error
}

// Tokenizer is what training needs of the VQ tokenizer; *tokenizer.VQ
// implements it.
type Tokenizer interface {
	// Tokenize gives, per scale, ids [B, s²] and normalised codebook
	// latents [B, CVae, s, s] of images x [B, C, H, W], without gradient.
	Tokenize(x *tensor.Tensor, scales schedule.Schedule) (ids, z []*tensor.Tensor)
	// Embed maps ids [B, s²] to normalised codebook vectors [B, CVae, s, s].
	Embed(ids *tensor.Tensor, s int) *tensor.Tensor
}

// InputBuilder builds teacher-forcing inputs [B, L − s_0², CVae] from
// per-scale latents (sar.NextScaleInputs).
type InputBuilder func(z []*tensor.Tensor, scales schedule.Schedule) *tensor.Tensor
