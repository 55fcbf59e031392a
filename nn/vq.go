package nn

import (
	"fmt"

	"sargo/autograd"
	"sargo/tensor"
)

// VQConfig sizes a VectorQuantizer.
type VQConfig struct {
	Codes, Dim int
	// Beta weights the commitment term (0.25 in VQGAN and FlexVAR).
	Beta float32
	// DeadAfter is the number of train-mode calls a code may go unused
	// before it is restarted from a recent encoder output; 0 disables
	// restarts.
	DeadAfter int
	// Recent is how many recent (normalised) encoder vectors are kept as
	// restart candidates.
	Recent int
}

// DefaultVQConfig is FlexVAR's quantizer: commitment 0.25, with restarts
// of codes unused for 100 calls from the last 4096 encoder vectors.
func DefaultVQConfig(codes, dim int) VQConfig {
	return VQConfig{Codes: codes, Dim: dim, Beta: 0.25, DeadAfter: 100, Recent: 4096}
}

// VectorQuantizer maps each channel vector of a latent to its nearest
// codebook entry by cosine similarity: codebook rows and queries are
// L2-normalised, the output is the normalised code vector with a
// straight-through gradient to the (normalised) input, and the loss is
// mean((zq - sg(z))²) + Beta·mean((sg(zq) - z)²), as FlexVAR's quantizer.
// In train mode it counts code usage and restarts dead codes.
type VectorQuantizer struct {
	Cfg       VQConfig
	Embedding *Embedding
	Train     bool
	// Usage counts how often each code was chosen in train mode.
	Usage []int64
	// RestartSeed keys the choice of restart vectors.
	RestartSeed uint64

	calls    int
	lastUsed []int
	recent   [][]float32
	next     int // ring position in recent
	restarts uint64
}

// NewVectorQuantizer makes a codebook initialised U(-1/K, 1/K) and
// L2-normalised per row, as FlexVAR does.
func NewVectorQuantizer(in *Init, cfg VQConfig) (*VectorQuantizer, error) {
	if cfg.Codes <= 0 || cfg.Dim <= 0 {
		return nil, fmt.Errorf("vector quantizer: invalid size %d codes × %d", cfg.Codes, cfg.Dim)
	}
	k := float32(cfg.Codes)
	s := tensor.NewScope(in.Backend)
	defer s.Close()
	w := in.Uniform(-1/k, 1/k, cfg.Codes, cfg.Dim)
	wn := autograd.NoGrad().L2Normalize(autograd.Const(w), -1, l2NormEps).Value
	s.Keep(wn)
	return &VectorQuantizer{
		Cfg:         cfg,
		Embedding:   &Embedding{Num: cfg.Codes, Dim: cfg.Dim, Weight: autograd.Param(wn)},
		Usage:       make([]int64, cfg.Codes),
		RestartSeed: in.Seed,
		lastUsed:    make([]int, cfg.Codes),
	}, nil
}

// Codebook returns the L2-normalised codebook [Codes, Dim].
func (q *VectorQuantizer) Codebook(g *autograd.Graph) *autograd.Var {
	return g.L2Normalize(q.Embedding.Weight, -1, l2NormEps)
}

// Lookup returns the normalised code vectors of ids (any shape); the
// result has shape ids.shape + [Dim].
func (q *VectorQuantizer) Lookup(g *autograd.Graph, ids *tensor.Tensor) *autograd.Var {
	return g.Embedding(q.Codebook(g), ids)
}

// VQResult is the output of VectorQuantizer.Forward.
type VQResult struct {
	// Quant is the quantised latent [B, C, H, W] (straight-through).
	Quant *autograd.Var
	// Loss is the codebook plus weighted commitment loss (a scalar).
	Loss *autograd.Var
	// IDs are the chosen codes [B, H, W] as float32.
	IDs *tensor.Tensor
}

