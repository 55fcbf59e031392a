#version 430 core
// Generated from kernels/vulkan/shaders/conv2d_bias_backward.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Bias gradient of a 2-D convolution: db[co] = sum over (b, oh, ow) of
// gy[b, co, oh, ow], one workgroup per output channel (grid-stride) with a
// fixed strided split and a shared-memory tree, so it is deterministic.

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Db0 { float db[]; };
layout(std430, binding = 1) readonly buffer Gy1 { float gy[]; };

layout(std140, binding = 0) uniform Push {
    uint offDb;
    uint offGy;
    uint N;
    uint Cout;
    uint HW;
} p;

shared float sAcc[WG];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint cnt = p.N * p.HW;
    for (uint co = gl_WorkGroupID.x; co < p.Cout; co += gl_NumWorkGroups.x) {
        float s = 0.0;
        for (uint j = t; j < cnt; j += WG) {
            uint b = j / p.HW;
            uint r = j - b * p.HW;
            s += gy[p.offGy + (b * p.Cout + co) * p.HW + r];
        }
        sAcc[t] = s;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sAcc[t] += sAcc[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        if (t == 0u) {
            db[p.offDb + co] = sAcc[0];
        }
        { memoryBarrierShared(); barrier(); }
    }
}
