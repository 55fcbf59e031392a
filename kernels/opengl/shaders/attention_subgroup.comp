#version 430 core
// Generated from kernels/vulkan/shaders/attention_subgroup.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 64u
#endif
// Attention forward with the row reductions through subgroup shuffles
// (GL_KHR_shader_subgroup_shuffle, subgroups of at least 8 invocations
// that divide the workgroup). The kernel is attention_forward.glsl.
#define ATTN_SUBGROUP 1
// #include "attention_forward.glsl", inlined:
// Fused scaled dot-product attention forward, FlashAttention-2 style; the
// body of attention.comp (row reductions through shared memory) and
// attention_subgroup.comp (row reductions through subgroup shuffles), which
// define ATTN_SUBGROUP to 0 or 1 before including it.
//
// A workgroup owns one (batch*head, tile of BR queries) and walks the keys
// BC at a time: S = scale*Q*K^T + mask for the tile (Q and K staged DC
// head-dim columns at a time; a single chunk of Q stays staged), an online
// softmax per row (running max m and sum l, the row max and sum reduced
// over the 8 invocations of a row pair), P = exp(S - m) through shared
// memory, then O = O*exp(m_old - m) + P*V (V staged the same way). Each
// invocation holds 8 scores and D/4 output accumulators. Masks: none,
// additive [Lq, Lk] values, or block-causal by scale ids (query i sees key
// j iff scaleK[j] <= scaleQ[i]; ids are non-decreasing, so the key tiles
// past the tile's last query scale are skipped). A query that sees no key
// outputs zeros and lse = -inf.

#if ATTN_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

const uint DPAD = SARGO_SPEC_0; // the head dim rounded up to a multiple of 32
layout(local_size_x = 128) in;

layout(std430, binding = 0) writeonly buffer Out0 { float outp[]; };
layout(std430, binding = 1) writeonly buffer Lse1 { float lseOut[]; };
layout(std430, binding = 2) readonly buffer Q2 { float q[]; };
layout(std430, binding = 3) readonly buffer K3 { float k[]; };
layout(std430, binding = 4) readonly buffer V4 { float v[]; };
layout(std430, binding = 5) readonly buffer Mask5 { float maskv[]; };
layout(std430, binding = 6) readonly buffer ScaleQ6 { float scaleQ[]; };
layout(std430, binding = 7) readonly buffer ScaleK7 { float scaleK[]; };

