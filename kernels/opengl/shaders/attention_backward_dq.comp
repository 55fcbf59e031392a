#version 430 core
// Generated from kernels/vulkan/shaders/attention_backward_dq.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 64u
#endif
// Attention backward for Q, FlashAttention-2 style. A workgroup owns one
// (batch*head, tile of BR queries) and walks the keys BC at a time. It
// first forms D_i = rowsum(dO_i * O_i) for its queries and writes it for
// attention_backward_dkdv, which runs next. Per key tile it recomputes
// S = scale*Q*K^T + mask and dP = dO*V^T (Q, dO, K and V staged DC
// head-dim columns at a time), P = exp(S - lse_i) from the saved
// log-sum-exp, dS = scale * P * (dP - D_i) through shared memory, and
// accumulates dQ += dS*K in registers (D/4 floats per invocation). Queries
// that saw no key (lse = -inf) get zeros. Tiling: attention_tile.glsl.


const uint DPAD = SARGO_SPEC_0; // the head dim rounded up to a multiple of 32
layout(local_size_x = 128) in;

layout(std430, binding = 0) writeonly buffer DQ0 { float dq[]; };
layout(std430, binding = 1) writeonly buffer Dd1 { float dd[]; };
layout(std430, binding = 2) readonly buffer Q2 { float q[]; };
layout(std430, binding = 3) readonly buffer K3 { float k[]; };
layout(std430, binding = 4) readonly buffer V4 { float v[]; };
layout(std430, binding = 5) readonly buffer GO5 { float go[]; };
layout(std430, binding = 6) readonly buffer O6 { float o[]; };
layout(std430, binding = 7) readonly buffer Lse7 { float lse[]; };
layout(std430, binding = 8) readonly buffer Mask8 { float maskv[]; };
layout(std430, binding = 9) readonly buffer ScaleQ9 { float scaleQ[]; };
layout(std430, binding = 10) readonly buffer ScaleK10 { float scaleK[]; };

