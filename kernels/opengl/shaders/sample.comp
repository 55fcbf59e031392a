#version 430 core
// Generated from kernels/vulkan/shaders/sample.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Sampling of one index per row of logits [rows, n], one workgroup per row
// (grid-stride), reproducing the CPU backend's algorithm (kernels/cpu
// random.go): candidates ranked by logit (descending, lower index first),
// the first k kept, weights exp((x - max) / t), the smallest prefix whose
// cumulative weight reaches topP * P kept, then the first candidate whose
// cumulative weight exceeds u * P with u = PhiloxUniform(seed, offset + row).
// No real element has the rank key (0, 0), so a search returning it found
// nothing. Instead of sorting, each "prefix of the ranking" is a threshold on the
// 64-bit rank key, found by binary search over the key bits; every probe
// is a shared-memory reduction (count or weight sum of the elements ranked
// at or before the probe), so the pick equals the CPU's except where u * P
// lies within float32 rounding of a cumulative boundary.

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, binding = 1) readonly buffer Logits1 { float logits[]; };

layout(std140, binding = 0) uniform Push {
    uint offDst;
    uint offLogits;
    uint rows;
    uint n;
    uint k; // in [1, n]
    float topP;
    float temperature; // > 0
    uint seedLo;
    uint seedHi;
    uint offLo;
    uint offHi;
} p;

shared uvec2 sKey[WG];
shared float sSum[WG];

// rankKey orders elements as TopK and Sample rank them: a larger key comes
// first. The high word maps the float's bits to a monotone unsigned order;
// the low word is ~i, so among equal values the lower index comes first.
uvec2 rankKey(float x, uint i) {
    uint b = floatBitsToUint(x);
    b = (b & 0x80000000u) != 0u ? ~b : (b | 0x80000000u);
    return uvec2(b, ~i);
}

bool keyLess(uvec2 a, uvec2 b) { return a.x < b.x || (a.x == b.x && a.y < b.y); }
// philox returns block (lo, hi) of the Philox4x32-10 stream keyed by
// (k0, k1): counter (lo, hi, 0, 0), ten rounds, as tensor.Philox.
uvec4 philox(uint lo, uint hi, uint k0, uint k1) {
    uvec4 c = uvec4(lo, hi, 0u, 0u);
    for (int r = 0; r < 10; r++) {
        uint p0hi, p0lo, p1hi, p1lo;
        umulExtended(0xD2511F53u, c.x, p0hi, p0lo);
        umulExtended(0xCD9E8D57u, c.z, p1hi, p1lo);
        c = uvec4(p1hi ^ c.y ^ k0, p1lo, p0hi ^ c.w ^ k1, p0lo);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return c;
}

// philoxAt returns block offset + i (64-bit, with carry) of the stream.
uvec4 philoxAt(uint offLo, uint offHi, uint i, uint k0, uint k1) {
    uint carry;
    uint lo = uaddCarry(offLo, i, carry);
    return philox(lo, offHi + carry, k0, k1);
}

// uniform01 maps a word to [0, 1) with 24 bits, as tensor.Uniform01.
float uniform01(uint w) { return float(w >> 8) * (1.0 / 16777216.0); }

// The row being sampled: its first logit and its largest scaled logit, set
// by main before any function reads them (initialised so that compilers
// that cannot see that, such as Mesa's GLSL front end, have no warning).
uint gBase = 0u;
float gTop = 0.0;

// expWeight is e^x for x <= 0 to within about an ulp: Cody-Waite reduction
// x = k*ln2 + r, a degree-7 Taylor polynomial for e^r on |r| <= ln2/2, and
// a scale by 2^k. The builtin exp's error grows with |x| on many devices
// (it is computed as 2^(x*log2 e)), which would move picks away from the
// CPU's float64 weights more often.
float expWeight(float x) {
    if (x < -103.0) {
        return 0.0; // below the smallest subnormal
    }
    float k = round(x * 1.44269504088896341);
    precise float r = (x - k * 0.693145751953125) - k * 1.4286067653e-06;
    precise float e = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    return ldexp(e, int(k));
}

// maxKey returns the largest rank key of the row.
uvec2 maxKey() {
    uint t = gl_LocalInvocationID.x;
    uvec2 best = uvec2(0u, 0u);
    for (uint i = t; i < p.n; i += WG) {
        uvec2 key = rankKey(logits[gBase + i], i);
        if (keyLess(best, key)) {
            best = key;
        }
    }
    sKey[t] = best;
    { memoryBarrierShared(); barrier(); }
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (t < s && keyLess(sKey[t], sKey[t + s])) {
            sKey[t] = sKey[t + s];
        }
        { memoryBarrierShared(); barrier(); }
    }
    uvec2 r = sKey[0];
    { memoryBarrierShared(); barrier(); }
    return r;
}

