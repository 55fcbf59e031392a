#version 450
// Embedding backward: dst[ids[i], :] += src[i, :] for src [n, dim],
// deterministically, without atomics and in O(n log² n + n·dim) work: the
// pairs (id, i) are sorted (a bitonic network, so the order is the same on
// every run), which makes the rows of each id a contiguous segment in
// increasing i; then each segment is added into its dst row in that order,
// so each destination element sees the same additions in the same order
// as a serial loop over i.
//
// The pairs live in the keys buffer, pair k at 2k (the id's bits) and
// 2k + 1 (i), padded with (~0, ~0) to n2 pairs, a power of two of at least
// BLOCK. MODE selects the pass:
//   0 init: write the pairs;
//   1 block sort: each workgroup sorts its BLOCK pairs in shared memory
//     (every stage of the network up to size BLOCK);
//   2 global step: one compare-exchange step (size p.k, distance p.j >=
//     BLOCK) across blocks;
//   3 block merge: the steps of size p.k with distances below BLOCK, in
//     shared memory;
//   4 add: a workgroup per sorted pair that starts a segment adds the
//     segment's rows into dst, its invocations over the columns.
// Specialization constants: 0 WG (invocations; BLOCK = 2·WG), 1 MODE.

layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint MODE = 0;
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float src[]; };
layout(std430, set = 0, binding = 2) readonly buffer Ids2 { float ids[]; };
layout(std430, set = 0, binding = 3) buffer Keys3 { float keys[]; };

layout(push_constant) uniform Push {
    uint offDst;
    uint offSrc;
    uint offIds;
    uint n;
    uint dim;
    uint n2; // pairs after padding
    uint k;  // bitonic stage size (modes 2, 3)
    uint j;  // compare distance (mode 2)
    uint rows; // the table's rows: other ids are skipped
} p;

const uint BLOCK = 2 * WG;
const uint NONE = 0xffffffffu;

shared uvec2 sKey[BLOCK];

uvec2 keyAt(uint q) { return uvec2(floatBitsToUint(keys[2 * q]), floatBitsToUint(keys[2 * q + 1])); }

void setKey(uint q, uvec2 v) {
    keys[2 * q] = uintBitsToFloat(v.x);
    keys[2 * q + 1] = uintBitsToFloat(v.y);
}

// rowOf is the row of id, or NONE when id is not an integer in [0, rows)
// (check_ids.comp reports it; the add skips it).
uint rowOf(float id) {
    return id >= 0.0 && id < float(p.rows) && id == floor(id) ? uint(id) : NONE;
}

bool greater(uvec2 a, uvec2 b) { return a.x != b.x ? a.x > b.x : a.y > b.y; }

// lowerOf is the lower element of the t-th compare pair at distance j.
uint lowerOf(uint t, uint j) { return (t / j) * 2 * j + t % j; }

// blockSteps runs the steps of size k with distances from j0 down to 1 on
// the block in shared memory; base is the block's first pair, which gives
// each pair its direction.
void blockSteps(uint base, uint k, uint j0) {
    uint t = gl_LocalInvocationID.x;
    for (uint j = j0; j > 0; j >>= 1) {
        uint lo = lowerOf(t, j);
        uint hi = lo + j;
        bool up = ((base + lo) & k) == 0u;
        uvec2 a = sKey[lo], b = sKey[hi];
        if (greater(a, b) == up) {
            sKey[lo] = b;
            sKey[hi] = a;
        }
        barrier();
    }
}

void main() {
    uint t = gl_LocalInvocationID.x;
    if (MODE == 0u) {
        for (uint q = gl_GlobalInvocationID.x; q < p.n2; q += gl_NumWorkGroups.x * WG) {
            setKey(q, q < p.n ? uvec2(rowOf(ids[p.offIds + q]), q) : uvec2(NONE, NONE));
        }
    } else if (MODE == 1u || MODE == 3u) {
        for (uint blk = gl_WorkGroupID.x; blk < p.n2 / BLOCK; blk += gl_NumWorkGroups.x) {
            uint base = blk * BLOCK;
            sKey[t] = keyAt(base + t);
            sKey[t + WG] = keyAt(base + t + WG);
            barrier();
            if (MODE == 1u) {
                for (uint k = 2; k <= BLOCK; k <<= 1) {
                    blockSteps(base, k, k / 2);
                }
            } else {
                blockSteps(base, p.k, BLOCK / 2);
            }
            setKey(base + t, sKey[t]);
            setKey(base + t + WG, sKey[t + WG]);
            barrier();
        }
    } else if (MODE == 2u) {
        for (uint q = gl_GlobalInvocationID.x; q < p.n2 / 2; q += gl_NumWorkGroups.x * WG) {
            uint lo = lowerOf(q, p.j);
            uint hi = lo + p.j;
            bool up = (lo & p.k) == 0u;
            uvec2 a = keyAt(lo), b = keyAt(hi);
            if (greater(a, b) == up) {
                setKey(lo, b);
                setKey(hi, a);
            }
        }
    } else {
        for (uint q = gl_WorkGroupID.x; q < p.n; q += gl_NumWorkGroups.x) {
            uint id = floatBitsToUint(keys[2 * q]);
            if (id == NONE || (q > 0u && floatBitsToUint(keys[2 * q - 2]) == id)) {
                continue; // a bad id, or not the start of its segment
            }
            for (uint c = t; c < p.dim; c += WG) {
                uint d = p.offDst + id * p.dim + c;
                float acc = dst[d];
                for (uint r = q; r < p.n && floatBitsToUint(keys[2 * r]) == id; r++) {
                    acc += src[p.offSrc + floatBitsToUint(keys[2 * r + 1]) * p.dim + c];
                }
                dst[d] = acc;
            }
        }
    }
}
