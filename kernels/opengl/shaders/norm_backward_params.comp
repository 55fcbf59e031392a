#version 430 core
// Generated from kernels/vulkan/shaders/norm_backward_params.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Layer/group norm backward for the affine parameters: one workgroup per
// parameter (grid-stride), each adding sum(gy * xhat) into dw and sum(gy)
// into db. Parameter q = g * chans + c covers, in rows g, g + groups, ...,
// the hw elements starting at c * hw. Each invocation sums a fixed strided
// subset and a shared-memory tree merges them, so the result does not
// depend on scheduling (no atomics).

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) buffer Dw0 { float dw[]; };
layout(std430, binding = 1) buffer Db1 { float db[]; };
layout(std430, binding = 2) readonly buffer X2 { float x[]; };
layout(std430, binding = 3) readonly buffer Mean3 { float mean[]; };
layout(std430, binding = 4) readonly buffer Rstd4 { float rstd[]; };
layout(std430, binding = 5) readonly buffer Gy5 { float gy[]; };

layout(std140, binding = 0) uniform Push {
    uint offDw;
    uint offDb;
    uint offX;
    uint offMean;
    uint offRstd;
    uint offGy;
    uint rows;
    uint rowLen;
    uint groups;
    uint chans;
    uint hw;
    uint params;
    uint flags; // bit 0: dw, bit 1: db
} p;

shared float sW[WG];
shared float sB[WG];

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint q = gl_WorkGroupID.x; q < p.params; q += gl_NumWorkGroups.x) {
        uint g = q / p.chans;
        uint c = q - g * p.chans;
        uint rowsHere = g < p.rows ? (p.rows - g + p.groups - 1u) / p.groups : 0u;
        uint cnt = rowsHere * p.hw;
        float sw = 0.0, sb = 0.0;
        for (uint j = t; j < cnt; j += WG) {
            uint jr = j / p.hw;
            uint r = g + jr * p.groups;
            uint e = r * p.rowLen + c * p.hw + (j - jr * p.hw);
            float gv = gy[p.offGy + e];
            sb += gv;
            sw += gv * (x[p.offX + e] - mean[p.offMean + r]) * rstd[p.offRstd + r];
        }
        sW[t] = sw;
        sB[t] = sb;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sW[t] += sW[t + k];
                sB[t] += sB[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        if (t == 0u) {
            if ((p.flags & 1u) != 0u) {
                dw[p.offDw + q] += sW[0];
            }
            if ((p.flags & 2u) != 0u) {
                db[p.offDb + q] += sB[0];
            }
        }
        { memoryBarrierShared(); barrier(); }
    }
}
