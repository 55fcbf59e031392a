package tokenizer

import (
	"fmt"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar/schedule"
	"sargo/tensor"
)

// VQ is the tokenizer: encoder, codebook and decoder, of the
// architecture Cfg.Arch names.
type VQ struct {
	Cfg Config

	dev   tensor.Backend
	enc   network
	quant *quantizer
	dec   network
	// quantConv and postQuantConv are VQ-16's 1×1 convolutions between
	// ZChannels and the CVae latent (nil for sargo's own architecture).
	quantConv, postQuantConv *nn.Conv2d
	train                    bool
}

// network is an encoder or a decoder.
type network interface {
	forward(g *autograd.Graph, x *autograd.Var) *autograd.Var
	Parameters() []nn.NamedParam
}

// Quantized is one scale quantized by VQ.Quantize.
type Quantized struct {
	// Z holds the normalised codebook vectors [B, CVae, s, s] with a
	// straight-through gradient to the encoder.
	Z *autograd.Var
	// IDs are the chosen codes [B, s*s] (row-major over the s×s grid).
	IDs *tensor.Tensor
	// Loss is the codebook loss plus Beta times the commitment loss.
	Loss *autograd.Var
}

// New builds a tokenizer on dev with weights drawn from seed: encoder,
// then codebook, then decoder, in that order from one Philox stream (for
// VQ-16: encoder, quant_conv, codebook, post_quant_conv, decoder).
func New(cfg Config, dev tensor.Backend, seed uint64) (*VQ, error) {
	return newVQ(cfg, nn.NewInit(dev, seed))
}

// newVQ builds a tokenizer drawing from in (whose draws are zeros for a
// tokenizer about to be loaded).
func newVQ(cfg Config, in *nn.Init) (*VQ, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckMemory(in.Backend, 1); err != nil {
		return nil, err
	}
	m := &VQ{Cfg: cfg, dev: in.Backend}
	var err error
	if cfg.Arch == ArchVQ16 {
		if m.enc, err = newVQ16Encoder(in, cfg); err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		m.quantConv = nn.NewConv2d(in, cfg.ZChannels, cfg.CVae, 1, 1, 0, true)
		m.quant = newQuantizer(in, cfg)
		m.postQuantConv = nn.NewConv2d(in, cfg.CVae, cfg.ZChannels, 1, 1, 0, true)
		if m.dec, err = newVQ16Decoder(in, cfg); err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		return m, nil
	}
	if m.enc, err = newEncoder(in, cfg); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	m.quant = newQuantizer(in, cfg)
	if m.dec, err = newDecoder(in, cfg); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return m, nil
}

// Device is the backend the weights live on.
func (m *VQ) Device() tensor.Backend { return m.dev }

// Parameters lists encoder.*, quantize.embedding.weight and decoder.*
// (VQ-16 in the reference's order: encoder.*, decoder.*,
// quantize.embedding.weight, quant_conv.*, post_quant_conv.*).
func (m *VQ) Parameters() []nn.NamedParam {
	var p nn.Params
	p.Sub("encoder", m.enc)
	if m.Cfg.Arch == ArchVQ16 {
		p.Sub("decoder", m.dec)
		p.Sub("quantize", m.quant)
		p.Sub("quant_conv", m.quantConv)
		p.Sub("post_quant_conv", m.postQuantConv)
		return p
	}
	p.Sub("quantize", m.quant)
	p.Sub("decoder", m.dec)
	return p
}

// SetTrain switches between training and inference. The tokenizer has no
// dropout, so both compute the same function; the flag is kept for
// symmetry with the other models.
func (m *VQ) SetTrain(train bool) { m.train = train }

// Encode maps images x [B, ImageChannels, ImageSize, ImageSize] to the
// latent [B, CVae, Latent, Latent]. A wrong input shape panics, as shape
// errors do in autograd.
func (m *VQ) Encode(g *autograd.Graph, x *autograd.Var) *autograd.Var {
	s := x.Shape()
	c := m.Cfg
	if len(s) != 4 || s[1] != c.ImageChannels || s[2] != c.ImageSize || s[3] != c.ImageSize {
		panic(fmt.Sprintf("tokenizer: Encode: input %v, want [B, %d, %d, %d]", s, c.ImageChannels, c.ImageSize, c.ImageSize))
	}
	h := m.enc.forward(g, x)
	if m.quantConv != nil {
		h = m.quantConv.Forward(g, h)
	}
	return h
}

