package bench

import "fmt"

// TorchOptions choose among PyTorch's paths for the same computation; they
// travel with the request to every reference script.
type TorchOptions struct {
	// TF32 lets cuBLAS and cuDNN round fp32 operands to TF32 on tensor
	// cores (on CUDA only; off by default, as sargo computes in fp32).
	TF32 bool `json:"tf32"`
	// Attention is the attention suite's path: "unfused" (the default:
	// softmax(QKᵀ)·V from matmuls) or "sdpa"
	// (torch.nn.functional.scaled_dot_product_attention, PyTorch 2.1 or
	// later).
	Attention string `json:"attention,omitempty"`
}

// TorchAttentionPaths are the values of TorchOptions.Attention.
var TorchAttentionPaths = []string{"unfused", "sdpa"}

// Check reports an option no reference script knows.
func (o TorchOptions) Check() error {
	if o.Attention == "" {
		return nil
	}
	for _, p := range TorchAttentionPaths {
		if o.Attention == p {
			return nil
		}
	}
	return fmt.Errorf("reference attention path %q: want one of %v", o.Attention, TorchAttentionPaths)
}
