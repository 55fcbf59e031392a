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

// add counts the codes of ids (any shape).
func (u *codeUsage) add(ids *tensor.Tensor) {
	flat := ids.Reshape(-1)
	ones := tensor.Ones(ids.Backend(), flat.Size(), 1)
	c := tensor.ScatterAdd(ones, flat, u.codes)
	tensor.AddInto(u.counts, c)
	c.Release()
	ones.Release()
	flat.Release()
}

// fraction is the fraction of codes chosen at least once in the current
// window, as a device scalar.
func (u *codeUsage) fraction() *tensor.Tensor {
	zero := tensor.Scalar(u.counts.Backend(), 0)
	used := tensor.Greater(u.counts, zero)
	zero.Release()
	n := tensor.Sum(used, false)
	used.Release()
	f := tensor.Scale(n, 1/float32(u.codes))
	n.Release()
	return f
}

// restart replaces every code not chosen in the window by a normalised
// encoder vector drawn uniformly from candidates [N, Dim] (Philox stream
// seed), zeroes the AdamW moments of the replaced rows when opt holds the
// codebook, and starts a new window.
func (u *codeUsage) restart(q *quantizer, candidates *tensor.Tensor, opt *nn.AdamW, seed uint64) {
	dev := u.counts.Backend()
	zero := tensor.Scalar(dev, 0)
	dead := tensor.Equal(u.counts, zero) // [codes, 1]
	zero.Release()

	n := candidates.Dim(0)
	r := tensor.Rand(dev, seed, u.draws, u.codes)
	u.draws += uint64(u.codes)
	idx := tensor.Affine(r, float32(n), 0)
	r.Release()
	pick := tensor.Clamp(idx, 0, float32(n-1)) // Gather truncates to the row
	idx.Release()
	fresh := tensor.Gather(candidates, pick) // [codes, Dim]
	pick.Release()

	replaceRows(q.Embedding.Weight.Value, dead, fresh)
	fresh.Release()
	if opt != nil {
		for i, p := range opt.Params() {
			if p.Var != q.Embedding.Weight {
				continue
			}
			m, v := opt.Moments(i)
			zeros := tensor.ZerosLike(m)
			replaceRows(m, dead, zeros)
			replaceRows(v, dead, zeros)
			zeros.Release()
		}
	}
	nd := tensor.Sum(dead, false)
	dead.Release()
	total := tensor.Add(u.restarts, nd)
	nd.Release()
	u.restarts.Release()
	u.restarts = total
	u.counts.Release()
	u.counts = tensor.Zeros(dev, u.codes, 1)
}

// replaceRows overwrites, in place, the rows of dst [R, D] where mask
// [R, 1] is non-zero with the rows of src [R, D].
func replaceRows(dst, mask, src *tensor.Tensor) {
	w := tensor.Where(mask, src, dst)
	dst.CopyFrom(w)
	w.Release()
}

// latentQueries flattens and L2-normalises a latent [B, C, s, s] into the
// query vectors [B*s*s, C] the quantizer compares with the codebook.
func latentQueries(h *tensor.Tensor) *tensor.Tensor {
	s := h.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("tokenizer: latent %v is not [B, C, s, s]", s))
	}
	p := h.Permute(0, 2, 3, 1)
	c := p.Contiguous()
	if c != p {
		p.Release()
	}
	flat := c.Reshape(-1, s[1])
	c.Release()
	zn := autograd.NoGrad().L2Normalize(autograd.Const(flat), -1, l2Eps).Value
	flat.Release()
	return zn
}
