// Package sar is the scale-wise autoregressive transformer of SAR and
// FlexVAR: a class-conditional model that predicts the token ids of a
// latent image one scale after the other (1×1, 2×2, ... up to the largest
// latent), every scale seeing itself and all earlier scales.
//
// model.go reads top to bottom: the position grid, the block-causal mask,
// the configuration and the model (inputs → AdaLN blocks → head). The
// input construction for teacher forcing (NextScaleInputs) is in
// inputs.go, KV-cache inference one scale per step (Step) in cache.go and
// checkpoints in checkpoint.go. Package sar/sample builds image
// generation on Step.
//
// Parameter names follow FlexVAR's state_dict (word_embed, class_emb,
// pos_start, pos_1LC, blocks.i.*, head_nm.*, head), so weights move
// between this package and a PyTorch reference by name.
//
// Layering: sar and its sub-packages sit on nn, autograd and tensor
// (sar/train also on dist). None of them imports a backend (the device is
// opened by name: sar knows nothing of Vulkan), bench or cmd.
package sar
