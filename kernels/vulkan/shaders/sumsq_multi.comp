#version 450
#extension GL_GOOGLE_include_directive : require
// Partial sums of squares over up to 10 tensors in one dispatch: workgroup
// w sums x² over elements [w·chunk, (w+1)·chunk) of the tensors'
// concatenation (part k covers [end[k-1], end[k]), at offset off[k] of
// binding bind[k]) in float32, its invocations striding over the chunk,
// then a shared-memory tree in a fixed order, and writes the sum to
// b0[offOut + w]. Binding 0 holds the partials.

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

#include "multi.glsl"

layout(push_constant) uniform Push {
    uint offOut;
    uint chunk;
    uint bind[10];
    uint off[10];
    uint end[10];
} p;

shared float sums[WG];

void main() {
    uint lo = gl_WorkGroupID.x * p.chunk;
    uint hi = min(lo + p.chunk, p.end[9]);
    float s = 0.0;
    for (uint j = lo + gl_LocalInvocationID.x; j < hi; j += WG) {
        uint k = 0;
        while (k < 9 && j >= p.end[k]) {
            k++;
        }
        uint i = j - (k == 0 ? 0 : p.end[k - 1]);
        float x = ld(p.bind[k], p.off[k] + i);
        s += x * x;
    }
    sums[gl_LocalInvocationID.x] = s;
    barrier();
    for (uint h = WG / 2; h > 0; h /= 2) {
        if (gl_LocalInvocationID.x < h) {
            sums[gl_LocalInvocationID.x] += sums[gl_LocalInvocationID.x + h];
        }
        barrier();
    }
    if (gl_LocalInvocationID.x == 0) {
        b0[p.offOut + gl_WorkGroupID.x] = sums[0];
    }
}
