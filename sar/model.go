package sar

// The FlexVAR transformer, read top to bottom: the configuration, the
// model's parameters, then Forward in the order it runs, with shapes
// (B images, L tokens of the schedule, C = Width):
//
//	config     Config, its Validate and init std
//	model      Model: word / class embeddings, start vector, position grid,
//	           Depth blocks, AdaLN head, output head; NewModel
//	embedding  labels → class embedding [B, C] → start tokens [B, s_0², C];
//	           inputs [B, L−s_0², CVae] → WordEmbed → [B, L−s_0², C];
//	           + positions (the grid area-resized per scale) [1, L, C]
//	block      ×Depth: AdaLN-modulated pre-norm residual block (nn.AdaLNBlock:
//	           LayerNorm, L2-normalised attention under the block-causal
//	           mask over scales, MLP Linear → GELU(tanh) → Linear)  [B, L, C]
//	head       AdaLN head (nn.AdaLNHead) → Linear → logits [B, L, Vocab]
//	forward    Forward / ForwardStudent; KV-cached steps are in cache.go
//
// The helpers (init multipliers, per-block config, sin/cos grid, mask)
// close the file.

import (
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// Config sizes the transformer.
type Config struct {
	Depth, Width, Heads int
	MLPRatio            float32 // hidden width of the MLP over Width (4)
	NumClasses          int     // class labels 0..NumClasses-1; NumClasses is the null class
	Vocab               int     // codebook size of the tokenizer
	CVae                int     // latent channels of the tokenizer
	Largest             int     // largest latent side; the position grid is 2×Largest
	CondDrop            float32 // probability of replacing a label by the null class in training (0.1)
	DropPath            float32 // drop-path rate of the last block
	AttnL2              bool    // L2-normalised q/k with a learnable temperature
	// InitGamma multiplies the gamma rows of every block's AdaLN
	// modulation at initialisation (FlexVAR's --alng); 0 means VAR's
	// default 1e-5. It only matters for a model trained from scratch.
	InitGamma float32 `json:",omitempty"`
}

// Validate reports the first field that makes the configuration unusable,
// including sizes beyond the bounds of size.go (a crafted checkpoint's
// metadata cannot ask for an absurd model).
func (c Config) Validate() error {
	switch {
	case c.Depth <= 0 || c.Depth > MaxDepth:
		return fmt.Errorf("sar config: Depth %d must be in [1, %d]", c.Depth, MaxDepth)
	case c.Width <= 0 || c.Width%2 != 0 || c.Width > MaxWidth:
		return fmt.Errorf("sar config: Width %d must be positive, even (sin/cos position grid) and at most %d", c.Width, MaxWidth)
	case c.Heads <= 0 || c.Width%c.Heads != 0:
		return fmt.Errorf("sar config: Heads %d must be positive and divide Width %d", c.Heads, c.Width)
	case !(c.MLPRatio > 0 && c.MLPRatio <= MaxMLPRatio):
		return fmt.Errorf("sar config: MLPRatio %g must be in (0, %d]", c.MLPRatio, MaxMLPRatio)
	case c.mlpHidden() < 1:
		return fmt.Errorf("sar config: MLPRatio %g gives an MLP of %d hidden units at Width %d: want at least 1", c.MLPRatio, c.mlpHidden(), c.Width)
	case c.NumClasses <= 0 || c.NumClasses > MaxClasses:
		return fmt.Errorf("sar config: NumClasses %d must be in [1, %d]", c.NumClasses, MaxClasses)
	case c.Vocab <= 0 || c.Vocab > MaxVocab:
		return fmt.Errorf("sar config: Vocab %d must be in [1, %d]", c.Vocab, MaxVocab)
	case c.CVae <= 0 || c.CVae > MaxCVae:
		return fmt.Errorf("sar config: CVae %d must be in [1, %d]", c.CVae, MaxCVae)
	case c.Largest <= 0 || c.Largest > MaxLargest:
		return fmt.Errorf("sar config: Largest %d must be in [1, %d]", c.Largest, MaxLargest)
	case !(c.CondDrop >= 0 && c.CondDrop < 1):
		return fmt.Errorf("sar config: CondDrop %g must be in [0, 1)", c.CondDrop)
	case !(c.DropPath >= 0 && c.DropPath < 1):
		return fmt.Errorf("sar config: DropPath %g must be in [0, 1)", c.DropPath)
	case !(c.InitGamma >= 0 && c.InitGamma <= 1):
		return fmt.Errorf("sar config: InitGamma %g must be in [0, 1] (0: VAR's 1e-5)", c.InitGamma)
	}
	return nil
}

// InitStd is FlexVAR's automatic init_std, √(1/(3·Width)): the std of every
// linear and embedding weight and of the start vector.
func (c Config) InitStd() float64 { return math.Sqrt(1 / float64(c.Width) / 3) }

// Model is FlexVAR's class-conditional scale-wise transformer.
type Model struct {
	Cfg Config
	// WordEmbed maps a latent vector (CVae) to the width: the input of
	// every scale after the first.
	WordEmbed *nn.Linear
	// ClassEmb has NumClasses+1 rows, the last one the null class. A
	// label's row is both the condition of every AdaLN and the start
	// token.
	ClassEmb *nn.Embedding
	// PosStart [1, 1, Width] is the learned start vector added to the
	// start tokens.
	PosStart *autograd.Var
	// PosGrid [1, Width, 2·Largest, 2·Largest] is the position grid,
	// area-resized to each scale.
	PosGrid *autograd.Var
	Blocks  []*nn.AdaLNBlock
	HeadNm  *nn.AdaLNHead
	Head    *nn.Linear

	train      bool
	dropOffset uint64 // next drop-path stream element in training
	// posGraph and pos are the position embeddings of each scale size
	// recorded on posGraph, read again by a later pass on the same graph
	// (SAR's student pass) instead of resizing the grid again.
	posGraph *autograd.Graph
	pos      []scalePos
}

// scalePos is the position embedding of one scale size s.
type scalePos struct {
	s int
	v *autograd.Var
}

// NewModel builds a model initialised as FlexVAR's init_weights with its
// automatic std: linear and embedding weights trunc-normal with
// Cfg.InitStd and zero biases, the head scaled by 0.02, the AdaLN
// modulations as VAR's (0.5, gammas Cfg.InitGamma), attn.proj and ffn.fc2 divided
// by √(2·Depth), the temperature at log 4 and the position grid at its
// sin/cos values. The same seed gives the same weights on every backend.
func NewModel(cfg Config, dev tensor.Backend, seed uint64) (*Model, error) {
	return newModel(cfg, nn.NewInit(dev, seed))
}

// newModel builds a model drawing from in (whose draws are zeros for a
// model about to be loaded).
func newModel(cfg Config, in *nn.Init) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dev := in.Backend
	if err := cfg.CheckMemory(dev, 1); err != nil {
		return nil, err
	}
	std := cfg.InitStd()
	m := &Model{
		Cfg:       cfg,
		WordEmbed: nn.NewLinearStd(in, cfg.CVae, cfg.Width, true, std),
		ClassEmb:  nn.NewEmbedding(in, cfg.NumClasses+1, cfg.Width, std),
		PosStart:  autograd.Param(in.TruncNormal(std, 1, 1, cfg.Width)),
		PosGrid:   autograd.Param(sinCosGrid(dev, cfg.Width, 2*cfg.Largest)),
	}
	for i := range cfg.Depth {
		b, err := nn.NewAdaLNBlock(in, blockConfig(cfg, i))
		if err != nil {
			return nil, fmt.Errorf("sar model: block %d: %w", i, err)
		}
		// nn draws block linears with VAR's fixed std; FlexVAR uses the
		// automatic one. Rescaling commutes with the block's own scalings.
		for _, p := range b.Parameters() {
			if p.Var.Value.Rank() == 2 {
				scaleValue(p.Var, float32(std/nn.DefaultInitStd))
			}
		}
		m.Blocks = append(m.Blocks, b)
	}
	m.HeadNm = nn.NewAdaLNHead(in, cfg.Width, cfg.Width, normEps, initAdaLN)
	scaleValue(m.HeadNm.AdaLin.Lin.Weight, float32(std/nn.DefaultInitStd))
	m.Head = nn.NewLinearStd(in, cfg.Width, cfg.Vocab, true, std)
	scaleValue(m.Head.Weight, initHead)
	return m, nil
}

