// Package mlp holds a runnable example and nothing else: a two-layer
// perceptron trained on MNIST with the autograd tape, nn.Linear and AdamW,
// on the CPU and, in its test, on Vulkan with the same loss curve. It has
// no exported API; read example_test.go.
//
// Layering: like every example package it sits above the whole stack and
// may import any package of the module; no package may import it.
package mlp
