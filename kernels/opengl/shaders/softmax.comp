#version 430 core
// Generated from kernels/vulkan/shaders/softmax.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Softmax (or log-softmax) over rows of [rows, n]: one workgroup per row
// (grid-stride over rows). Each invocation keeps an online (max, sum) pair
// over its strided elements; the pairs are merged by a shared-memory tree,
// then every element is written as exp(x - lse) or x - lse, with
// x - lse evaluated as (x - max) - log(sum).

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, binding = 1) readonly buffer Src1 { float src[]; };

layout(std140, binding = 0) uniform Push {
    uint offDst;
    uint offSrc;
    uint rows;
    uint n;
    uint logMode;
} p;

shared float sMax[WG];
shared float sSum[WG];

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = row * p.n;
        float m = NEG_INF;
        float s = 0.0;
        for (uint i = t; i < p.n; i += WG) {
            float x = src[p.offSrc + base + i];
            if (x > m) {
                s = s * exp(m - x) + 1.0;
                m = x;
            } else if (x != NEG_INF) {
                s += exp(x - m);
            }
        }
        sMax[t] = m;
        sSum[t] = s;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                float m1 = sMax[t], m2 = sMax[t + k];
                float mm = max(m1, m2);
                if (mm != NEG_INF) {
                    sSum[t] = sSum[t] * exp(m1 - mm) + sSum[t + k] * exp(m2 - mm);
                }
                sMax[t] = mm;
            }
            { memoryBarrierShared(); barrier(); }
        }
        // x - lse as (x - max) - log(sum): the first difference is exact
        // for x near max, so large logits lose no precision to lse's rounding
        float mx = sMax[0];
        float logSum = log(sSum[0]);
        { memoryBarrierShared(); barrier(); }
        for (uint i = t; i < p.n; i += WG) {
            float z = (src[p.offSrc + base + i] - mx) - logSum;
            dst[p.offDst + base + i] = p.logMode != 0u ? z : exp(z);
        }
    }
}
