#version 430 core
// Generated from kernels/vulkan/shaders/softmax_backward.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Backward of softmax over rows of [rows, n], from the forward output y:
// softmax:     dx = y * (gy - sum(gy * y))
// log-softmax: dx = gy - exp(y) * sum(gy)
// One workgroup per row; the row sum is a shared-memory tree reduction.

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dx0 { float dx[]; };
layout(std430, binding = 1) readonly buffer Y1 { float y[]; };
layout(std430, binding = 2) readonly buffer Gy2 { float gy[]; };

layout(std140, binding = 0) uniform Push {
    uint offDx;
    uint offY;
    uint offGy;
    uint rows;
    uint n;
    uint logMode;
} p;

shared float sAcc[WG];

void main() {
    uint t = gl_LocalInvocationID.x;
    bool logMode = p.logMode != 0u;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = row * p.n;
        float acc = 0.0;
        for (uint i = t; i < p.n; i += WG) {
            float g = gy[p.offGy + base + i];
            acc += logMode ? g : g * y[p.offY + base + i];
        }
        sAcc[t] = acc;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sAcc[t] += sAcc[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        float dot = sAcc[0];
        { memoryBarrierShared(); barrier(); }
        for (uint i = t; i < p.n; i += WG) {
            float g = gy[p.offGy + base + i];
            float yv = y[p.offY + base + i];
            dx[p.offDx + base + i] = logMode ? g - exp(yv) * dot : yv * (g - dot);
        }
    }
}
