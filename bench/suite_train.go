package bench

import (
	"fmt"
	"math"

	"sargo/autograd"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/sar/train"
	"sargo/tensor"
)

func init() {
	register(Suite{Name: "train", Doc: "one optimiser step of the bench transformer, TF and SAR", Cases: trainCases})
}

// trainCases are one full optimiser step (forward, backward, gradient
// clipping at 2, AdamW with lr 3e-4, betas (0.9, 0.95), weight decay 0.05)
// of the bench model on one fixed batch, with teacher forcing (tf) and
// with SAR (teacher forcing plus the student pass of the last transition,
// argmax teacher, sigma 0.01). The unit counts the batch's tokens, B·680,
// for both methods.
//
// Quick adds a teacher-forcing step of the quick model at depth 12 (the
// depth of the paper's smallest model), whose dispatch counters show how
// the per-layer and per-parameter launches grow with depth.
func trainCases(quick bool) ([]Case, error) {
	cases := trainModelCases(benchModel(quick), train.MethodTF, train.MethodSAR)
	if quick {
		deep := benchModel(true)
		deep.Cfg.Depth = 12
		cases = append(cases, trainModelCases(deep, train.MethodTF)...)
	}
	return cases, nil
}

// trainModelCases are the step cases of model mb with each method.
func trainModelCases(mb modelBench, methods ...string) []Case {
	var cases []Case
	for _, method := range methods {
		var state int64
		params := mb.params()
		params["method"] = method
		params["sigma"] = 0.01
		params["lr"], params["beta1"], params["beta2"], params["weight_decay"], params["clip"] = 3e-4, 0.9, 0.95, 0.05, 2.0
		cases = append(cases, Case{
			Name: fmt.Sprintf("%s step d%d w%d B%d L%d", method, mb.Cfg.Depth, mb.Cfg.Width, mb.Batch, mb.Scales.Tokens()),
			Kind: "train_step", Unit: "tokens/s", Work: float64(mb.Batch * mb.Scales.Tokens()), Params: params,
			ModelGFLOP: trainModelGFLOP(mb, method),
			Setup:      func(be tensor.Backend) (func() error, func(), error) { return setupTrain(be, mb, method, &state) },
			Memory:     true, StateBytes: func() int64 { return state },
		})
	}
	return cases
}

// setupTrain prepares a training step of the bench model; state receives
// what should stay live after a step: what the setup made (parameters,
// optimiser moments, the batch and the codebook) and the gradients.
func setupTrain(be tensor.Backend, mb modelBench, method string, state *int64) (func() error, func(), error) {
	live := be.MemStats().LiveBytes
	model, err := sar.NewModel(mb.Cfg, be, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("bench model: %w", err)
	}
	model.SetTrain(true)
	tok := newCodebookTokenizer(be, mb.Cfg.Vocab, mb.Cfg.CVae, mb.Batch, mb.Scales, 2)
	cfg := train.DefaultConfig()
	cfg.Method, cfg.Batch, cfg.Schedule = method, mb.Batch, train.ScheduleFixed
	obj, err := train.NewObjective(cfg, model, tok, mb.Cfg.NumClasses)
	if err != nil {
		return nil, nil, fmt.Errorf("bench objective: %w", err)
	}
	params := model.Parameters()
	opt, err := nn.NewAdamW(params, nn.AdamWConfig{LR: float32(cfg.LR), Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: 1e-8,
		WeightDecay: cfg.WeightDecay})
	if err != nil {
		return nil, nil, fmt.Errorf("bench optimiser: %w", err)
	}
	labels := labelsTensor(be, mb.Batch, mb.Cfg.NumClasses)
	batch := train.NewBatch(tok, sar.NextScaleInputs, nil, labels, mb.Scales)
	*state = be.MemStats().LiveBytes - live + int64(nn.NumParams(params))*4
	var offset uint64
	run := func() error {
		g := autograd.NewGraph(be)
		defer g.Close()
		l := obj.Loss(g, batch, offset)
		offset += 1 << 32
		nn.ZeroGrads(params)
		if err := g.Backward(l.Total); err != nil {
			return fmt.Errorf("backward: %w", err)
		}
		g.Close() // the activations, before the optimiser
		return optimiserStep(be, params, opt, cfg.Clip)
	}
	return run, func() { nn.ZeroGrads(params) }, nil
}

// trainModelGFLOP is the model arithmetic of one training step, the
// convention of model FLOP utilisation: three times the forward pass's
// matrix products (the backward does two products per forward product),
// counting 2 FLOPs per multiply-add, attention over the visible pairs
// only, and no recomputation, elementwise work or optimiser. SAR adds the
// student pass over the first and the last scale.
func trainModelGFLOP(mb modelBench, method string) float64 {
	f := forwardFLOPs(mb, mb.Scales)
	if method == train.MethodSAR {
		f += forwardFLOPs(mb, schedule.Schedule{mb.Scales[0], mb.Scales.Last()})
	}
	return 3 * f / 1e9
}

// forwardFLOPs is the arithmetic of one forward pass over scales with the
// block-causal mask: per token the word embedding (after the first
// scale), each block's qkv, projection and MLP, and the head; per pair of
// a query and a key it sees, QKᵀ and P·V; per sample the AdaLN
// modulations.
func forwardFLOPs(mb modelBench, scales schedule.Schedule) float64 {
	c := mb.Cfg
	C, B := float64(c.Width), float64(mb.Batch)
	hidden := math.Round(float64(c.Width) * float64(c.MLPRatio))
	tokens := float64(scales.Tokens())
	var pairs, seen float64
	for _, s := range scales {
		seen += float64(s * s)
		pairs += float64(s*s) * seen
	}
	embedded := tokens - float64(scales[0]*scales[0])
	perToken := 2*float64(c.CVae)*C*embedded/tokens + float64(c.Depth)*2*(4*C*C+2*C*hidden) + 2*C*float64(c.Vocab)
	attention := float64(c.Depth) * 4 * pairs * C
	adaLN := float64(c.Depth)*2*C*6*C + 2*C*2*C
	return B * (tokens*perToken + attention + adaLN)
}
