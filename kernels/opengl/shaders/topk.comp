#version 430 core
// Generated from kernels/vulkan/shaders/topk.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Top-k of each row of [rows, n], one workgroup per row (grid-stride). The
// k results are selected one at a time: pick j is the largest element that
// ranks strictly after pick j-1 in the total order (value descending, lower
// index first on ties), found by a shared-memory max-reduction, so no
// element needs marking and ties come out lower index first.

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Vals0 { float vals[]; };
layout(std430, binding = 1) writeonly buffer Idx1 { float idx[]; };
layout(std430, binding = 2) readonly buffer Src2 { float src[]; };

layout(std140, binding = 0) uniform Push {
    uint offVals;
    uint offIdx;
    uint offSrc;
    uint rows;
    uint n;
    uint k;
} p;

shared uvec2 sKey[WG];

// rankKey orders elements as TopK and Sample rank them: a larger key comes
// first. The high word maps the float's bits to a monotone unsigned order;
// the low word is ~i, so among equal values the lower index comes first.
uvec2 rankKey(float x, uint i) {
    uint b = floatBitsToUint(x);
    b = (b & 0x80000000u) != 0u ? ~b : (b | 0x80000000u);
    return uvec2(b, ~i);
}

bool keyLess(uvec2 a, uvec2 b) { return a.x < b.x || (a.x == b.x && a.y < b.y); }

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = p.offSrc + row * p.n;
        uvec2 bound = uvec2(0xffffffffu, 0xffffffffu);
        bool first = true;
        for (uint j = 0; j < p.k; j++) {
            uvec2 best = uvec2(0u, 0u);
            bool have = false;
            for (uint i = t; i < p.n; i += WG) {
                uvec2 key = rankKey(src[base + i], i);
                if ((first || keyLess(key, bound)) && (!have || keyLess(best, key))) {
                    best = key;
                    have = true;
                }
            }
            // an invocation without candidates offers the smallest key (0, 0),
            // which no element other than x = -NaN at index 2^32-1 can have
            sKey[t] = best;
            { memoryBarrierShared(); barrier(); }
            for (uint s = WG / 2; s > 0; s >>= 1) {
                if (t < s && keyLess(sKey[t], sKey[t + s])) {
                    sKey[t] = sKey[t + s];
                }
                { memoryBarrierShared(); barrier(); }
            }
            bound = sKey[0];
            first = false;
            { memoryBarrierShared(); barrier(); }
            if (t == 0u) {
                uint i = ~bound.y;
                vals[p.offVals + row * p.k + j] = src[base + i];
                idx[p.offIdx + row * p.k + j] = float(i);
            }
        }
    }
}
