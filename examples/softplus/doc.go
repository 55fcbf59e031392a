// Package softplus adds an operation to sargo from outside the library,
// end to end, as a worked example: y = softplus(x) = log(1 + e^x), whose
// derivative is the logistic sigmoid σ(x). It holds no exported API; every
// piece is in its files:
//
//   - softplus_test.go: the operation on the autograd tape
//     (autograd.Graph.Custom), its forward and backward, and the kernel
//     of each backend: a Go loop over the CPU backend's buffers and a
//     dispatch of the GLSL shaders on Vulkan (vulkan.Backend.AddShader,
//     vulkan.Backend.Launch).
//   - softplus.comp, softplus_backward.comp: the shaders, written to the
//     conventions of kernels/vulkan/shaders/README.md; the .spv files are
//     compiled from them by go generate (the command below) and
//     committed, and TestShadersUpToDate fails when they are stale.
//   - conformance_test.go: each device against the CPU and against a
//     float64 reference, and the gradient against finite differences.
//   - example_test.go: the operation used.
//
// Layering: like every example package it sits above the whole stack and
// may import any package of the module; no package may import it.
package softplus

//go:generate go run sargo/kernels/vulkan/internal/shadergen -dir .
