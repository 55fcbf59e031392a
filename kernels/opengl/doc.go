// Package opengl is sargo's OpenGL backend: tensor.Backend implemented on
// an OpenGL 4.3 core context with compute shaders, through the
// github.com/go-gl/gl bindings. It runs the same GLSL kernels as the Vulkan
// backend (kernels/vulkan/shaders), translated for OpenGL at go generate
// time into shaders/ and compiled by the driver at run time, and the same
// kernel methods (kernels/gpu).
//
// The context is headless: EGL (libEGL.so.1, opened at run time) with
// EGL_EXT_platform_device, or EGL_MESA_platform_surfaceless, and no window
// or X server. It lives on one locked OS thread that makes every GL call;
// kernels record commands that reach that thread in batches. Devices are
// named opengl (the first), opengl:0, opengl:1, ... in EGL's device order,
// GPUs before software renderers (see Devices).
//
// The backend is built only with the opengl build tag (go build -tags
// opengl), because the bindings need the GL and EGL development files
// (Debian: libgl-dev, libegl-dev) to compile; without the tag the package
// still registers the opengl device, whose Open says how to get it.
// README.md describes the runtime and its differences from Vulkan.
//
// Environment: SARGO_OPENGL_DEBUG=1 turns on KHR_debug output (synchronous)
// and makes any message the sticky error; SARGO_OPENGL_EGL names the EGL
// library to load instead of libEGL.so.1.
//
// Layering: a backend implements tensor.Backend and imports tensor,
// kernels/gpu and internal utilities only, never autograd, nn, sar or
// another backend.
package opengl
