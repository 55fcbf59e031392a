#version 450
// Attention backward for Q, FlashAttention-2 style. A workgroup owns one
// (batch*head, tile of BR queries) and walks the keys BC at a time. It
// first forms D_i = rowsum(dO_i * O_i) for its queries and writes it for
// attention_backward_dkdv, which runs next. Per key tile it recomputes
// S = scale*Q*K^T + mask and dP = dO*V^T (Q, dO, K and V staged DC
// head-dim columns at a time), P = exp(S - lse_i) from the saved
// log-sum-exp, dS = scale * P * (dP - D_i) through shared memory, and
// accumulates dQ += dS*K in registers (D/4 floats per invocation). Queries
// that saw no key (lse = -inf) get zeros. Tiling: attention_tile.glsl.

#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

layout(constant_id = 0) const uint DPAD = 64; // the head dim rounded up to a multiple of 32
layout(local_size_x = 128) in;

layout(std430, set = 0, binding = 0) writeonly buffer DQ0 { float dq[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dd1 { float dd[]; };
layout(std430, set = 0, binding = 2) readonly buffer Q2 { float q[]; };
layout(std430, set = 0, binding = 3) readonly buffer K3 { float k[]; };
layout(std430, set = 0, binding = 4) readonly buffer V4 { float v[]; };
layout(std430, set = 0, binding = 5) readonly buffer GO5 { float go[]; };
layout(std430, set = 0, binding = 6) readonly buffer O6 { float o[]; };
layout(std430, set = 0, binding = 7) readonly buffer Lse7 { float lse[]; };
layout(std430, set = 0, binding = 8) readonly buffer Mask8 { float maskv[]; };
layout(std430, set = 0, binding = 9) readonly buffer ScaleQ9 { float scaleQ[]; };
layout(std430, set = 0, binding = 10) readonly buffer ScaleK10 { float scaleK[]; };

layout(push_constant) uniform Push {
    uint offDQ;
    uint offDd;
    uint offQ;
    uint offK;
    uint offV;
    uint offGO;
    uint offO;
    uint offLse;
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

// shared memory: chunks of Q, dO, K and V; dS as [key][query] takes V's
// region once the scores are done (O's chunk takes K's while forming D_i)
const uint RQ = 0u;
const uint RG = REGION;
const uint RK = 2u * REGION;
const uint RV = 3u * REGION;
shared vec4 smem[4u * REGION];

void main() {
    lt = gl_LocalInvocationIndex;
    tr = lt >> 3;
    tc = lt & 7u;
    uint tiles = (p.Lq + BR - 1u) / BR;
    for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
        uint i0 = tile * BR;
        uint nq = min(BR, p.Lq - i0);
        float qs[2];
        bool rowOK[2];
        [[unroll]] for (uint r = 0u; r < 2u; r++) {
            uint row = 2u * tr + r;
            rowOK[r] = row < nq;
            qs[r] = p.mask == 2u ? scaleQ[p.offSQ + i0 + min(row, nq - 1u)] : 0.0;
        }
        float tileMaxScale = p.mask == 2u ? scaleQ[p.offSQ + i0 + nq - 1u] : 0.0;
        for (uint bh = gl_WorkGroupID.y; bh < p.nh; bh += gl_NumWorkGroups.y) {
            uint rowBase = bh * p.Lq + i0; // the tile's first query row of [B*H*Lq]
            uint qbase = p.offQ + rowBase * p.D;
            uint gbase = p.offGO + rowBase * p.D;
            // D_i, summed over the head dim in the order SCORES_NT sums dP,
            // so that dP - D_i is exactly 0 where V_j equals O_i (one key)
            float di[2] = float[2](0.0, 0.0);
            [[dont_unroll]] for (uint ch = 0u; ch < ROLLED(NCH); ch++) {
                barrier(); // the previous readers of the regions are done
                STAGE_CHUNK(RG, go, gbase, nq, ch)
                STAGE_CHUNK(RK, o, p.offO + rowBase * p.D, nq, ch)
                barrier();
                [[unroll]] for (uint k4 = 0u; k4 < DC / 4u; k4++) {
                    [[unroll]] for (uint r = 0u; r < 2u; r++) {
                        vec4 a = smem[RG + CIDX(2u * tr + r, k4)];
                        vec4 b = smem[RK + CIDX(2u * tr + r, k4)];
                        [[unroll]] for (uint e = 0u; e < 4u; e++) {
                            di[r] += a[e] * b[e];
                        }
                    }
                }
            }
            if (NCH == 1u) { // with one chunk, Q and dO (staged above) stay staged for every key tile
                STAGE_CHUNK(RQ, q, qbase, nq, 0u)
            }
            float li[2];
            [[unroll]] for (uint r = 0u; r < 2u; r++) {
                uint row = 2u * tr + r;
                li[r] = rowOK[r] ? lse[p.offLse + rowBase + row] : NEG_INF;
                if (tc == 0u && rowOK[r]) {
                    dd[p.offDd + rowBase + row] = di[r];
                }
            }
            float acc[NCH * 8u];
            [[unroll]] for (uint e = 0u; e < NCH * 8u; e++) {
                acc[e] = 0.0;
            }
            uint kbase = p.offK + bh * p.Lk * p.D;
            uint vbase = p.offV + bh * p.Lk * p.D;
            for (uint j0 = 0u; j0 < p.Lk; j0 += BC) {
                if (p.mask == 2u && scaleK[p.offSK + j0] > tileMaxScale) {
                    break;
                }
                uint nk = min(BC, p.Lk - j0);
                float s[8], dp[8];
                [[unroll]] for (uint e = 0u; e < 8u; e++) {
                    s[e] = 0.0;
                    dp[e] = 0.0;
                }
                [[dont_unroll]] for (uint ch = 0u; ch < ROLLED(NCH); ch++) {
                    barrier();
                    if (NCH > 1u) {
                        STAGE_CHUNK(RQ, q, qbase, nq, ch)
                        STAGE_CHUNK(RG, go, gbase, nq, ch)
                    }
                    STAGE_CHUNK(RK, k, kbase + j0 * p.D, nk, ch)
                    STAGE_CHUNK(RV, v, vbase + j0 * p.D, nk, ch)
                    barrier();
                    SCORES_NT(s, RQ, RK)
                    SCORES_NT(dp, RG, RV)
                }
                [[unroll]] for (uint r = 0u; r < 2u; r++) {
                    uint i = i0 + 2u * tr + r;
                    [[unroll]] for (uint c = 0u; c < 4u; c++) {
                        uint jj = tc + 8u * c;
                        uint j = j0 + jj;
                        float x = s[4u * r + c] * p.scale;
                        bool vis = li[r] != NEG_INF && jj < nk;
                        if (vis && p.mask == 1u) {
                            x += maskv[p.offMask + i * p.Lk + j];
                        } else if (vis && p.mask == 2u) {
                            vis = scaleK[p.offSK + j] <= qs[r];
                        }
                        float pr = vis ? exp(x - li[r]) : 0.0;
                        s[4u * r + c] = p.scale * pr * (dp[4u * r + c] - di[r]);
                    }
                }
                barrier(); // the readers of V are done: dS takes its region
                STORE_P(RV, s)
                // dQ += dS*K, from the K chunk still staged down to the first
#define DQ_CHUNK(ch)                                                           \
    barrier();                                                                 \
    if ((ch) + 1u != NCH) {                                                    \
        STAGE_CHUNK(RK, k, kbase + j0 * p.D, nk, ch)                           \
        barrier();                                                             \
    }                                                                          \
    ACCUM_PV(acc, ch, RV, RK)
                EACH_CHUNK_DOWN(DQ_CHUNK)
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
                            dq[p.offDQ + row * p.D + d] = acc[8u * ch + 4u * r + e];
                        }
                    }
                }
            }
        }
    }
}
