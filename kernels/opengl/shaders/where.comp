#version 430 core
// Generated from kernels/vulkan/shaders/where.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 0u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 256u
#endif
// where: dst = cond != 0 ? a : b over strided views.
layout(local_size_x = SARGO_SPEC_2) in; // the workgroup size (gpu.Tuning.Elem)
const uint LOCAL = SARGO_SPEC_2;
layout(std430, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, binding = 1) readonly buffer Cond1 { float cond[]; };
layout(std430, binding = 2) readonly buffer A2 { float as_[]; };
layout(std430, binding = 3) readonly buffer B3 { float bs[]; };
// #include "strided.glsl", inlined:
// Shared by the elementwise shaders (copy, fill, unary, unary_backward,
// binary, where): the push constants of a strided elementwise op over up
// to four operands of a rank-4 (collapsed) view, and the index arithmetic.

layout(std140, binding = 0) uniform Push {
	uint off[4];     // element offset of each operand, output first
	uint n;          // number of elements
	uint shape[4];   // collapsed shape, outermost first, padded with leading 1s
	uint stride[16]; // stride[4*k + d]: operand k, axis d
	float alpha;
	float beta;
} p;

// FLAT (specialization constant 1) is 1 when the view collapsed to one
// axis (every operand contiguous, or a broadcast scalar): coords and at
// then take no division or remainder per element.
const uint FLAT = SARGO_SPEC_1;

// coords splits the linear index i into the four axis indices.
uvec4 coords(uint i) {
	if (FLAT == 1) {
		return uvec4(0, 0, 0, i);
	}
	uvec4 c;
	c.w = i % p.shape[3];
	i /= p.shape[3];
	c.z = i % p.shape[2];
	i /= p.shape[2];
	c.y = i % p.shape[1];
	c.x = i / p.shape[1];
	return c;
}

// at is the element index of operand k at coordinates c.
uint at(uint k, uvec4 c) {
	if (FLAT == 1) {
		return p.off[k] + c.w * p.stride[4 * k + 3];
	}
	return p.off[k] + c.x * p.stride[4 * k] + c.y * p.stride[4 * k + 1] + c.z * p.stride[4 * k + 2] +
		c.w * p.stride[4 * k + 3];
}

#define GRID_STRIDE_LOOP(i) \
	for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)

void main() {
	GRID_STRIDE_LOOP(i) {
		uvec4 c = coords(i);
		dst[at(0, c)] = cond[at(1, c)] != 0.0 ? as_[at(2, c)] : bs[at(3, c)];
	}
}
