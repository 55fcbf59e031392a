#version 450
#extension GL_GOOGLE_include_directive : require
// Backward of l2norm.comp over rows of [rows, n]: one workgroup per row
// (grid-stride over rows). dot = Σ gy·y by a shared-memory tree, then
//   dx = (gy - y·c) / d,  c = dot·[norm > eps],
// with the forward's norm and d = min(max(norm, eps), MaxFloat32).

layout(constant_id = 0) const uint WG = 256; // power of two
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Dx0 { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer Y1 { float y[]; };
layout(std430, set = 0, binding = 2) readonly buffer Norm2 { float nrm[]; };
layout(std430, set = 0, binding = 3) readonly buffer Gy3 { float gy[]; };

layout(push_constant) uniform Push {
    uint offDx;
    uint offY;
    uint offNorm;
    uint offGy;
    uint rows;
    uint n;
    float eps;
} p;

#include "minmax.glsl"

shared float sums[WG];

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = row * p.n;
        float s = 0.0;
        for (uint i = t; i < p.n; i += WG) {
            s += gy[p.offGy + base + i] * y[p.offY + base + i];
        }
        sums[t] = s;
        barrier();
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sums[t] += sums[t + k];
            }
            barrier();
        }
        float dot = sums[0];
        barrier();
        float norm = nrm[p.offNorm + row];
        float c = dot * (norm > p.eps ? 1.0 : 0.0);
        float d = minNaN(maxNaN(norm, p.eps), uintBitsToFloat(0x7f7fffffu));
        for (uint i = t; i < p.n; i += WG) {
            dx[p.offDx + base + i] = (gy[p.offGy + base + i] - y[p.offY + base + i] * c) / d;
        }
    }
}