// Forward quantises z [B, C, H, W].
func (q *VectorQuantizer) Forward(g *autograd.Graph, z *autograd.Var) (VQResult, error) {
	s := z.Shape()
	if len(s) != 4 || s[1] != q.Cfg.Dim {
		return VQResult{}, fmt.Errorf("vector quantizer: input %v is not [B, %d, H, W]", s, q.Cfg.Dim)
	}
	if q.Train {
		if err := q.restartDead(); err != nil {
			return VQResult{}, err
		}
	}
	B, C, H, W := s[0], s[1], s[2], s[3]
	zf := g.Reshape(g.Permute(z, 0, 2, 3, 1), -1, C)
	zn := g.L2Normalize(zf, -1, l2NormEps)
	cb := q.Codebook(g)
	ids := tensor.Argmax(tensor.MatMul(zn.Value, cb.Value, false, true), 1, false)
	zq := g.Embedding(cb, ids)

	d1 := g.Sub(zq, zn.Detach())
	d2 := g.Sub(zq.Detach(), zn)
	loss := g.Add(g.Mean(g.Mul(d1, d1), false), g.Scale(g.Mean(g.Mul(d2, d2), false), q.Cfg.Beta))

	diff := tensor.Sub(zq.Value, zn.Value)
	st := g.Add(zn, autograd.Const(diff))
	out := g.Permute(g.Reshape(st, B, H, W, C), 0, 3, 1, 2)

	if q.Train {
		if err := q.record(ids, zn.Value); err != nil {
			return VQResult{}, err
		}
	}
	return VQResult{Quant: out, Loss: loss, IDs: ids.Reshape(B, H, W)}, nil
}

// record updates usage counts and the ring of recent encoder vectors.
func (q *VectorQuantizer) record(ids, zn *tensor.Tensor) error {
	q.calls++
	idv, err := ids.Read()
	if err != nil {
		return fmt.Errorf("vector quantizer: read ids: %w", err)
	}
	for _, f := range idv {
		k := int(f)
		q.Usage[k]++
		q.lastUsed[k] = q.calls
	}
	if q.Cfg.DeadAfter <= 0 || q.Cfg.Recent <= 0 {
		return nil
	}
	zv, err := zn.Read()
	if err != nil {
		return fmt.Errorf("vector quantizer: read inputs: %w", err)
	}
	d := q.Cfg.Dim
	for i := 0; i+d <= len(zv); i += d {
		row := append([]float32(nil), zv[i:i+d]...)
		if len(q.recent) < q.Cfg.Recent {
			q.recent = append(q.recent, row)
		} else {
			q.recent[q.next] = row
			q.next = (q.next + 1) % q.Cfg.Recent
		}
	}
	return nil
}

// restartDead replaces every code unused for DeadAfter calls by a
// randomly chosen recent encoder vector.
func (q *VectorQuantizer) restartDead() error {
	if q.Cfg.DeadAfter <= 0 || len(q.recent) == 0 {
		return nil
	}
	var dead []int
	for k, last := range q.lastUsed {
		if q.calls-last >= q.Cfg.DeadAfter {
			dead = append(dead, k)
		}
	}
	if len(dead) == 0 {
		return nil
	}
	w, err := q.Embedding.Weight.Value.Read()
	if err != nil {
		return fmt.Errorf("vector quantizer: read codebook: %w", err)
	}
	d := q.Cfg.Dim
	for _, k := range dead {
		u := tensor.PhiloxUniform(q.RestartSeed, q.restarts)
		q.restarts++
		src := q.recent[min(int(u*float32(len(q.recent))), len(q.recent)-1)]
		copy(w[k*d:(k+1)*d], src)
		q.lastUsed[k] = q.calls
	}
	q.Embedding.Weight.Value.Write(w)
	return nil
}

// Restarts is the number of codes restarted so far.
func (q *VectorQuantizer) Restarts() uint64 { return q.restarts }

// UsedFraction is the fraction of codes chosen at least once in train mode.
func (q *VectorQuantizer) UsedFraction() float64 {
	n := 0
	for _, c := range q.Usage {
		if c > 0 {
			n++
		}
	}
	return float64(n) / float64(len(q.Usage))
}

// Parameters is "embedding.weight".
func (q *VectorQuantizer) Parameters() []NamedParam {
	var p Params
	p.Sub("embedding", q.Embedding)
	return p
}
