// Package eval measures SAR models: the Fréchet distance, class
// consistency, an Inception-Score analogue and k-nearest-neighbour
// precision and recall, all on the features of a small CNN classifier
// that sargo trains itself on the real training split (Inception weights
// are not used, so the distance is reported as "FID (sargo classifier)"),
// together with the tokenizer's reconstruction error and codebook usage
// and the sampling throughput.
//
// Layering: like every sar package, it never imports a backend, bench or
// cmd.
package eval
