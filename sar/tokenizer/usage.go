package tokenizer

import (
	"fmt"

	"sargo/autograd"
	"sargo/nn"
	"sargo/tensor"
)

// codeUsage counts, on the device, how often each code was chosen during
// the current window of training batches, and restarts the codes that
// were never chosen in a window. Nothing is read back to the host until
// the trainer logs.
type codeUsage struct {
	codes  int
	counts *tensor.Tensor // [codes, 1] choices in the current window
	// restarts is the number of codes restarted so far, a device scalar.
	restarts *tensor.Tensor
	// draws is the next unused offset of the restart random stream.
	draws uint64
}

func newCodeUsage(dev tensor.Backend, codes int) *codeUsage {
	return &codeUsage{codes: codes, counts: tensor.Zeros(dev, codes, 1), restarts: tensor.Scalar(dev, 0)}
}

// add counts the codes of ids (any shape), in the caller's scope.
func (u *codeUsage) add(ids *tensor.Tensor) {
	flat := ids.Reshape(-1)
	ones := tensor.Ones(ids.Backend(), flat.Size(), 1)
	tensor.AddInto(u.counts, tensor.ScatterAdd(ones, flat, u.codes))
}

// fraction is the fraction of codes chosen at least once in the current
// window, as a device scalar.
func (u *codeUsage) fraction() *tensor.Tensor {
	used := tensor.Greater(u.counts, tensor.Scalar(u.counts.Backend(), 0))
	return tensor.Scale(tensor.Sum(used, false), 1/float32(u.codes))
}

// restart replaces every code not chosen in the window by a normalised
// encoder vector drawn uniformly from candidates [N, Dim] (Philox stream
// seed), zeroes the AdamW moments of the replaced rows when opt holds the
// codebook, and starts a new window. Its temporaries belong to the
// caller's scope.
func (u *codeUsage) restart(q *quantizer, candidates *tensor.Tensor, opt *nn.AdamW, seed uint64) {
	dev := u.counts.Backend()
	dead := tensor.Equal(u.counts, tensor.Scalar(dev, 0)) // [codes, 1]

	n := candidates.Dim(0)
	r := tensor.Rand(dev, seed, u.draws, u.codes)
	u.draws += uint64(u.codes)
	pick := tensor.Clamp(tensor.Affine(r, float32(n), 0), 0, float32(n-1)) // Gather truncates to the row
	fresh := tensor.Gather(candidates, pick)                               // [codes, Dim]

	replaceRows(q.Embedding.Weight.Value, dead, fresh)
	if opt != nil {
		for i, p := range opt.Params() {
			if p.Var != q.Embedding.Weight {
				continue
			}
			m, v := opt.Moments(i)
			zeros := tensor.ZerosLike(m)
			replaceRows(m, dead, zeros)
			replaceRows(v, dead, zeros)
		}
	}
	tensor.AddInto(u.restarts, tensor.Sum(dead, false))
	u.counts.Fill(0)
}

// replaceRows overwrites, in place, the rows of dst [R, D] where mask
// [R, 1] is non-zero with the rows of src [R, D].
func replaceRows(dst, mask, src *tensor.Tensor) {
	dst.CopyFrom(tensor.Where(mask, src, dst))
}

// latentQueries flattens and L2-normalises a latent [B, C, s, s] into the
// query vectors [B*s*s, C] the quantizer compares with the codebook.
func latentQueries(h *tensor.Tensor) *tensor.Tensor {
	s := h.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("tokenizer: latent %v is not [B, C, s, s]", s))
	}
	flat := h.Permute(0, 2, 3, 1).Contiguous().Reshape(-1, s[1])
	return autograd.NoGrad().L2Normalize(autograd.Const(flat), -1, l2Eps).Value
}
