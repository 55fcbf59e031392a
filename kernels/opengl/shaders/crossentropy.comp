#version 430 core
// Generated from kernels/vulkan/shaders/crossentropy.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Cross-entropy of logits [rows, n] against class-index targets, one
// workgroup per row. The row's log-sum-exp comes from online (max, sum)
// pairs merged in shared memory; with label smoothing a second pass sums
// the logits relative to the maximum M:
//   loss = lse - ((1 - s) * x[t] + (s / n) * sum(x))
//        = log(sum) + (1 - s) * (M - x[t]) - (s / n) * sum(x - M),
// which keeps its precision when the logits are large.
// Rows whose target equals ignore (or lies outside [0, n)) get loss 0; the
// log-sum-exp is written for every row.

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Loss0 { float loss[]; };
layout(std430, binding = 1) writeonly buffer Lse1 { float lseOut[]; };
layout(std430, binding = 2) readonly buffer Logits2 { float logits[]; };
layout(std430, binding = 3) readonly buffer Targets3 { float targets[]; };

layout(std140, binding = 0) uniform Push {
    uint offLoss;
    uint offLse;
    uint offLogits;
    uint offTargets;
    uint rows;
    uint n;
    int ignoreIndex;
    float smoothing;
} p;

shared float sMax[WG];
shared float sSum[WG];
shared float sTot[WG];

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = p.offLogits + row * p.n;
        float m = NEG_INF;
        float s = 0.0;
        for (uint i = t; i < p.n; i += WG) {
            float x = logits[base + i];
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
        float mx = sMax[0];
        float logSum = log(sSum[0]);
        float tot = 0.0;
        if (p.smoothing != 0.0) {
            for (uint i = t; i < p.n; i += WG) {
                tot += logits[base + i] - mx;
            }
        }
        sTot[t] = tot;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sTot[t] += sTot[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        if (t == 0u) {
            lseOut[p.offLse + row] = mx + logSum;
            int tg = int(targets[p.offTargets + row]);
            float l = 0.0;
            if (tg != p.ignoreIndex && tg >= 0 && tg < int(p.n)) {
                l = logSum + (1.0 - p.smoothing) * (mx - logits[base + uint(tg)]);
                if (p.smoothing != 0.0) {
                    l -= p.smoothing / float(p.n) * sTot[0];
                }
            }
            loss[p.offLoss + row] = l;
        }
        { memoryBarrierShared(); barrier(); }
    }
}
