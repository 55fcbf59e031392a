// Package vulkan is sargo's GPU backend: tensor.Backend implemented with
// hand-written Vulkan compute shaders (GLSL compiled to SPIR-V, embedded
// from shaders/*.spv) dispatched from Go.
//
// It loads libvulkan.so.1 at run time, so the binary builds and runs
// without Vulkan installed; Probe explains what is missing. Devices are
// named vulkan (the first), vulkan:0, vulkan:1, ... in the order discrete,
// integrated, virtual, CPU (see Devices). Ops are recorded into command
// buffers and submitted in batches; storage comes from a pool of large
// device allocations; a device fault is a sticky error reported by Sync,
// Read and Err. README.md describes the runtime in detail.
//
// Environment: SARGO_VULKAN_VALIDATION=1 enables the Khronos validation
// layer with synchronization validation (any message becomes the sticky
// error); SARGO_PROFILE=1 times every dispatch and prints a per-shader
// table to stderr at Close.
//
// Layering: a backend implements tensor.Backend and imports tensor,
// kernels/gpu and internal utilities only, never autograd, nn, sar or
// another backend; every call into the Vulkan API stays inside it.
package vulkan
