// Package sample generates images with a trained sar.Model and its VQ
// tokenizer: one KV-cached transformer step per scale, classifier-free
// guidance with a linear ramp, top-k / top-p / temperature sampling with a
// counter-based (Philox) random stream, the sampled ids' normalised
// codebook vectors upsampled bicubically as the next scale's input, and
// the last scale decoded to pixels. Any schedule works, including ones
// the model never trained on, and the first scales may be given (taken
// from a real image) instead of generated.
//
// Layering: like every sar package, it never imports a backend, bench or
// cmd.
package sample
