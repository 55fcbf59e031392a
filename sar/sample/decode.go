package sample

import (
	"fmt"

	"sargo/autograd"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// DecodeScales decodes every scale's latent z[k] [B, CVae, s_k, s_k] to
// images [B, C, H, W] (each upsampled to the full latent first): the
// generation process, one picture per scale. Only the images outlive the
// call.
func DecodeScales(vq *tokenizer.VQ, z []*tensor.Tensor) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, len(z))
	for k, zk := range z {
		if zk == nil {
			return nil, fmt.Errorf("decode scales: latent %d is missing", k)
		}
		if sh := zk.Shape(); len(sh) != 4 || sh[1] != vq.Cfg.CVae || sh[2] != sh[3] || sh[2] > vq.Cfg.Latent() {
			return nil, fmt.Errorf("decode scales: latent %d is %v, want [B, %d, s, s] with s <= %d", k, sh, vq.Cfg.CVae, vq.Cfg.Latent())
		}
		s := tensor.NewScope(vq.Device())
		out[k] = vq.Decode(nil, autograd.Const(zk)).Value
		s.Keep(out[k])
		s.Close()
	}
	return out, nil
}
