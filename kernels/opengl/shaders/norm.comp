#version 430 core
// Generated from kernels/vulkan/shaders/norm.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Layer norm and group norm forward, one workgroup per row (grid-stride).
// A layer norm is rows of rowLen = N elements with one affine parameter per
// element; a group norm is Batch*Groups rows of (C/Groups)*HW elements with
// one parameter per channel: element i of row r uses parameter
// (r % groups) * chans + i / hw. Statistics are two-pass (mean, then the
// biased variance about it), each a shared-memory tree reduction; the row's
// mean and 1/sqrt(var + eps) are written beside y.

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Y0 { float y[]; };
layout(std430, binding = 1) writeonly buffer Mean1 { float meanOut[]; };
layout(std430, binding = 2) writeonly buffer Rstd2 { float rstdOut[]; };
layout(std430, binding = 3) readonly buffer X3 { float x[]; };
layout(std430, binding = 4) readonly buffer W4 { float w[]; };
layout(std430, binding = 5) readonly buffer B5 { float b[]; };

layout(std140, binding = 0) uniform Push {
    uint offY;
    uint offMean;
    uint offRstd;
    uint offX;
    uint offW;
    uint offB;
    uint rows;
    uint rowLen;
    uint groups;
    uint chans;
    uint hw;
    uint flags; // bit 0: weight, bit 1: bias
    float eps;
} p;

shared float sAcc[WG];

float rowSum(float v) {
    uint t = gl_LocalInvocationID.x;
    sAcc[t] = v;
    { memoryBarrierShared(); barrier(); }
    for (uint k = WG / 2; k > 0; k >>= 1) {
        if (t < k) {
            sAcc[t] += sAcc[t + k];
        }
        { memoryBarrierShared(); barrier(); }
    }
    float r = sAcc[0];
    { memoryBarrierShared(); barrier(); }
    return r;
}

void main() {
    uint t = gl_LocalInvocationID.x;
    bool hasW = (p.flags & 1u) != 0u;
    bool hasB = (p.flags & 2u) != 0u;
    float invN = 1.0 / float(max(p.rowLen, 1u));
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = p.offX + row * p.rowLen;
        float s = 0.0;
        for (uint i = t; i < p.rowLen; i += WG) {
            s += x[base + i];
        }
        float mu = rowSum(s) * invN;
        float sq = 0.0;
        for (uint i = t; i < p.rowLen; i += WG) {
            float d = x[base + i] - mu;
            sq += d * d;
        }
        float rstd = inversesqrt(rowSum(sq) * invN + p.eps);
        if (t == 0u) {
            meanOut[p.offMean + row] = mu;
            rstdOut[p.offRstd + row] = rstd;
        }
        uint pbase = (row % p.groups) * p.chans;
        for (uint i = t; i < p.rowLen; i += WG) {
            float h = (x[base + i] - mu) * rstd;
            uint pi = pbase + i / p.hw;
            if (hasW) {
                h *= w[p.offW + pi];
            }
            if (hasB) {
                h += b[p.offB + pi];
            }
            y[p.offY + row * p.rowLen + i] = h;
        }
    }
}
