// Package tokenizer is the VQ image tokenizer of SAR (FlexVAR's data
// path): a convolutional encoder maps an image to a CVae-channel latent at
// 1/Downsample of its size; every scale s of a schedule is quantized on its
// own from the latent area-downsampled to s×s (not residually), by cosine
// nearest neighbour against an L2-normalised codebook with a
// straight-through gradient; and a mirrored decoder reconstructs the image
// from any scale's latent, bicubic-upsampled to the full latent size.
//
// The model (VQ) is built on packages autograd and nn and runs on any
// tensor backend. Train fits it with an L1 + L2 reconstruction loss at a
// random scale per step plus the codebook and commitment losses, tracking
// codebook usage and restarting dead codes on the device.
//
// Layering: like every sar package, it never imports a backend, bench or
// cmd.
package tokenizer
