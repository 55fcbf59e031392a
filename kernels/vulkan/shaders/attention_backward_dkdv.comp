#version 450
// Attention backward for K and V, FlashAttention-2 style. A workgroup owns
// one (batch*head, tile of BR keys) and walks the queries BC at a time
// (skipping, under the block-causal mask, the query tiles that see none of
// its keys). Per query tile it forms S^T = scale*K*Q^T + mask and
// dP^T = V*dO^T once (K, V, Q and dO staged DC head-dim columns at a
// time), P = exp(S - lse_i) from the saved log-sum-exp and
// dS = scale * P * (dP - D_i) with D_i from attention_backward_dq, both
// through shared memory, and accumulates dV += P^T*dO and dK += dS^T*Q in
// registers (D/4 floats each per invocation), so no two workgroups write
// the same output and nothing needs atomics. Queries that saw no key
// (lse = -inf) contribute nothing. Tiling: attention_tile.glsl.

#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

layout(constant_id = 0) const uint DPAD = 64; // the head dim rounded up to a multiple of 32
layout(local_size_x = 128) in;

layout(std430, set = 0, binding = 0) writeonly buffer DK0 { float dk[]; };
layout(std430, set = 0, binding = 1) writeonly buffer DV1 { float dv[]; };
layout(std430, set = 0, binding = 2) readonly buffer Q2 { float q[]; };
layout(std430, set = 0, binding = 3) readonly buffer K3 { float k[]; };
layout(std430, set = 0, binding = 4) readonly buffer V4 { float v[]; };
layout(std430, set = 0, binding = 5) readonly buffer GO5 { float go[]; };
layout(std430, set = 0, binding = 6) readonly buffer Lse6 { float lse[]; };
layout(std430, set = 0, binding = 7) readonly buffer Dd7 { float dd[]; };
layout(std430, set = 0, binding = 8) readonly buffer Mask8 { float maskv[]; };
layout(std430, set = 0, binding = 9) readonly buffer ScaleQ9 { float scaleQ[]; };
layout(std430, set = 0, binding = 10) readonly buffer ScaleK10 { float scaleK[]; };

layout(push_constant) uniform Push {
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

uint lt, tr, tc;

#include "attention_tile.glsl"

// shared memory: chunks of K, V, Q and dO; P and dS as [query][key] take
// K's and V's regions once the scores are done
const uint RK = 0u;
const uint RV = REGION;
const uint RQ = 2u * REGION;
const uint RG = 3u * REGION;
shared vec4 smem[4u * REGION];

void main() {
    lt = gl_LocalInvocationIndex;
    tr = lt >> 3;
    tc = lt & 7u;
    uint tiles = (p.Lk + BR - 1u) / BR;
    for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
        uint j0 = tile * BR;
        uint nk = min(BR, p.Lk - j0);
        float ks[2];
        bool rowOK[2];
        [[unroll]] for (uint r = 0u; r < 2u; r++) {
            uint row = 2u * tr + r;
            rowOK[r] = row < nk;
            ks[r] = p.mask == 2u ? scaleK[p.offSK + j0 + min(row, nk - 1u)] : 0.0;
        }
        // scale ids are non-decreasing: the first key of the tile is seen by the most queries
        float tileMinScale = p.mask == 2u ? scaleK[p.offSK + j0] : 0.0;
        for (uint bh = gl_WorkGroupID.y; bh < p.nh; bh += gl_NumWorkGroups.y) {
            uint rowBase = bh * p.Lk + j0; // the tile's first key row of [B*H*Lk]
            uint kbase = p.offK + rowBase * p.D;
            uint vbase = p.offV + rowBase * p.D;
            uint qbase = p.offQ + bh * p.Lq * p.D;
            uint gbase = p.offGO + bh * p.Lq * p.D;
            float ak[NCH * 8u], av[NCH * 8u];
            [[unroll]] for (uint e = 0u; e < NCH * 8u; e++) {
                ak[e] = 0.0;
                av[e] = 0.0;
            }
            for (uint i0 = 0u; i0 < p.Lq; i0 += BC) {
                uint nq = min(BC, p.Lq - i0);
                if (p.mask == 2u && scaleQ[p.offSQ + i0 + nq - 1u] < tileMinScale) {
                    continue;
                }
                float s[8], dp[8];
                [[unroll]] for (uint e = 0u; e < 8u; e++) {
                    s[e] = 0.0;
                    dp[e] = 0.0;
                }
                [[dont_unroll]] for (uint ch = 0u; ch < ROLLED(NCH); ch++) {
                    barrier();
                    STAGE_CHUNK(RK, k, kbase, nk, ch)
                    STAGE_CHUNK(RV, v, vbase, nk, ch)
                    STAGE_CHUNK(RQ, q, qbase + i0 * p.D, nq, ch)
                    STAGE_CHUNK(RG, go, gbase + i0 * p.D, nq, ch)
                    barrier();
                    SCORES_NT(s, RK, RQ)
                    SCORES_NT(dp, RV, RG)
                }
                // columns are queries i = i0 + tc + 8c
                [[unroll]] for (uint c = 0u; c < 4u; c++) {
                    uint ii = tc + 8u * c;
                    bool colOK = ii < nq;
                    uint i = i0 + min(ii, nq - 1u);
                    float lq = colOK ? lse[p.offLse + bh * p.Lq + i] : NEG_INF;
                    float dq = dd[p.offDd + bh * p.Lq + i];
                    float qsc = p.mask == 2u ? scaleQ[p.offSQ + i] : 0.0;
                    [[unroll]] for (uint r = 0u; r < 2u; r++) {
                        uint j = j0 + 2u * tr + r;
                        float x = s[4u * r + c] * p.scale;
                        bool vis = rowOK[r] && lq != NEG_INF;
                        if (vis && p.mask == 1u) {
                            x += maskv[p.offMask + i * p.Lk + j];
                        } else if (vis && p.mask == 2u) {
                            vis = ks[r] <= qsc;
                        }
                        float pr = vis ? exp(x - lq) : 0.0;
                        s[4u * r + c] = pr;
                        dp[4u * r + c] = p.scale * pr * (dp[4u * r + c] - dq);
                    }
                }
                barrier(); // the readers of K and V are done: P and dS take their regions
                STORE_P(RK, s)
                STORE_P(RV, dp)
                // dV += P^T*dO, dK += dS^T*Q, from the chunk still staged down to the first
#define DKDV_CHUNK(ch)                                                         \
    barrier();                                                                 \
    if ((ch) + 1u != NCH) {                                                    \
        STAGE_CHUNK(RQ, q, qbase + i0 * p.D, nq, ch)                           \
        STAGE_CHUNK(RG, go, gbase + i0 * p.D, nq, ch)                          \
        barrier();                                                             \
    }                                                                          \
    ACCUM_PV(av, ch, RK, RG)                                                   \
    ACCUM_PV(ak, ch, RV, RQ)
                EACH_CHUNK_DOWN(DKDV_CHUNK)
            }
            [[unroll]] for (uint r = 0u; r < 2u; r++) {
                if (!rowOK[r]) {
                    continue;
                }
                uint row = rowBase + 2u * tr + r;
                [[unroll]] for (uint ch = 0u; ch < NCH; ch++) {
                    [[unroll]] for (uint e = 0u; e < 4u; e++) {
                        uint d = ch * DC + 4u * tc + e;
                        if (d < p.D) {
                            dk[p.offDK + row * p.D + d] = ak[8u * ch + 4u * r + e];
                            dv[p.offDV + row * p.D + d] = av[8u * ch + 4u * r + e];
                        }
                    }
                }
            }
        }
    }
}