// scaleValue multiplies a parameter's value in place by s.
func scaleValue(v *autograd.Var, s float32) { tensor.ScaleInPlace(v.Value, s) }

// Parameters lists the weights under FlexVAR's names. The start vector
// and the position grid are not decayed.
func (m *Model) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Sub("word_embed", m.WordEmbed)
	p.Sub("class_emb", m.ClassEmb)
	p.Add("pos_start", m.PosStart, true)
	p.Add("pos_1LC", m.PosGrid, true)
	for i, b := range m.Blocks {
		p.SubIndex("blocks", i, b)
	}
	p.Sub("head_nm", m.HeadNm)
	p.Sub("head", m.Head)
	return p
}

// SetTrain switches drop-path between training and evaluation.
func (m *Model) SetTrain(train bool) {
	m.train = train
	for _, b := range m.Blocks {
		b.SetTrain(train)
	}
}

// SetDropPathOffset sets the next element of the drop-path random stream
// (keyed by the model's seed), so that a resumed run can continue the
// stream; every training-mode Forward advances it by 2·B·Depth.
func (m *Model) SetDropPathOffset(off uint64) { m.dropOffset = off }

// Training reports whether the model is in training mode.
func (m *Model) Training() bool { return m.train }

// DropLabels is condition dropout: every label becomes the null class
// NumClasses with probability CondDrop, decided by Philox(seed, offset+i)
// for label i. The result is a new tensor; labels is not modified.
func (m *Model) DropLabels(labels *tensor.Tensor, seed, offset uint64) *tensor.Tensor {
	dev := labels.Backend()
	u := tensor.Rand(dev, seed, offset, labels.Shape()...)
	p := tensor.Full(dev, m.Cfg.CondDrop, labels.Shape()...)
	drop := tensor.Greater(p, u)
	null := tensor.Full(dev, float32(m.Cfg.NumClasses), labels.Shape()...)
	return tensor.Where(drop, null, labels)
}

