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

#extension GL_EXT_control_flow_attributes : require
#if ATTN_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

layout(constant_id = 0) const uint DPAD = 64; // the head dim rounded up to a multiple of 32
layout(local_size_x = 128) in;

layout(std430, set = 0, binding = 0) writeonly buffer Out0 { float outp[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Lse1 { float lseOut[]; };
layout(std430, set = 0, binding = 2) readonly buffer Q2 { float q[]; };
layout(std430, set = 0, binding = 3) readonly buffer K3 { float k[]; };
layout(std430, set = 0, binding = 4) readonly buffer V4 { float v[]; };
layout(std430, set = 0, binding = 5) readonly buffer Mask5 { float maskv[]; };
layout(std430, set = 0, binding = 6) readonly buffer ScaleQ6 { float scaleQ[]; };
layout(std430, set = 0, binding = 7) readonly buffer ScaleK7 { float scaleK[]; };

layout(push_constant) uniform Push {
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

uint lt, tr, tc;

#include "attention_tile.glsl"

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
    [[unroll]] for (uint r_ = 0u; r_ < 2u; r_++) {                            \
        v[r_] = FN(v[r_]);                                                    \
    }
#else
#define REDUCE_ROWS(v, FN, red)                                                \
    [[unroll]] for (uint r_ = 0u; r_ < 2u; r_++) {                            \
        red[(2u * tr + r_) * 8u + tc] = v[r_];                                \
    }                                                                         \
    barrier();                                                                \
    [[unroll]] for (uint r_ = 0u; r_ < 2u; r_++) {                            \
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
        [[unroll]] for (uint r = 0u; r < 2u; r++) {
            uint row = 2u * tr + r;
            rowOK[r] = row < nq;
            qs[r] = p.mask == 2u ? scaleQ[p.offSQ + i0 + min(row, nq - 1u)] : 0.0;
        }
        // scale ids are non-decreasing: the last query of the tile sees the most keys
        float tileMaxScale = p.mask == 2u ? scaleQ[p.offSQ + i0 + nq - 1u] : 0.0;
        for (uint bh = gl_WorkGroupID.y; bh < p.nh; bh += gl_NumWorkGroups.y) {
            uint qbase = p.offQ + (bh * p.Lq + i0) * p.D;
            if (NCH == 1u) { // the only chunk of Q stays staged
                barrier(); // the previous head's readers are done
                STAGE_CHUNK(RQ, q, qbase, nq, 0u)
            }
            float o[NCH * 8u];
            [[unroll]] for (uint e = 0u; e < NCH * 8u; e++) {
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
                [[unroll]] for (uint e = 0u; e < 8u; e++) {
                    s[e] = 0.0;
                }
                [[dont_unroll]] for (uint ch = 0u; ch < ROLLED(NCH); ch++) {
                    barrier();
                    if (NCH > 1u) {
                        STAGE_CHUNK(RQ, q, qbase, nq, ch)
                    }
                    STAGE_CHUNK(RKV, k, p.offK + kvbase + j0 * p.D, nk, ch)
                    barrier();
                    SCORES_NT(s, RQ, RKV)
                }
                // scale, mask, and the online softmax of each of the 2 rows
                float mt[2];
                [[unroll]] for (uint r = 0u; r < 2u; r++) {
                    uint i = i0 + 2u * tr + r;
                    mt[r] = NEG_INF;
                    [[unroll]] for (uint c = 0u; c < 4u; c++) {
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
                [[unroll]] for (uint r = 0u; r < 2u; r++) {
                    float mn = max(m[r], mt[r]);
                    // a row with no visible key so far keeps m = -inf, o = 0, l = 0
                    float mu = mn == NEG_INF ? 0.0 : mn;
                    alpha[r] = exp(m[r] - mu);
                    m[r] = mn;
                    rs[r] = 0.0;
                    [[unroll]] for (uint c = 0u; c < 4u; c++) {
                        float e = exp(s[4u * r + c] - mu);
                        s[4u * r + c] = e;
                        rs[r] += e;
                    }
                }
                REDUCE_ROWS(rs, rowSum, sRed2)
                [[unroll]] for (uint r = 0u; r < 2u; r++) {
                    l[r] = l[r] * alpha[r] + rs[r];
                }
                [[unroll]] for (uint ch = 0u; ch < NCH; ch++) {
                    [[unroll]] for (uint e = 0u; e < 4u; e++) {
                        o[8u * ch + e] *= alpha[0];
                        o[8u * ch + 4u + e] *= alpha[1];
                    }
                }
                // P's readers of the previous key tile finished before the K barriers
                STORE_P(RP, s)
#define PV_CHUNK(ch)                                                           \
    barrier();                                                                 \
    STAGE_CHUNK(RKV, v, p.offV + kvbase + j0 * p.D, nk, ch)                    \
    barrier();                                                                 \
    ACCUM_PV(o, ch, RP, RKV)
                EACH_CHUNK(PV_CHUNK)
            }
            [[unroll]] for (uint r = 0u; r < 2u; r++) {
                if (!rowOK[r]) {
                    continue;
                }
                uint row = bh * p.Lq + i0 + 2u * tr + r;
                float inv = l[r] == 0.0 ? 0.0 : 1.0 / l[r]; // l is NaN after a NaN score
                [[unroll]] for (uint ch = 0u; ch < NCH; ch++) {
                    [[unroll]] for (uint e = 0u; e < 4u; e++) {
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
