// Package viz draws the figures of the SAR reproduction as PNG files:
// FID training curves and the throughput–FID trade-off (with
// gonum.org/v1/plot), the generation process of two models from the same
// coarse latent of real images, class-conditional sample grids, and the
// student-forcing inputs of training with their difference maps.
//
// Layering: like every sar package, it never imports a backend, bench or
// cmd.
package viz
