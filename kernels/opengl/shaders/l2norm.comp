#version 430 core
// Generated from kernels/vulkan/shaders/l2norm.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// L2 normalisation over rows of [rows, n]: one workgroup per row
// (grid-stride over rows). y and nrm are contiguous; row r of x, with
// r = (i0·dim1 + i1)·dim2 + i2, starts at offX + stride·(i0, i1, i2)
// (tensor.RowLayout). The squares are summed per invocation over its
// strided elements, then by a shared-memory tree; the row's norm is
// written to nrm[row] and every element as x / d, with
// d = min(max(norm, eps), MaxFloat32) (NaN for a NaN norm).

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Y0 { float y[]; };
layout(std430, binding = 1) writeonly buffer Norm1 { float nrm[]; };
layout(std430, binding = 2) readonly buffer X2 { float x[]; };

layout(std140, binding = 0) uniform Push {
    uint offY;
    uint offNorm;
    uint offX;
    uint rows;
    uint n;
    float eps;
    uint dim1;
    uint dim2;
    uint stride[3];
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
        uint i2 = row % p.dim2, i01 = row / p.dim2;
        uint xbase = p.offX + (i01 / p.dim1) * p.stride[0] + (i01 % p.dim1) * p.stride[1] + i2 * p.stride[2];
        float s = 0.0;
        for (uint i = t; i < p.n; i += WG) {
            float v = x[xbase + i];
            s += v * v;
        }
        sums[t] = s;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sums[t] += sums[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        float norm = sqrt(sums[0]);
        { memoryBarrierShared(); barrier(); }
        float d = minNaN(maxNaN(norm, p.eps), uintBitsToFloat(0x7f7fffffu));
        if (t == 0) {
            nrm[p.offNorm + row] = norm;
        }
        for (uint i = t; i < p.n; i += WG) {
            y[p.offY + base + i] = x[xbase + i] / d;
        }
    }
}
