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

// ROLLED(n) is the bound n of a loop marked [[dont_unroll]], written as a
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
    [[unroll]] for (uint k_ = 0u; k_ < 2u; k_++) {                            \
        uint row_ = (lt >> 3) + 16u * k_;                                     \
        uint a_ = (base) + min(row_, (nrows) - 1u) * p.D;                     \
        vec4 v_;                                                              \
        [[unroll]] for (uint e_ = 0u; e_ < 4u; e_++) {                        \
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
        [[dont_unroll]] for (uint k8_ = 0u; k8_ < ROLLED(DC / 4u); k8_ += 2u) { \
            [[unroll]] for (uint kk_ = 0u; kk_ < 2u; kk_++) {                 \
                uint k4_ = k8_ + kk_;                                         \
                vec4 ra0_ = smem[a0_ + (k4_ ^ x0_)];                          \
                vec4 ra1_ = smem[a1_ + (k4_ ^ x1_)];                          \
                uint bk_ = b_ + (k4_ ^ tc);                                   \
                [[unroll]] for (uint c_ = 0u; c_ < 4u; c_++) {                \
                    vec4 rb_ = smem[bk_ + 64u * c_];                          \
                    [[unroll]] for (uint e_ = 0u; e_ < 4u; e_++) {            \
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
    [[unroll]] for (uint c_ = 0u; c_ < 4u; c_++) {                            \
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
        [[dont_unroll]] for (uint k8_ = 0u; k8_ < ROLLED(8u); k8_ += 2u) {     \
            uint bx0_ = (bOff) + (tc ^ k8_), bx1_ = (bOff) + (tc ^ (k8_ + 1u));   \
            [[unroll]] for (uint kq_ = 0u; kq_ < BC; kq_ += 8u) {             \
                uint kp_ = (kq_ + k8_) / 2u;                                  \
                vec4 rp_ = smem[p_ + 16u * kp_];                              \
                vec4 rb0_ = smem[bx0_ + 8u * (kq_ + k8_)];                    \
                vec4 rb1_ = smem[bx1_ + 8u * (kq_ + k8_ + 1u)];               \
                [[unroll]] for (uint e_ = 0u; e_ < 4u; e_++) {                \
                    acc[8u * (ch) + e_] += rp_.x * rb0_[e_];                  \
                    acc[8u * (ch) + 4u + e_] += rp_.y * rb0_[e_];             \
                    acc[8u * (ch) + e_] += rp_.z * rb1_[e_];                  \
                    acc[8u * (ch) + 4u + e_] += rp_.w * rb1_[e_];             \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }
