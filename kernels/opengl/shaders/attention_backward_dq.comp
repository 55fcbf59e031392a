#version 430 core
// Generated from kernels/vulkan/shaders/attention_backward_dq.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 32u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 16u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 64u
#endif
// Attention backward for Q. A workgroup owns one (batch*head, query tile)
// with one invocation per query; K and V are staged through shared memory T
// keys at a time. Probabilities are recomputed from the saved lse:
//   p = exp(s - lse_i), ds = scale * p * (dO_i . v_j - D_i), dq_i += ds * k_j
// with D_i from attention_backward_dot. Queries that saw no key
// (lse = -inf) get zeros.

const uint WG = SARGO_SPEC_0;    // queries per workgroup
const uint T = SARGO_SPEC_1;     // keys per shared tile
const uint HEAD_DIM = SARGO_SPEC_2; // the head dim (p.D holds the same value)
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer DQ0 { float dq[]; };
layout(std430, binding = 1) readonly buffer Q1 { float q[]; };
layout(std430, binding = 2) readonly buffer K2 { float k[]; };
layout(std430, binding = 3) readonly buffer V3 { float v[]; };
layout(std430, binding = 4) readonly buffer GO4 { float go[]; };
layout(std430, binding = 5) readonly buffer Lse5 { float lse[]; };
layout(std430, binding = 6) readonly buffer Dd6 { float dd[]; };
layout(std430, binding = 7) readonly buffer Mask7 { float maskv[]; };
layout(std430, binding = 8) readonly buffer ScaleQ8 { float scaleQ[]; };
layout(std430, binding = 9) readonly buffer ScaleK9 { float scaleK[]; };

layout(std140, binding = 0) uniform Push {
    uint offDQ;
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

shared float sK[T * HEAD_DIM];
shared float sV[T * HEAD_DIM];

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
    uint t = gl_LocalInvocationID.x;
    const uint D = HEAD_DIM; // a pipeline constant: loops over it unroll, arrays stay in registers
    uint tiles = (p.Lq + WG - 1u) / WG;
    for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
        uint tile0 = tile * WG;
        uint i = tile0 + t;
        bool valid = i < p.Lq;
        uint iq = min(i, p.Lq - 1u);
        float qs = p.mask == 2u ? scaleQ[p.offSQ + iq] : 0.0;
        float tileMaxScale = p.mask == 2u ? scaleQ[p.offSQ + min(tile0 + WG, p.Lq) - 1u] : 0.0;
        for (uint bh = gl_WorkGroupID.y; bh < p.nh; bh += gl_NumWorkGroups.y) {
            float qr[HEAD_DIM];
            float gr[HEAD_DIM];
            float acc[HEAD_DIM];
            uint row = bh * p.Lq + iq;
            for (uint d = 0; d < D; d++) {
                qr[d] = q[p.offQ + row * D + d];
                gr[d] = go[p.offGO + row * D + d];
                acc[d] = 0.0;
            }
            float li = lse[p.offLse + row];
            float di = dd[p.offDd + row];
            bool live = valid && li != NEG_INF;
            uint kvbase = bh * p.Lk * D;
            for (uint j0 = 0; j0 < p.Lk; j0 += T) {
                if (p.mask == 2u && scaleK[p.offSK + j0] > tileMaxScale) {
                    break;
                }
                uint nt = min(T, p.Lk - j0);
                barrier();
                for (uint e = t; e < nt * D; e += WG) {
                    sK[e] = k[p.offK + kvbase + j0 * D + e];
                    sV[e] = v[p.offV + kvbase + j0 * D + e];
                }
                barrier();
                if (!live) {
                    continue;
                }
                for (uint jj = 0; jj < nt; jj++) {
                    uint j = j0 + jj;
                    if (p.mask == 2u && scaleK[p.offSK + j] > qs) {
                        continue;
                    }
                    float s = 0.0;
                    float dp = 0.0;
                    for (uint d = 0; d < D; d++) {
                        s += qr[d] * sK[jj * D + d];
                        dp += gr[d] * sV[jj * D + d];
                    }
                    s *= p.scale;
                    if (p.mask == 1u) {
                        s += maskv[p.offMask + i * p.Lk + j];
                    }
                    if (s == NEG_INF) {
                        continue;
                    }
                    float ds = p.scale * exp(s - li) * (dp - di);
                    for (uint d = 0; d < D; d++) {
                        acc[d] += ds * sK[jj * D + d];
                    }
                }
            }
            if (valid) {
                for (uint d = 0; d < D; d++) {
                    dq[p.offDQ + row * D + d] = acc[d];
                }
            }
        }
    }
}