// Positions returns the position embeddings of a schedule [1, L, Width]:
// the grid area-resized to every scale, flattened row-major and
// concatenated. Gradients reach the grid.
func (m *Model) Positions(g *autograd.Graph, scales schedule.Schedule) *autograd.Var {
	parts := make([]*autograd.Var, len(scales))
	for k, s := range scales {
		parts[k] = m.scalePositions(g, s)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return g.Concat(1, parts...)
}

// scalePositions is the grid resized to s×s as [1, s², Width]. On a
// recording graph it is computed once per size: a second pass on the
// graph reads the first one's, so the grid's gradient is one resize's
// backward of their summed gradients.
func (m *Model) scalePositions(g *autograd.Graph, s int) *autograd.Var {
	if g != nil && g != m.posGraph {
		m.posGraph, m.pos = g, m.pos[:0]
	}
	if g != nil {
		for _, c := range m.pos {
			if c.s == s {
				return c.v
			}
		}
	}
	p := g.Interpolate(m.PosGrid, s, s, tensor.InterpArea) // [1, C, s, s]
	p = g.Reshape(p, 1, m.Cfg.Width, s*s)
	p = g.Permute(p, 0, 2, 1)
	if g != nil {
		m.pos = append(m.pos, scalePos{s: s, v: p})
	}
	return p
}

// startTokens are the inputs of the first scale, before positions: the
// label's class embedding plus, unless student, the start vector,
// repeated over its n tokens [B, n, Width].
func (m *Model) startTokens(g *autograd.Graph, cond *autograd.Var, n int, student bool) *autograd.Var {
	b := cond.Value.Dim(0)
	sos := g.Unsqueeze(cond, 1) // [B, 1, C]
	if !student {
		sos = g.Add(sos, m.PosStart)
	}
	if n == 1 {
		return sos
	}
	return g.Expand(sos, b, n, m.Cfg.Width)
}

// checkForward panics on arguments Forward cannot run; they are
// programming errors of the caller.
func (m *Model) checkForward(labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) {
	if err := scales.Validate(2 * m.Cfg.Largest); err != nil {
		panic(fmt.Sprintf("sar: Forward: %v", err))
	}
	b := labels.Size()
	rest := scales.Tokens() - scales[0]*scales[0]
	switch {
	case len(scales) == 1 && inputs != nil:
		panic("sar: Forward: inputs given for a one-scale schedule")
	case len(scales) > 1 && inputs == nil:
		panic(fmt.Sprintf("sar: Forward: schedule %s needs inputs [%d, %d, %d]", scales, b, rest, m.Cfg.CVae))
	case inputs != nil:
		if sh := inputs.Shape(); len(sh) != 3 || sh[0] != b || sh[1] != rest || sh[2] != m.Cfg.CVae {
			panic(fmt.Sprintf("sar: Forward: inputs %v for schedule %s and %d labels, want [%d, %d, %d]", sh, scales, b, b, rest, m.Cfg.CVae))
		}
	}
}

// Forward runs one block-causal pass over a schedule. The first scale's
// s_0² positions are start tokens (class embedding + start vector +
// position); inputs [B, L − s_0², CVae] hold every later scale's input
// features token-major (row-major within a scale), or nil when the
// schedule has one scale. labels [B] hold class ids (NumClasses for the
// null class). It returns the logits [B, L, Vocab].
func (m *Model) Forward(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) *autograd.Var {
	return m.forward(g, labels, scales, inputs, false)
}

// ForwardStudent is Forward for a student-forcing pass, SAR's pass 2: the
// first scale's positions hold the class embedding and the position
// alone, without the start vector, as FlexVAR's forward builds them with
// student_forcing=True.
func (m *Model) ForwardStudent(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) *autograd.Var {
	return m.forward(g, labels, scales, inputs, true)
}

func (m *Model) forward(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var, student bool) *autograd.Var {
	m.checkForward(labels, scales, inputs)
	dev := labels.Backend()
	cond := m.ClassEmb.Forward(g, labels.Reshape(-1))         // [B, C]
	x := m.startTokens(g, cond, scales[0]*scales[0], student) // [B, s_0², C]
	if inputs != nil {
		x = g.Concat(1, x, m.WordEmbed.Forward(g, inputs)) // [B, L, C]
	}
	x = g.Add(x, m.Positions(g, scales))                   // + [1, L, C]
	mask := scaleMask(dev, scales)                         // token i sees scales ≤ its own
	x = m.blocks(g, x, cond, mask, nil)                    // [B, L, C]
	return m.Head.Forward(g, m.HeadNm.Forward(g, x, cond)) // [B, L, Vocab]
}

// blocks runs every block; caches (nil in training) holds one KV cache
// per block. In training mode each call takes fresh drop-path numbers.
func (m *Model) blocks(g *autograd.Graph, x, cond *autograd.Var, mask tensor.AttentionMask, caches []*nn.KVCache) *autograd.Var {
	b := uint64(x.Value.Dim(0))
	for i, blk := range m.Blocks {
		var c *nn.KVCache
		if caches != nil {
			c = caches[i]
		}
		off := m.dropOffset
		if m.train {
			m.dropOffset += 2 * b
		}
		if g != nil {
			x = blk.Forward(g, x, cond, mask, c, off)
			continue
		}
		// Inference: the block's temporaries (attention scores, the MLP's
		// hidden layer) are freed as it ends, and the previous block's
		// output once this one has read it, so that a sampling step holds
		// one block's activations rather than every block's.
		y := autograd.Scoped(x, func(x *autograd.Var) *autograd.Var { return blk.Forward(nil, x, cond, mask, c, off) })
		if i > 0 {
			x.Value.Release()
		}
		x = y
	}
	return x
}

// Initialisation and the pieces Forward assembles: the per-block
// configuration, the initial position grid and the block-causal mask.

// normEps is the LayerNorm epsilon of every norm of the model.
const normEps = 1e-6

// VAR's initialisation multipliers: ada_lin scale/shift rows, ada_lin
// gamma rows (init_adaln_gamma's default, used when Config.InitGamma is
// 0) and the output head.
const (
	initAdaLN      = 0.5
	initAdaLNGamma = 1e-5
	initHead       = 0.02
)

// ScriptInitGamma is the AdaLN gamma multiplier the authors' FlexVAR and
// SAR training scripts pass (--alng): 1e-3 for d16 and d20, 1e-4 for d24.
// Smaller models take d16's value.
func ScriptInitGamma(depth int) float32 {
	if depth >= 24 {
		return 1e-4
	}
	return 1e-3
}

// initGamma is the gamma multiplier of c.
func (c Config) initGamma() float32 {
	if c.InitGamma > 0 {
		return c.InitGamma
	}
	return initAdaLNGamma
}

// blockConfig is the configuration of block i of a model: FlexVAR's
// drop-path rate rises linearly from 0 at the first block to DropPath at
// the last.
func blockConfig(c Config, i int) nn.BlockConfig {
	bc := nn.DefaultBlockConfig(c.Width, c.Heads, c.Depth)
	bc.MLPRatio = float64(c.MLPRatio)
	bc.L2Norm = c.AttnL2
	bc.Eps = normEps
	bc.InitAdaLN, bc.InitAdaLNGamma = initAdaLN, c.initGamma()
	if c.Depth > 1 {
		bc.DropPath = c.DropPath * float32(i) / float32(c.Depth-1)
	}
	return bc
}

// sinCosGrid is FlexVAR's initial position grid [1, C, n, n]: channel 2m
// holds sin(row·ω_m) and channel 2m+1 holds cos(col·ω_m), with
// ω_m = 10000^(−2m/C).
func sinCosGrid(dev tensor.Backend, c, n int) *tensor.Tensor {
	v := make([]float32, c*n*n)
	for m := 0; 2*m < c; m++ {
		w := math.Exp(float64(2*m) * -(math.Log(10000) / float64(c)))
		for i := range n {
			for j := range n {
				v[(2*m)*n*n+i*n+j] = float32(math.Sin(float64(i) * w))
				if 2*m+1 < c {
					v[(2*m+1)*n*n+i*n+j] = float32(math.Cos(float64(j) * w))
				}
			}
		}
	}
	return tensor.FromSlice(dev, v, 1, c, n, n)
}

// scaleMask is the block-causal mask of a schedule: a token sees every
// token of its own scale and of the scales before it.
func scaleMask(dev tensor.Backend, scales schedule.Schedule) tensor.AttentionMask {
	ids := scales.ScaleIDs()
	t := tensor.FromSlice(dev, ids, len(ids))
	return tensor.AttentionMask{Kind: tensor.MaskScale, ScaleQ: t, ScaleK: t}
}
