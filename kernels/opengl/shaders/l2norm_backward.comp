#version 430 core
// Generated from kernels/vulkan/shaders/l2norm_backward.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Backward of l2norm.comp over rows of [rows, n]: one workgroup per row
// (grid-stride over rows). dot = Σ gy·y by a shared-memory tree, then
//   dx = (gy - y·c) / d,  c = dot·[norm > eps],
// with the forward's norm and d = min(max(norm, eps), MaxFloat32).

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dx0 { float dx[]; };
layout(std430, binding = 1) readonly buffer Y1 { float y[]; };
layout(std430, binding = 2) readonly buffer Norm2 { float nrm[]; };
layout(std430, binding = 3) readonly buffer Gy3 { float gy[]; };

layout(std140, binding = 0) uniform Push {
    uint offDx;
    uint offY;
    uint offNorm;
    uint offGy;
    uint rows;
    uint n;
    float eps;
} p;

// #include "minmax.glsl", inlined:
// NaN-propagating maximum and minimum, as Go's max and min for floats and
// the CPU backend: NaN when either operand is NaN (GLSL's max and min are
// undefined for NaN, and NVIDIA and AMD return the other operand), and +0
// above -0.

float maxNaN(float x, float y) {
	if (isnan(x) || isnan(y)) {
		return uintBitsToFloat(0x7fc00000u);
	}
	if (x == y) {
		return uintBitsToFloat(floatBitsToUint(x) & floatBitsToUint(y)); // max(-0, +0) = +0
	}
	return x > y ? x : y;
}

float minNaN(float x, float y) {
	if (isnan(x) || isnan(y)) {
		return uintBitsToFloat(0x7fc00000u);
	}
	if (x == y) {
		return uintBitsToFloat(floatBitsToUint(x) | floatBitsToUint(y)); // min(-0, +0) = -0
	}
	return x < y ? x : y;
}

shared float sums[WG];

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = row * p.n;
        float s = 0.0;
        for (uint i = t; i < p.n; i += WG) {
            s += gy[p.offGy + base + i] * y[p.offY + base + i];
        }
        sums[t] = s;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sums[t] += sums[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        float dot = sums[0];
        { memoryBarrierShared(); barrier(); }
        float norm = nrm[p.offNorm + row];
        float c = dot * (norm > p.eps ? 1.0 : 0.0);
        float d = minNaN(maxNaN(norm, p.eps), uintBitsToFloat(0x7f7fffffu));
        for (uint i = t; i < p.n; i += WG) {
            dx[p.offDx + base + i] = (gy[p.offGy + base + i] - y[p.offY + base + i] * c) / d;
        }
    }
}
