// Package nn holds the neural-network building blocks of sargo on top of
// package autograd: modules (Linear, Embedding, norms, AdaLN, attention,
// MLP, Conv2d, ResBlock, resampling, VectorQuantizer), their initialisation,
// optimisation (AdamW, gradient clipping, learning-rate schedules, EMA) and
// checkpoints in the safetensors format.
//
// A module owns its parameters as *autograd.Var leaves and exposes them
// through Parameters with stable dotted names that follow PyTorch's
// state_dict naming (for example "blocks.3.attn.mat_qkv.weight"), so
// checkpoints written by PyTorch load by name. Forward methods take a
// *autograd.Graph; a nil graph runs without recording (inference).
//
// Layering: nn sits on autograd and tensor (and its file-format package
// nn/pth and internal utilities). It never imports a backend, sar, bench
// or cmd.
package nn

import (
	"fmt"
	"strconv"

	"sargo/autograd"
)

// NamedParam is one trainable parameter with its dotted name. NoDecay
// marks parameters excluded from weight decay (norm weights, biases,
// position embeddings, temperatures).
type NamedParam struct {
	Name    string
	Var     *autograd.Var
	NoDecay bool
}

// Module is anything that owns parameters.
type Module interface {
	// Parameters lists the module's parameters in a stable order with
	// names relative to the module.
	Parameters() []NamedParam
}

// Params collects named parameters; it is the helper modules use to build
// their Parameters lists.
type Params []NamedParam

// Add appends one parameter; a nil v is skipped (an absent bias).
func (p *Params) Add(name string, v *autograd.Var, noDecay bool) {
	if v == nil {
		return
	}
	*p = append(*p, NamedParam{Name: name, Var: v, NoDecay: noDecay})
}

// Sub appends the parameters of child m under prefix ("attn" gives
// "attn.proj.weight"). A nil module is skipped.
func (p *Params) Sub(prefix string, m Module) {
	if m == nil {
		return
	}
	*p = append(*p, Prefix(prefix, m.Parameters())...)
}

// SubIndex appends the parameters of child i of a list under
// "prefix.i" (PyTorch's ModuleList naming).
func (p *Params) SubIndex(prefix string, i int, m Module) {
	p.Sub(prefix+"."+strconv.Itoa(i), m)
}

// Prefix returns ps with "prefix." prepended to every name.
func Prefix(prefix string, ps []NamedParam) []NamedParam {
	out := make([]NamedParam, len(ps))
	for i, np := range ps {
		out[i] = np
		if prefix != "" {
			out[i].Name = prefix + "." + np.Name
		}
	}
	return out
}

// ParamIndex maps names to parameters and fails on a duplicate name.
func ParamIndex(ps []NamedParam) (map[string]NamedParam, error) {
	m := make(map[string]NamedParam, len(ps))
	for _, np := range ps {
		if np.Name == "" {
			return nil, fmt.Errorf("parameter with empty name")
		}
		if _, dup := m[np.Name]; dup {
			return nil, fmt.Errorf("duplicate parameter name %q", np.Name)
		}
		m[np.Name] = np
	}
	return m, nil
}

// NumParams is the total number of elements of ps.
func NumParams(ps []NamedParam) int {
	n := 0
	for _, np := range ps {
		n += np.Var.Value.Size()
	}
	return n
}

// ZeroGrads clears the accumulated gradient of every parameter.
func ZeroGrads(ps []NamedParam) {
	for _, np := range ps {
		np.Var.ZeroGrad()
	}
}