// lastKey returns the smallest rank key at least lo: the last candidate
// of the ranked prefix that lo delimits.
uvec2 lastKey(uvec2 lo) {
    uint t = gl_LocalInvocationID.x;
    uvec2 best = uvec2(0xffffffffu, 0xffffffffu);
    for (uint i = t; i < p.n; i += WG) {
        uvec2 key = rankKey(logits[gBase + i], i);
        if (!keyLess(key, lo) && keyLess(key, best)) {
            best = key;
        }
    }
    sKey[t] = best;
    { memoryBarrierShared(); barrier(); }
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (t < s && keyLess(sKey[t + s], sKey[t])) {
            sKey[t] = sKey[t + s];
        }
        { memoryBarrierShared(); barrier(); }
    }
    uvec2 r = sKey[0];
    { memoryBarrierShared(); barrier(); }
    return r;
}

// rankedSum returns the number (weighted false) or the total weight
// (weighted true) of the elements whose key is at least both tau and lo.
float rankedSum(uvec2 tau, uvec2 lo, bool weighted) {
    uint t = gl_LocalInvocationID.x;
    float acc = 0.0;
    for (uint i = t; i < p.n; i += WG) {
        float x = logits[gBase + i];
        uvec2 key = rankKey(x, i);
        if (!keyLess(key, tau) && !keyLess(key, lo)) {
            acc += weighted ? expWeight((x - gTop) / p.temperature) : 1.0;
        }
    }
    sSum[t] = acc;
    { memoryBarrierShared(); barrier(); }
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (t < s) {
            sSum[t] += sSum[t + s];
        }
        { memoryBarrierShared(); barrier(); }
    }
    float r = sSum[0];
    { memoryBarrierShared(); barrier(); }
    return r;
}

// search returns the largest key tau for which rankedSum(tau, lo, weighted)
// reaches target (>= target, or > target when strict): the rank key of the
// last element of the shortest ranked prefix meeting the target.
uvec2 search(uvec2 lo, bool weighted, float target, bool strict) {
    uvec2 tau = uvec2(0u, 0u);
    for (int word = 0; word < 2; word++) {
        for (int bit = 31; bit >= 0; bit--) {
            uvec2 c = tau;
            if (word == 0) {
                c.x |= 1u << uint(bit);
            } else {
                c.y |= 1u << uint(bit);
            }
            float f = rankedSum(c, lo, weighted);
            if (strict ? f > target : f >= target) {
                tau = c;
            }
        }
    }
    return tau;
}

void main() {
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        gBase = p.offLogits + row * p.n;
        uvec2 top = maxKey();
        gTop = logits[gBase + ~top.y];
        uvec2 none = uvec2(0u, 0u);
        uvec2 kept = none;
        if (p.k < p.n) {
            kept = search(none, false, float(p.k), false);
        }
        float total = rankedSum(none, kept, true);
        if (p.topP > 0.0 && p.topP < 1.0) {
            // a target no prefix reaches (a NaN total) keeps every candidate
            uvec2 tau = search(kept, true, p.topP * total, false);
            if (tau != none && !keyLess(tau, kept)) {
                kept = tau;
                total = rankedSum(none, kept, true);
            }
        }
        float u = uniform01(philoxAt(p.offLo, p.offHi, row, p.seedLo, p.seedHi).x) * total;
        uvec2 pick = search(kept, true, u, true);
        if (pick == none || keyLess(pick, kept)) {
            // rounding (or a NaN total) left no candidate: the last kept one
            pick = lastKey(kept);
        }
        if (gl_LocalInvocationID.x == 0u) {
            dst[p.offDst + row] = float(~pick.y);
        }
        { memoryBarrierShared(); barrier(); }
    }
}