layout(std140, binding = 0) uniform Push {
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

uint lt = uint(0), tr = uint(0), tc = uint(0);

// #include "attention_tile.glsl", inlined:
// Tiling shared by the attention kernels (attention.comp,
// attention_subgroup.comp, attention_backward_dq.comp,
// attention_backward_dkdv.comp). See the attention section of README.md.
//
// A workgroup of WG = 128 invocations owns a tile of BR = 32 rows (queries
// in the forward and dQ kernels, keys in the dK/dV kernel) and walks the
// other side BC = 32 columns at a time. Rows are [L, D] matrices of the
// contiguous [B, H, L, D] tensors; the head dim is staged through shared
// memory DC = 32 columns at a time.
//
// Every kernel uses one mapping of invocations to work: invocation lt is
// (tr, tc) = (lt / 8, lt % 8); it owns rows 2tr and 2tr+1 of the tile,
// columns tc, tc+8, tc+16, tc+24 of each BR x BC score block (8 scores in
// registers), and, of each DC-wide chunk of a [BR, D] accumulator, the 4
// columns 4tc..4tc+3 of its 2 rows (8 floats per chunk, D/4 in all). The 8
// invocations of a row pair are consecutive, so a row reduction is 3
// exchanges among 8 neighbours.
//
// Shared memory is one array of vec4, smem, that each kernel carves into
// regions of 256 vec4 (4 KiB): a staged chunk (32 rows of 8 vec4), or a
// 32 x 32 block of probabilities. A staged row's 8 vec4 are stored in the
// order c4 ^ (row % 8) (CIDX), so that the reads below (8 rows at one c4,
// or one row at 8 c4) and the writes of STAGE_CHUNK fall on distinct banks
// without padding.
//
// Included after the including shader has declared the specialization
// constant DPAD (the head dim p.D rounded up to whole chunks: 32, 64, 96 or
// 128; the columns past p.D are staged as zeros), smem, and lt, tr, tc,
// and enabled GL_EXT_control_flow_attributes.

const uint WG = 128u; // invocations per workgroup
const uint BR = 32u;  // rows of a workgroup's tile
const uint BC = 32u;  // columns of a score block
const uint DC = 32u;  // head-dim columns staged per chunk
const uint REGION = 256u; // vec4 of one shared-memory region
const uint NCH = DPAD / DC; // chunks of the padded head dim

#define NEG_INF uintBitsToFloat(0xff800000u)

// ROLLED(n) is the bound n of a loop marked , written as a
// value no compiler can prove constant (p.D >= 1, and p.D + n does not
// wrap, so it is n): the OpenGL translation drops the hint, and without it
// drivers unroll these loops into code that takes many times as long to
// compile.
#define ROLLED(n) min((n), p.D + (n))

// CIDX(row, c4) is the vec4 slot, within a staged chunk, of head-dim
// columns 4c4..4c4+3 of row.
#define CIDX(row, c4) ((row) * 8u + ((c4) ^ ((row) & 7u)))

// EACH_CHUNK(M) expands M(ch) for ch = 0..3 under if (ch < NCH): the steps
// that index register accumulators by chunk are written out per chunk, so
// that the indices are constants however the compiler unrolls (DPAD is at
// most 4 * DC).
#define EACH_CHUNK(M) \
    if (0u < NCH) { M(0u) } if (1u < NCH) { M(1u) } if (2u < NCH) { M(2u) } if (3u < NCH) { M(3u) }

// EACH_CHUNK_DOWN(M) is EACH_CHUNK from the last chunk to the first, so a
// pass that follows one over all chunks starts on the chunk still staged.
#define EACH_CHUNK_DOWN(M) \
    if (3u < NCH) { M(3u) } if (2u < NCH) { M(2u) } if (1u < NCH) { M(1u) } if (0u < NCH) { M(0u) }

// STAGE_CHUNK(off, src, base, nrows, ch) copies chunk ch (head-dim columns
// ch*DC .. ch*DC+DC-1) of rows 0..BR-1 of the [*, p.D] matrix at element
// offset base of src into the region at smem[off], with zeros for rows >=
// nrows (at least 1) and columns >= p.D. Each invocation moves 2 vec4;
// global reads are row-contiguous across neighbouring invocations.
// Addresses are clamped into the matrix and the zeros selected, so
// nothing branches.
#define STAGE_CHUNK(off, src, base, nrows, ch)                                 \
    for (uint k_ = 0u; k_ < 2u; k_++) {                            \
        uint row_ = (lt >> 3) + 16u * k_;                                     \
        uint a_ = (base) + min(row_, (nrows) - 1u) * p.D;                     \
        vec4 v_;                                                              \
        for (uint e_ = 0u; e_ < 4u; e_++) {                        \
            uint d_ = (ch) * DC + 4u * (lt & 7u) + e_;                        \
            v_[e_] = d_ < p.D ? src[a_ + min(d_, p.D - 1u)] : 0.0;            \
        }                                                                     \
        smem[(off) + CIDX(row_, lt & 7u)] = row_ < (nrows) ? v_ : vec4(0.0);  \
    }

// SCORES_NT(acc, aOff, bOff) adds the products of the invocation's rows of
// the staged chunk at smem[aOff] with its columns of the staged chunk at
// smem[bOff] over the DC staged head-dim columns:
// acc[4r + c] += A[2tr + r] . B[tc + 8c]. Per 4 head-dim columns it reads
// 6 vec4 for 32 FMAs. Rows tc + 8c share their swizzle (tc), so the 4
// column reads differ by constants; the loop is unrolled by 2.
#define SCORES_NT(acc, aOff, bOff)                                             \
    {                                                                         \
        uint a0_ = (aOff) + 16u * tr, a1_ = a0_ + 8u;                         \
        uint x0_ = (2u * tr) & 7u, x1_ = x0_ | 1u;                            \
        uint b_ = (bOff) + 8u * tc;                                           \
        for (uint k8_ = 0u; k8_ < ROLLED(DC / 4u); k8_ += 2u) { \
            for (uint kk_ = 0u; kk_ < 2u; kk_++) {                 \
                uint k4_ = k8_ + kk_;                                         \
                vec4 ra0_ = smem[a0_ + (k4_ ^ x0_)];                          \
                vec4 ra1_ = smem[a1_ + (k4_ ^ x1_)];                          \
                uint bk_ = b_ + (k4_ ^ tc);                                   \
                for (uint c_ = 0u; c_ < 4u; c_++) {                \
                    vec4 rb_ = smem[bk_ + 64u * c_];                          \
                    for (uint e_ = 0u; e_ < 4u; e_++) {            \
                        acc[c_] += ra0_[e_] * rb_[e_];                        \
                        acc[4u + c_] += ra1_[e_] * rb_[e_];                   \
                    }                                                         \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }

// A block of probabilities P[k][i] (BC columns k by BR rows i) is stored
// as 16 x 16 vec4: slot kp*16 + t holds (P[2kp][2t], P[2kp][2t+1],
// P[2kp+1][2t], P[2kp+1][2t+1]), the invocation's 2 rows at 2 columns.

// STORE_P(off, v) writes the invocation's 8 values v[4r + c] (rows 2tr + r,
// columns tc + 8c) to the block at smem[off].
#define STORE_P(off, v)                                                        \
    for (uint c_ = 0u; c_ < 4u; c_++) {                            \
        uint k_ = tc + 8u * c_;                                               \
        uint s_ = (off) + (k_ >> 1) * 16u + tr;                               \
        smem[s_][2u * (k_ & 1u)] = v[c_];                                     \
        smem[s_][2u * (k_ & 1u) + 1u] = v[4u + c_];                           \
    }

// ACCUM_PV(acc, ch, pOff, bOff) adds, for the invocation's 2 rows and 4
// columns of head-dim chunk ch, the product of the block at smem[pOff]
// with the staged [BC, DC] chunk at smem[bOff]:
// acc[8ch + 4r + e] += sum_k P[k][2tr + r] * B[k][4tc + e]. Per 2 k it
// reads 3 vec4 for 16 FMAs. Row k of B has its column group tc at
// 8k + (tc ^ (k % 8)): the loop walks k % 8 and, for each, the 4 rows at
// constant distances.
#define ACCUM_PV(acc, ch, pOff, bOff)                                          \
    {                                                                         \
        uint p_ = (pOff) + tr;                                                \
        for (uint k8_ = 0u; k8_ < ROLLED(8u); k8_ += 2u) {     \
            uint bx0_ = (bOff) + (tc ^ k8_), bx1_ = (bOff) + (tc ^ (k8_ + 1u));   \
            for (uint kq_ = 0u; kq_ < BC; kq_ += 8u) {             \
                uint kp_ = (kq_ + k8_) / 2u;                                  \
                vec4 rp_ = smem[p_ + 16u * kp_];                              \
                vec4 rb0_ = smem[bx0_ + 8u * (kq_ + k8_)];                    \
                vec4 rb1_ = smem[bx1_ + 8u * (kq_ + k8_ + 1u)];               \
                for (uint e_ = 0u; e_ < 4u; e_++) {                \
                    acc[8u * (ch) + e_] += rp_.x * rb0_[e_];                  \
                    acc[8u * (ch) + 4u + e_] += rp_.y * rb0_[e_];             \
                    acc[8u * (ch) + e_] += rp_.z * rb1_[e_];                  \
                    acc[8u * (ch) + 4u + e_] += rp_.w * rb1_[e_];             \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }

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
        for (uint r = 0u; r < 2u; r++) {
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
            for (uint ch = 0u; ch < ROLLED(NCH); ch++) {
                { memoryBarrierShared(); barrier(); } // the previous readers of the regions are done
                STAGE_CHUNK(RG, go, gbase, nq, ch)
                STAGE_CHUNK(RK, o, p.offO + rowBase * p.D, nq, ch)
                { memoryBarrierShared(); barrier(); }
                for (uint k4 = 0u; k4 < DC / 4u; k4++) {
                    for (uint r = 0u; r < 2u; r++) {
                        vec4 a = smem[RG + CIDX(2u * tr + r, k4)];
                        vec4 b = smem[RK + CIDX(2u * tr + r, k4)];
                        for (uint e = 0u; e < 4u; e++) {
                            di[r] += a[e] * b[e];
                        }
                    }
                }
            }
            if (NCH == 1u) { // with one chunk, Q and dO (staged above) stay staged for every key tile
                STAGE_CHUNK(RQ, q, qbase, nq, 0u)
            }
            float li[2];
            for (uint r = 0u; r < 2u; r++) {
                uint row = 2u * tr + r;
                li[r] = rowOK[r] ? lse[p.offLse + rowBase + row] : NEG_INF;
                if (tc == 0u && rowOK[r]) {
                    dd[p.offDd + rowBase + row] = di[r];
                }
            }
            float acc[NCH * 8u];
            for (uint e = 0u; e < NCH * 8u; e++) {
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
                for (uint e = 0u; e < 8u; e++) {
                    s[e] = 0.0;
                    dp[e] = 0.0;
                }
                for (uint ch = 0u; ch < ROLLED(NCH); ch++) {
                    { memoryBarrierShared(); barrier(); }
                    if (NCH > 1u) {
                        STAGE_CHUNK(RQ, q, qbase, nq, ch)
                        STAGE_CHUNK(RG, go, gbase, nq, ch)
                    }
                    STAGE_CHUNK(RK, k, kbase + j0 * p.D, nk, ch)
                    STAGE_CHUNK(RV, v, vbase + j0 * p.D, nk, ch)
                    { memoryBarrierShared(); barrier(); }
                    SCORES_NT(s, RQ, RK)
                    SCORES_NT(dp, RG, RV)
                }
                for (uint r = 0u; r < 2u; r++) {
                    uint i = i0 + 2u * tr + r;
                    for (uint c = 0u; c < 4u; c++) {
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
                { memoryBarrierShared(); barrier(); } // the readers of V are done: dS takes its region
                STORE_P(RV, s)
                // dQ += dS*K, from the K chunk still staged down to the first
#define DQ_CHUNK(ch)                                                           \
    { memoryBarrierShared(); barrier(); }                                                                 \
    if ((ch) + 1u != NCH) {                                                    \
        STAGE_CHUNK(RK, k, kbase + j0 * p.D, nk, ch)                           \
        { memoryBarrierShared(); barrier(); }                                                             \
    }                                                                          \
    ACCUM_PV(acc, ch, RV, RK)
                EACH_CHUNK_DOWN(DQ_CHUNK)
            }
            for (uint r = 0u; r < 2u; r++) {
                if (!rowOK[r]) {
                    continue;
                }
                uint row = rowBase + 2u * tr + r;
                for (uint ch = 0u; ch < NCH; ch++) {
                    for (uint e = 0u; e < 4u; e++) {
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
