#version 430 core
// Generated from kernels/vulkan/shaders/attention_backward_dkdv.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 32u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 16u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 64u
#endif
// Attention backward for K and V. A workgroup owns one (batch*head, key
// tile) with one invocation per key; Q, dO, lse and D are staged through
// shared memory T queries at a time, and each invocation accumulates its
// own dk and dv in registers, so no atomics are needed:
//   p = exp(s - lse_i), dv_j += p * dO_i,
//   ds = scale * p * (dO_i . v_j - D_i), dk_j += ds * q_i.
// Queries that saw no key (lse = -inf) contribute nothing.

const uint WG = SARGO_SPEC_0;    // keys per workgroup
const uint T = SARGO_SPEC_1;     // queries per shared tile
const uint HEAD_DIM = SARGO_SPEC_2; // the head dim (p.D holds the same value)
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer DK0 { float dk[]; };
layout(std430, binding = 1) writeonly buffer DV1 { float dv[]; };
layout(std430, binding = 2) readonly buffer Q2 { float q[]; };
layout(std430, binding = 3) readonly buffer K3 { float k[]; };
layout(std430, binding = 4) readonly buffer V4 { float v[]; };
layout(std430, binding = 5) readonly buffer GO5 { float go[]; };
layout(std430, binding = 6) readonly buffer Lse6 { float lse[]; };
layout(std430, binding = 7) readonly buffer Dd7 { float dd[]; };
layout(std430, binding = 8) readonly buffer Mask8 { float maskv[]; };
layout(std430, binding = 9) readonly buffer ScaleQ9 { float scaleQ[]; };
layout(std430, binding = 10) readonly buffer ScaleK10 { float scaleK[]; };

layout(std140, binding = 0) uniform Push {
    uint offDK;
    uint offDV;
    uint offQ;
    uint offK;
    uint offV;
    uint offGO;
    uint offLse;
    uint offDd;
    uint offMask;
    uint offSQ;
    uint offSK;
    uint nh;
    uint Lq;
    uint Lk;
    uint D;
    uint mask; // 0 none, 1 additive, 2 scale
    float scale;
} p;

shared float sQ[T * HEAD_DIM];
shared float sG[T * HEAD_DIM];
shared float sL[T];
shared float sD[T];

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
    uint t = gl_LocalInvocationID.x;
    const uint D = HEAD_DIM; // a pipeline constant: loops over it unroll, arrays stay in registers
    uint tiles = (p.Lk + WG - 1u) / WG;
    for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
        uint tile0 = tile * WG;
        uint j = tile0 + t;
        bool valid = j < p.Lk;
        uint jk = min(j, p.Lk - 1u);
        float ks = p.mask == 2u ? scaleK[p.offSK + jk] : 0.0;
        // scale ids are non-decreasing: the first key of the tile is seen by the most queries
        float tileMinScale = p.mask == 2u ? scaleK[p.offSK + tile0] : 0.0;
        for (uint bh = gl_WorkGroupID.y; bh < p.nh; bh += gl_NumWorkGroups.y) {
            float kr[HEAD_DIM];
            float vr[HEAD_DIM];
            float ak[HEAD_DIM];
            float av[HEAD_DIM];
            uint row = bh * p.Lk + jk;
            for (uint d = 0; d < D; d++) {
                kr[d] = k[p.offK + row * D + d];
                vr[d] = v[p.offV + row * D + d];
                ak[d] = 0.0;
                av[d] = 0.0;
            }
            uint qbase = bh * p.Lq;
            for (uint i0 = 0; i0 < p.Lq; i0 += T) {
                uint nt = min(T, p.Lq - i0);
                if (p.mask == 2u && scaleQ[p.offSQ + i0 + nt - 1u] < tileMinScale) {
                    continue;
                }
                barrier();
                for (uint e = t; e < nt * D; e += WG) {
                    sQ[e] = q[p.offQ + (qbase + i0) * D + e];
                    sG[e] = go[p.offGO + (qbase + i0) * D + e];
                }
                for (uint e = t; e < nt; e += WG) {
                    sL[e] = lse[p.offLse + qbase + i0 + e];
                    sD[e] = dd[p.offDd + qbase + i0 + e];
                }
                barrier();
                if (!valid) {
                    continue;
                }
                for (uint ii = 0; ii < nt; ii++) {
                    uint i = i0 + ii;
                    float li = sL[ii];
                    if (li == NEG_INF || (p.mask == 2u && ks > scaleQ[p.offSQ + i])) {
                        continue;
                    }
                    float s = 0.0;
                    float dp = 0.0;
                    for (uint d = 0; d < D; d++) {
                        s += sQ[ii * D + d] * kr[d];
                        dp += sG[ii * D + d] * vr[d];
                    }
                    s *= p.scale;
                    if (p.mask == 1u) {
                        s += maskv[p.offMask + i * p.Lk + j];
                    }
                    if (s == NEG_INF) {
                        continue;
                    }
                    float pr = exp(s - li);
                    float ds = p.scale * pr * (dp - sD[ii]);
                    for (uint d = 0; d < D; d++) {
                        av[d] += pr * sG[ii * D + d];
                        ak[d] += ds * sQ[ii * D + d];
                    }
                }
            }
            if (valid) {
                for (uint d = 0; d < D; d++) {
                    dk[p.offDK + row * D + d] = ak[d];
                    dv[p.offDV + row * D + d] = av[d];
                }
            }
        }
    }
}
