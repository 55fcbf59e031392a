// Tiling shared by the attention kernels (attention.comp,
// attention_subgroup.comp, attention_backward_dq.comp,
// attention_backward_dkdv.comp). See the attention section of README.md.
//
// A workgroup of WG = 128 invocations owns a tile of BR = 32 rows (queries
// in the forward and dQ kernels, keys in the dK/dV kernel) and walks the
// other side BC = 32 columns at a time. Rows are [L, D] matrices of the
// contiguous [B, H, L, D] tensors; the head dim is staged through shared
// memory DC = 32 columns at a time, each staged row padded by 4 floats so
// that the vec4 reads below hit distinct banks.
//
// Every kernel uses one mapping of invocations to work: invocation lt is
// (tr, tc) = (lt / 8, lt % 8); it owns rows 2tr and 2tr+1 of the tile,
// columns tc, tc+8, tc+16, tc+24 of each BR x BC score block (8 scores in
// registers), and, of each DC-wide chunk of a [BR, D] accumulator, the 4
// columns 4tc..4tc+3 of its 2 rows (8 floats per chunk, D/4 in all). The 8
// invocations of a row pair are consecutive, so a row reduction is 3
// exchanges among 8 neighbours.
//
// Included after the including shader has declared the specialization
// constant DPAD (the head dim p.D rounded up to whole chunks: 32, 64, 96 or
// 128; the columns past p.D are staged as zeros) and lt, tr, tc, and
// enabled GL_EXT_control_flow_attributes.

const uint WG = 128u; // invocations per workgroup
const uint BR = 32u;  // rows of a workgroup's tile
const uint BC = 32u;  // columns of a score block
const uint DC = 32u;  // head-dim columns staged per chunk
const uint RS = DC / 4u + 1u; // vec4 stride of a staged chunk row (4 floats of padding)
const uint NCH = DPAD / DC;     // chunks of the padded head dim
const uint PS = BR / 2u + 4u;   // vec2 stride of a [BC][BR] block in shared memory (8 floats of padding)

#define NEG_INF uintBitsToFloat(0xff800000u)

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

// STAGE_CHUNK(dst, dstStride, dstOff, src, base, nrows, ch) copies chunk ch
// (head-dim columns ch*DC .. ch*DC+DC-1) of rows 0..BR-1 of the [*, p.D]
// matrix at element offset base of src into dst (vec4 rows of dstStride,
// starting at vec4 dstOff), with zeros for rows >= nrows (at least 1) and
// columns >= p.D. Each invocation moves 2 vec4; global
// reads are row-contiguous across neighbouring invocations. Addresses are
// clamped into the matrix and the zeros selected, so nothing branches.
#define STAGE_CHUNK(dst, dstStride, dstOff, src, base, nrows, ch)              \
    [[unroll]] for (uint k_ = 0u; k_ < 2u; k_++) {                            \
        uint row_ = (lt >> 3) + 16u * k_;                                     \
        uint a_ = (base) + min(row_, (nrows) - 1u) * p.D;                     \
        vec4 v_;                                                              \
        [[unroll]] for (uint e_ = 0u; e_ < 4u; e_++) {                        \
            uint d_ = (ch) * DC + 4u * (lt & 7u) + e_;                        \
            v_[e_] = d_ < p.D ? src[a_ + min(d_, p.D - 1u)] : 0.0;            \
        }                                                                     \
        dst[(dstOff) + row_ * (dstStride) + (lt & 7u)] = row_ < (nrows) ? v_ : vec4(0.0); \
    }

// SCORES_NT(acc, A, aStride, aOff, B) adds the products of the invocation's
// rows of A (vec4 rows of aStride from vec4 aOff) with its columns of the
// staged chunk B (rows of RS) over the DC staged head-dim columns:
// acc[4r + c] += A[2tr + r] . B[tc + 8c]. Per 4 head-dim columns it reads
// 6 vec4 for 32 FMAs; the loop is unrolled by 2 (8 vec4 columns).
#define SCORES_NT(acc, A, aStride, aOff, B)                                    \
    [[dont_unroll]] for (uint k8_ = 0u; k8_ < DC / 4u; k8_ += 2u) {          \
        [[unroll]] for (uint kk_ = 0u; kk_ < 2u; kk_++) {                     \
            uint k4_ = k8_ + kk_;                                             \
            vec4 a0_ = A[(aOff) + (2u * tr) * (aStride) + k4_];               \
            vec4 a1_ = A[(aOff) + (2u * tr + 1u) * (aStride) + k4_];          \
            [[unroll]] for (uint c_ = 0u; c_ < 4u; c_++) {                    \
                vec4 b_ = B[(tc + 8u * c_) * RS + k4_];                       \
                [[unroll]] for (uint e_ = 0u; e_ < 4u; e_++) {                \
                    acc[c_] += a0_[e_] * b_[e_];                              \
                    acc[4u + c_] += a1_[e_] * b_[e_];                         \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }

// ACCUM_PV(acc, ch, P, B) adds, for the invocation's 2 rows and 4 columns of
// head-dim chunk ch, the product of the [BC][BR] block P (vec2 row pairs,
// stride PS) with the staged [BC, DC] chunk B:
// acc[8ch + 4r + e] += sum_k P[k][2tr + r] * B[k][4tc + e]. Per k it reads
// one vec2 and one vec4 for 8 FMAs.
#define ACCUM_PV(acc, ch, P, B)                                                \
    [[dont_unroll]] for (uint k0_ = 0u; k0_ < BC; k0_ += 4u) {                \
        [[unroll]] for (uint kk_ = 0u; kk_ < 4u; kk_++) {                     \
            uint k_ = k0_ + kk_;                                              \
            vec2 p_ = P[k_ * PS + tr];                                        \
            vec4 b_ = B[k_ * RS + tc];                                        \
            [[unroll]] for (uint e_ = 0u; e_ < 4u; e_++) {                    \
                acc[8u * (ch) + e_] += p_.x * b_[e_];                         \
                acc[8u * (ch) + 4u + e_] += p_.y * b_[e_];                    \
            }                                                                 \
        }                                                                     \
    }

// STORE_PAIRS(P, v) writes the invocation's 8 values v[4r + c] (rows 2tr + r,
// columns tc + 8c) to the [BC][BR] block P as P[tc + 8c][2tr + r].
#define STORE_PAIRS(P, v)                                                      \
    [[unroll]] for (uint c_ = 0u; c_ < 4u; c_++) {                            \
        P[(tc + 8u * c_) * PS + tr] = vec2(v[c_], v[4u + c_]);                \
    }
