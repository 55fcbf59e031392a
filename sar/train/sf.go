package train

import (
	"sargo/autograd"
	"sargo/tensor"
)

// studentForcing is naive student forcing (the seed's eq. 1): every
// scale's input is built from the model's own prediction at the scale
// before, generated scale by scale from the start token, and each scale is
// trained against the ground truth.
//
// The authors' trainer runs one forward with gradient per scale over the
// growing prefix and keeps the last scale's logits. This computes the same
// loss and gradient more cheaply: the predictions are generated first by
// no-gradient forwards over the prefixes, and then one forward with
// gradient runs over the whole schedule with the generated inputs. Under
// the block-causal mask a scale's logits depend only on the inputs of its
// own and earlier scales, which are the same in both schemes, so every
// scale's logits (and hence the loss and its gradient) are identical.
func (o *Objective) studentForcing(g *autograd.Graph, b *Batch, offset uint64) Losses {
	n := len(b.Scales)
	if n == 1 {
		return o.teacherForcing(g, b)
	}
	labels := b.Labels
	if o.Teacher.Guided() {
		labels, _ = o.doubled(b.Labels, nil)
	}
	bs := b.Size()
	offs := b.Scales.Offsets()
	var parts []*tensor.Tensor // generated inputs of scales 1..k
	for k := 0; k < n-1; k++ {
		// Each prefix forward has a scope of its own, so that only the
		// generated input outlives it.
		s := tensor.NewScope(labels.Backend())
		prefix := b.Scales[:k+1]
		var in *tensor.Tensor
		if k > 0 {
			in = tensor.Concat(1, parts...)
			if o.Teacher.Guided() {
				in = tensor.Concat(0, in, in)
			}
		}
		logits := o.Net.Forward(nil, labels, prefix, constOrNil(in)).Value
		cur := logits.Narrow(1, offs[k], b.Scales[k]*b.Scales[k])
		cond, uncond := cur.Narrow(0, 0, bs), (*tensor.Tensor)(nil)
		if o.Teacher.Guided() {
			uncond = cur.Narrow(0, bs, bs)
		}
		ids := o.Teacher.IDs(cond, uncond, k, n, offset+b.drawOffset(offs[k], b.Scales[k]*b.Scales[k]))
		part := upsampleTokens(o.Tok.Embed(ids, b.Scales[k]), b.Scales[k+1])
		s.Keep(part)
		s.Close()
		parts = append(parts, part)
	}
	logits := o.Net.Forward(g, b.Labels, b.Scales, autograd.Const(tensor.Concat(1, parts...)))
	loss := g.CrossEntropy(logits, b.Target, autograd.DefaultCEOptions())
	return Losses{Total: loss, SF: loss, Tokens: bs * b.Scales.Tokens()}
}
