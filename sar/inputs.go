package sar

import (
	"fmt"

	"sargo/sar/schedule"
	"sargo/tensor"
)

// UpsampleTokens is the input rule of scale-wise generation: the latent z
// [B, CVae, h, h] of one scale, bicubically resized to s×s and flattened
// token-major (row-major h, w) to [B, s², CVae].
func UpsampleTokens(z *tensor.Tensor, s int) *tensor.Tensor {
	if z.Rank() != 4 {
		panic(fmt.Sprintf("sar: UpsampleTokens: latent %v, want [B, CVae, h, w]", z.Shape()))
	}
	b, c := z.Dim(0), z.Dim(1)
	up := tensor.Interpolate(z, s, s, tensor.InterpBicubic)
	return up.Reshape(b, c, s*s).Permute(0, 2, 1).Contiguous()
}

// NextScaleInputs builds teacher-forcing inputs from per-scale latents
// z[k] [B, CVae, s_k, s_k]: for every k ≥ 1 the previous scale's latent
// bicubically resized to s_k, flattened token-major, all concatenated to
// [B, L − s_0², CVae]. It returns nil for a one-scale schedule. Only
// z[0..n−2] are read.
func NextScaleInputs(z []*tensor.Tensor, scales schedule.Schedule) *tensor.Tensor {
	if len(scales) < 2 {
		return nil
	}
	if len(z) < len(scales)-1 {
		panic(fmt.Sprintf("sar: NextScaleInputs: %d latents for schedule %s", len(z), scales))
	}
	parts := make([]*tensor.Tensor, len(scales)-1)
	for k := 1; k < len(scales); k++ {
		parts[k-1] = UpsampleTokens(z[k-1], scales[k])
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return tensor.Concat(1, parts...)
}
