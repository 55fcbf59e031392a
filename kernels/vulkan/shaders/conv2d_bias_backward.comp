#version 450
// Bias gradient of a 2-D convolution: db[co] = sum over (b, oh, ow) of
// gy[b, co, oh, ow], one workgroup per output channel (grid-stride) with a
// fixed strided split and a shared-memory tree, so it is deterministic.

layout(constant_id = 0) const uint WG = 256; // power of two
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Db0 { float db[]; };
layout(std430, set = 0, binding = 1) readonly buffer Gy1 { float gy[]; };

layout(push_constant) uniform Push {
    uint offDb;
    uint offGy;
    uint N;
    uint Cout;
    uint HW;
} p;

shared float sAcc[WG];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint cnt = p.N * p.HW;
    for (uint co = gl_WorkGroupID.x; co < p.Cout; co += gl_NumWorkGroups.x) {
        float s = 0.0;
        for (uint j = t; j < cnt; j += WG) {
            uint b = j / p.HW;
            uint r = j - b * p.HW;
            s += gy[p.offGy + (b * p.Cout + co) * p.HW + r];
        }
        sAcc[t] = s;
        barrier();
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sAcc[t] += sAcc[t + k];
            }
            barrier();
        }
        if (t == 0u) {
            db[p.offDb + co] = sAcc[0];
        }
        barrier();
    }
}