// Quantize area-downsamples the latent h [B, CVae, L, L] to s×s (s ≤ L;
// no resampling when s == L) and replaces every vector by its
// cosine-nearest codebook entry. Under a nil graph Loss is still computed
// (it is then (1+Beta)·mean((zq − zn)²)).
func (m *VQ) Quantize(g *autograd.Graph, h *autograd.Var, s int) Quantized {
	hs := h.Shape()
	L := m.Cfg.Latent()
	if len(hs) != 4 || hs[1] != m.Cfg.CVae || hs[2] != L || hs[3] != L {
		panic(fmt.Sprintf("tokenizer: Quantize: latent %v, want [B, %d, %d, %d]", hs, m.Cfg.CVae, L, L))
	}
	if s < 1 || s > L {
		panic(fmt.Sprintf("tokenizer: Quantize: scale %d outside [1, %d]", s, L))
	}
	if s != L {
		h = g.Interpolate(h, s, s, tensor.InterpArea)
	}
	return m.quant.forward(g, h)
}

// Decode reconstructs images [B, ImageChannels, ImageSize, ImageSize]
// (values about [-1, 1]) from z [B, CVae, s, s] for any s ≤ Latent. In
// sargo's own architecture z is bicubic-upsampled to the full latent
// first; VQ-16 decodes z at its own size, as FlexVAR does, and the image
// (Downsample·s pixels wide) is bicubic-upsampled to ImageSize.
func (m *VQ) Decode(g *autograd.Graph, z *autograd.Var) *autograd.Var {
	zs := z.Shape()
	L := m.Cfg.Latent()
	if len(zs) != 4 || zs[1] != m.Cfg.CVae || zs[2] != zs[3] || zs[2] < 1 || zs[2] > L {
		panic(fmt.Sprintf("tokenizer: Decode: latent %v, want [B, %d, s, s] with s <= %d", zs, m.Cfg.CVae, L))
	}
	if m.postQuantConv != nil {
		if g == nil && zs[0] > 1 {
			return m.decodeEach(z)
		}
		y := m.dec.forward(g, m.postQuantConv.Forward(g, z))
		if zs[2] != L {
			y = g.Interpolate(y, m.Cfg.ImageSize, m.Cfg.ImageSize, tensor.InterpBicubic)
		}
		return y
	}
	if zs[2] != L {
		z = g.Interpolate(z, L, L, tensor.InterpBicubic)
	}
	return m.dec.forward(g, z)
}

// decodeEach decodes a batch without gradient one image at a time, so that
// the decoder's activations at full resolution (128 channels of 256×256
// per image for FlexVAE) are held for one image rather than the batch.
func (m *VQ) decodeEach(z *autograd.Var) *autograd.Var {
	var g *autograd.Graph
	n := z.Shape()[0]
	parts := make([]*autograd.Var, n)
	for i := range n { // each image in a scope that keeps only its decode
		parts[i] = autograd.Scoped(z, func(z *autograd.Var) *autograd.Var {
			return m.Decode(nil, autograd.Const(z.Value.Narrow(0, i, 1)))
		})
	}
	out := g.Concat(0, parts...)
	for _, p := range parts {
		p.Value.Release()
	}
	return out
}

// Codebook returns the normalised codebook [Codebook, CVae], a new tensor
// with no gradient, in the caller's scope.
func (m *VQ) Codebook() *tensor.Tensor {
	return m.quant.codebook(nil).Value
}

// Embed maps ids [B, s*s] to their normalised codebook vectors
// [B, CVae, s, s] (contiguous, no gradient).
func (m *VQ) Embed(ids *tensor.Tensor, s int) *tensor.Tensor {
	is := ids.Shape()
	if len(is) != 2 || is[1] != s*s {
		panic(fmt.Sprintf("tokenizer: Embed: ids %v, want [B, %d] for scale %d", is, s*s, s))
	}
	sc := tensor.NewScope(m.dev)
	defer sc.Close()
	rows := tensor.Gather(m.Codebook(), ids) // [B, s*s, CVae]
	out := rows.Reshape(is[0], s, s, m.Cfg.CVae).Permute(0, 3, 1, 2).Contiguous()
	sc.Keep(out)
	return out
}

// Tokenize encodes images x [B, C, H, W] without gradient and quantizes
// every scale of scales on its own: ids[k] is [B, s_k²] and z[k] the
// normalised codebook vectors [B, CVae, s_k, s_k]. Only these outlive the
// call.
func (m *VQ) Tokenize(x *tensor.Tensor, scales schedule.Schedule) (ids, z []*tensor.Tensor) {
	sc := tensor.NewScope(m.dev)
	defer sc.Close()
	var g *autograd.Graph
	h := m.Encode(g, autograd.Const(x))
	for _, s := range scales {
		q := m.Quantize(g, h, s)
		ids = append(ids, q.IDs)
		z = append(z, m.Embed(q.IDs, s))
	}
	sc.Keep(ids...)
	sc.Keep(z...)
	return ids, z
}