layout(std140, binding = 0) uniform Push {
    uint offOut;
    uint offLse;
    uint offQ;
    uint offK;
    uint offV;
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

// shared memory: the Q chunk, the K (then V) chunk, P as [key][query]
const uint RQ = 0u;
const uint RKV = REGION;
const uint RP = 2u * REGION;
shared vec4 smem[3u * REGION];
#if !ATTN_SUBGROUP
shared float sRed[BR * 8u];  // per-row partial maxima of the 8 invocations
shared float sRed2[BR * 8u]; // and partial sums
#endif

// rowMax and rowSum reduce over the 8 invocations (tc = 0..7) of a row pair,
// and every one of them gets the same result. Both variants add in the
// order ((v0+v1)+(v2+v3))+((v4+v5)+(v6+v7)) (the butterfly's, up to
// commutation), so they produce the same bits.
#if !ATTN_SUBGROUP
#define ROW_REDUCE(OP, a, i) \
    OP(OP(OP(a[i], a[i + 1u]), OP(a[i + 2u], a[i + 3u])), OP(OP(a[i + 4u], a[i + 5u]), OP(a[i + 6u], a[i + 7u])))
#define ADD(x, y) ((x) + (y))
#define rowMax(a, i) ROW_REDUCE(max, a, i)
#define rowSum(a, i) ROW_REDUCE(ADD, a, i)
#else
float rowMax(float x) {
    x = max(x, subgroupShuffleXor(x, 1u));
    x = max(x, subgroupShuffleXor(x, 2u));
    return max(x, subgroupShuffleXor(x, 4u));
}
float rowSum(float x) {
    x += subgroupShuffleXor(x, 1u);
    x += subgroupShuffleXor(x, 2u);
    return x + subgroupShuffleXor(x, 4u);
}
#endif

// REDUCE_ROWS(v, FN, red) replaces v[0] and v[1], the invocation's values
// for its 2 rows, by FN (rowMax or rowSum) over the row pair's 8
// invocations: by shuffles, or through the shared array red.
#if ATTN_SUBGROUP
#define REDUCE_ROWS(v, FN, red)                                                \
    for (uint r_ = 0u; r_ < 2u; r_++) {                            \
        v[r_] = FN(v[r_]);                                                    \
    }
#else
#define REDUCE_ROWS(v, FN, red)                                                \
    for (uint r_ = 0u; r_ < 2u; r_++) {                            \
        red[(2u * tr + r_) * 8u + tc] = v[r_];                                \
    }                                                                         \
    { memoryBarrierShared(); barrier(); }                                                                \
    for (uint r_ = 0u; r_ < 2u; r_++) {                            \
        v[r_] = FN(red, (2u * tr + r_) * 8u);                                 \
    }
#endif

void main() {
#if ATTN_SUBGROUP
    // the shuffles pair invocations by subgroup lane: number the tile's
    // invocations by lane so that a row pair's 8 invocations share a subgroup
    lt = gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID;
#else
    lt = gl_LocalInvocationIndex;
#endif
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
        // scale ids are non-decreasing: the last query of the tile sees the most keys
        float tileMaxScale = p.mask == 2u ? scaleQ[p.offSQ + i0 + nq - 1u] : 0.0;
        for (uint bh = gl_WorkGroupID.y; bh < p.nh; bh += gl_NumWorkGroups.y) {
            uint qbase = p.offQ + (bh * p.Lq + i0) * p.D;
            if (NCH == 1u) { // the only chunk of Q stays staged
                { memoryBarrierShared(); barrier(); } // the previous head's readers are done
                STAGE_CHUNK(RQ, q, qbase, nq, 0u)
            }
            float o[NCH * 8u];
            for (uint e = 0u; e < NCH * 8u; e++) {
                o[e] = 0.0;
            }
            float m[2] = float[2](NEG_INF, NEG_INF);
            float l[2] = float[2](0.0, 0.0);
            uint kvbase = (bh * p.Lk) * p.D;
            for (uint j0 = 0u; j0 < p.Lk; j0 += BC) {
                if (p.mask == 2u && scaleK[p.offSK + j0] > tileMaxScale) {
                    break;
                }
                uint nk = min(BC, p.Lk - j0);
                float s[8];
                for (uint e = 0u; e < 8u; e++) {
                    s[e] = 0.0;
                }
                for (uint ch = 0u; ch < ROLLED(NCH); ch++) {
                    { memoryBarrierShared(); barrier(); }
                    if (NCH > 1u) {
                        STAGE_CHUNK(RQ, q, qbase, nq, ch)
                    }
                    STAGE_CHUNK(RKV, k, p.offK + kvbase + j0 * p.D, nk, ch)
                    { memoryBarrierShared(); barrier(); }
                    SCORES_NT(s, RQ, RKV)
                }
                // scale, mask, and the online softmax of each of the 2 rows
                float mt[2];
                for (uint r = 0u; r < 2u; r++) {
                    uint i = i0 + 2u * tr + r;
                    mt[r] = NEG_INF;
                    for (uint c = 0u; c < 4u; c++) {
                        uint jj = tc + 8u * c;
                        uint j = j0 + jj;
                        float x = s[4u * r + c] * p.scale;
                        bool vis = rowOK[r] && jj < nk;
                        if (vis && p.mask == 1u) {
                            x += maskv[p.offMask + i * p.Lk + j];
                        } else if (vis && p.mask == 2u) {
                            vis = scaleK[p.offSK + j] <= qs[r];
                        }
                        x = vis ? x : NEG_INF;
                        s[4u * r + c] = x;
                        mt[r] = max(mt[r], x);
                    }
                }
                REDUCE_ROWS(mt, rowMax, sRed)
                float alpha[2], rs[2];
                for (uint r = 0u; r < 2u; r++) {
                    float mn = max(m[r], mt[r]);
                    // a row with no visible key so far keeps m = -inf, o = 0, l = 0
                    float mu = mn == NEG_INF ? 0.0 : mn;
                    alpha[r] = exp(m[r] - mu);
                    m[r] = mn;
                    rs[r] = 0.0;
                    for (uint c = 0u; c < 4u; c++) {
                        float e = exp(s[4u * r + c] - mu);
                        s[4u * r + c] = e;
                        rs[r] += e;
                    }
                }
                REDUCE_ROWS(rs, rowSum, sRed2)
                for (uint r = 0u; r < 2u; r++) {
                    l[r] = l[r] * alpha[r] + rs[r];
                }
                for (uint ch = 0u; ch < NCH; ch++) {
                    for (uint e = 0u; e < 4u; e++) {
                        o[8u * ch + e] *= alpha[0];
                        o[8u * ch + 4u + e] *= alpha[1];
                    }
                }
                // P's readers of the previous key tile finished before the K barriers
                STORE_P(RP, s)
#define PV_CHUNK(ch)                                                           \
    { memoryBarrierShared(); barrier(); }                                                                 \
    STAGE_CHUNK(RKV, v, p.offV + kvbase + j0 * p.D, nk, ch)                    \
    { memoryBarrierShared(); barrier(); }                                                                 \
    ACCUM_PV(o, ch, RP, RKV)
                EACH_CHUNK(PV_CHUNK)
            }
            for (uint r = 0u; r < 2u; r++) {
                if (!rowOK[r]) {
                    continue;
                }
                uint row = bh * p.Lq + i0 + 2u * tr + r;
                float inv = l[r] == 0.0 ? 0.0 : 1.0 / l[r]; // l is NaN after a NaN score
                for (uint ch = 0u; ch < NCH; ch++) {
                    for (uint e = 0u; e < 4u; e++) {
                        uint d = ch * DC + 4u * tc + e;
                        if (d < p.D) {
                            outp[p.offOut + row * p.D + d] = o[8u * ch + 4u * r + e] * inv;
                        }
                    }
                }
                if (tc == 0u) {
                    lseOut[p.offLse + row] = l[r] == 0.0 ? NEG_INF : m[r] + log(l[r]);
                }
            }
        }
    }
}
