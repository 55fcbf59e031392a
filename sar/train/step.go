package train

import (
	"fmt"

	"sargo/autograd"
	"sargo/tensor"
)

// Losses are the terms of one step's objective. Total is what Backward
// runs on; the others are recorded for logging (nil when the method has no
// such term).
type Losses struct {
	Total *autograd.Var
	// TF is the teacher-forcing cross-entropy (SAR pass 1, or TF).
	TF *autograd.Var
	// SF is naive student forcing's cross-entropy against ground truth.
	SF *autograd.Var
	// CSFL is SAR's contrastive student-forcing loss (unweighted).
	CSFL *autograd.Var
	// Tokens is the number of sequence positions the step processed
	// (over all forward passes with gradient), for throughput.
	Tokens int
}

// Objective computes the loss of one method on a batch. It holds no
// state besides its configuration; randomness comes from the offset
// argument of Loss.
type Objective struct {
	Method  string
	Sigma   float32
	Rollout Rollout
	Teacher Teacher
	// NullClass is the label of the unconditional (null) class.
	NullClass int
	// Seed keys the condition dropout of SAR's pass 2.
	Seed uint64
	Net  Network
	Tok  Tokenizer
}

// NewObjective checks cfg and binds it to a network and tokenizer.
func NewObjective(cfg Config, net Network, tok Tokenizer, nullClass int) (*Objective, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, _ := ParseRollout(cfg.Rollout)
	if nullClass <= 0 {
		return nil, fmt.Errorf("objective: null class %d: want the number of classes (> 0)", nullClass)
	}
	return &Objective{Method: cfg.Method, Sigma: cfg.Sigma, Rollout: r, Teacher: NewTeacher(cfg),
		NullClass: nullClass, Seed: cfg.Seed, Net: net, Tok: tok}, nil
}

// Loss builds the method's objective on g, which owns everything it
// makes. offset is the first unused Philox offset of the step (teacher
// sampling draws from it).
func (o *Objective) Loss(g *autograd.Graph, b *Batch, offset uint64) Losses {
	switch o.Method {
	case MethodSF:
		return o.studentForcing(g, b, offset)
	case MethodSAR:
		l, _ := o.sar(g, b, offset)
		return l
	default:
		return o.teacherForcing(g, b)
	}
}

// teacherForcing is FlexVAR's objective: one forward over all scales with
// ground-truth inputs; the mean cross-entropy over all B·L tokens (every
// token weighted 1/L within its image, images averaged).
func (o *Objective) teacherForcing(g *autograd.Graph, b *Batch) Losses {
	logits := o.Net.Forward(g, b.Labels, b.Scales, constOrNil(b.Inputs))
	loss := g.CrossEntropy(logits, b.Target, autograd.DefaultCEOptions())
	return Losses{Total: loss, TF: loss, Tokens: b.Size() * b.Scales.Tokens()}
}

// constOrNil wraps t as a constant leaf, or returns nil for nil.
func constOrNil(t *tensor.Tensor) *autograd.Var {
	if t == nil {
		return nil
	}
	return autograd.Const(t)
}

// doubled returns labels followed by B null labels, and inputs repeated
// twice along the batch axis: the conditional and unconditional halves of
// a classifier-free-guidance batch.
func (o *Objective) doubled(labels, inputs *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	null := tensor.Full(labels.Backend(), float32(o.NullClass), labels.Shape()...)
	l2 := tensor.Concat(0, labels, null)
	if inputs == nil {
		return l2, nil
	}
	return l2, tensor.Concat(0, inputs, inputs)
}
