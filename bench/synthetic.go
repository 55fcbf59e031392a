package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"sargo/nn"
	"sargo/nn/pth"
	"sargo/sar"
	"sargo/sar/schedule"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// Synthetic released models: random weights written as the authors' files
// lay them out, for benchmarks and tests that cannot download the real
// ones.

// WriteSyntheticFlexVAR writes a FlexVAR of configuration cfg with random
// weights as FlexVAR's and SAR's training checkpoints hold it: the state
// dict under trainer.var_wo_ddp, with the buffers attn_bias_for_masking
// (over the 10-scale list to cfg.Largest) and every block's
// attn.zero_k_bias. The weights are those of a one-block model drawn from
// seed as sar.NewModel draws them, every block a copy of its block, so that
// only the file's bytes are ever held in memory.
func WriteSyntheticFlexVAR(path string, cfg sar.Config, seed uint64) error {
	one := cfg
	one.Depth = 1
	m, err := sar.NewModel(one, tensor.MustOpen("cpu"), seed)
	if err != nil {
		return fmt.Errorf("synthetic FlexVAR: %w", err)
	}
	var ts []pth.Tensor
	for _, p := range m.Parameters() {
		t, err := pthTensor(p.Name, p.Var.Value)
		if err != nil {
			return err
		}
		rest, ok := strings.CutPrefix(p.Name, "blocks.0.")
		if !ok {
			ts = append(ts, t)
			continue
		}
		for i := range cfg.Depth {
			c := t
			c.Name = "blocks." + strconv.Itoa(i) + "." + rest
			ts = append(ts, c)
		}
	}
	for i := range cfg.Depth {
		ts = append(ts, zeros("blocks."+strconv.Itoa(i)+".attn.zero_k_bias", cfg.Width))
	}
	ids := schedule.VARList(cfg.Largest).ScaleIDs()
	mask := make([]float32, len(ids)*len(ids))
	for i := range ids {
		for j := range ids {
			if ids[j] > ids[i] {
				mask[i*len(ids)+j] = float32(math.Inf(-1))
			}
		}
	}
	ts = append(ts, pth.Tensor(nn.NewSTensorF32("attn_bias_for_masking", []int{1, 1, len(ids), len(ids)}, mask)))
	if err := pth.WriteFile(path, ts, pth.WriteOptions{Key: "trainer.var_wo_ddp"}); err != nil {
		return fmt.Errorf("synthetic FlexVAR: %w", err)
	}
	return nil
}

// WriteSyntheticVQ writes a VQ-16 tokenizer of configuration cfg with
// random weights (tokenizer.New from seed) as FlexVAE.pth holds it: under
// "model", with the int64 buffer quantize.codebook_used.
func WriteSyntheticVQ(path string, cfg tokenizer.Config, seed uint64) error {
	vq, err := tokenizer.New(cfg, tensor.MustOpen("cpu"), seed)
	if err != nil {
		return fmt.Errorf("synthetic VQ: %w", err)
	}
	var ts []pth.Tensor
	for _, p := range vq.Parameters() {
		t, err := pthTensor(p.Name, p.Var.Value)
		if err != nil {
			return err
		}
		ts = append(ts, t)
		p.Var.Value.Release()
	}
	const used = 65536
	raw := make([]byte, 8*used)
	for i := range used {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(i%cfg.Codebook))
	}
	ts = append(ts, pth.Tensor{Name: "quantize.codebook_used", DType: "I64", Shape: []int{used}, Raw: raw})
	if err := pth.WriteFile(path, ts, pth.WriteOptions{Key: "model"}); err != nil {
		return fmt.Errorf("synthetic VQ: %w", err)
	}
	return nil
}

// pthTensor reads a tensor into a float32 PyTorch tensor.
func pthTensor(name string, v *tensor.Tensor) (pth.Tensor, error) {
	d, err := v.Read()
	if err != nil {
		return pth.Tensor{}, fmt.Errorf("parameter %s: %w", name, err)
	}
	return pth.Tensor(nn.NewSTensorF32(name, v.Shape(), d)), nil
}

// zeros is a float32 PyTorch tensor of n zeros.
func zeros(name string, n int) pth.Tensor {
	return pth.Tensor{Name: name, DType: "F32", Shape: []int{n}, Raw: make([]byte, 4*n)}
}
