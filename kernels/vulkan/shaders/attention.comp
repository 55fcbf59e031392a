#version 450
// Fused scaled dot-product attention forward, flash style. A workgroup
// owns one (batch*head, query tile) with one invocation per query; K and V
// are staged through shared memory T keys at a time, and each invocation
// keeps its query, output accumulator and online-softmax state (running max
// m, running sum l) in registers. Masks: none, additive [Lq, Lk] values, or
// block-causal by scale ids (query i sees key j iff scaleK[j] <= scaleQ[i]).
// A query that sees no key outputs zeros and lse = -inf.

layout(constant_id = 0) const uint WG = 32;    // queries per workgroup
layout(constant_id = 1) const uint T = 16;     // keys per shared tile
layout(constant_id = 2) const uint HEAD_DIM = 64; // the head dim (p.D holds the same value)
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Out0 { float outp[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Lse1 { float lseOut[]; };
layout(std430, set = 0, binding = 2) readonly buffer Q2 { float q[]; };
layout(std430, set = 0, binding = 3) readonly buffer K3 { float k[]; };
layout(std430, set = 0, binding = 4) readonly buffer V4 { float v[]; };
layout(std430, set = 0, binding = 5) readonly buffer Mask5 { float maskv[]; };
layout(std430, set = 0, binding = 6) readonly buffer ScaleQ6 { float scaleQ[]; };
layout(std430, set = 0, binding = 7) readonly buffer ScaleK7 { float scaleK[]; };

layout(push_constant) uniform Push {
    uint offOut;
    uint offLse;
    uint offQ;
    uint offK;
    uint offV;
    uint offMask;
    uint offSQ;
    uint offSK;
    uint nh;
    uint Lq;
    uint Lk;
    uint D;
    uint mask; // 0 none, 1 additive, 2 scale
    float scale;
} p;

shared float sK[T * HEAD_DIM];
shared float sV[T * HEAD_DIM];

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
    uint t = gl_LocalInvocationID.x;
    const uint D = HEAD_DIM; // a pipeline constant: loops over it unroll, arrays stay in registers
    uint tiles = (p.Lq + WG - 1u) / WG;
    for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
        uint tile0 = tile * WG;
        uint i = tile0 + t;
        bool valid = i < p.Lq;
        uint iq = min(i, p.Lq - 1u);
        float qs = p.mask == 2u ? scaleQ[p.offSQ + iq] : 0.0;
        // scale ids are non-decreasing: the last query of the tile sees the most keys
        float tileMaxScale = p.mask == 2u ? scaleQ[p.offSQ + min(tile0 + WG, p.Lq) - 1u] : 0.0;
        for (uint bh = gl_WorkGroupID.y; bh < p.nh; bh += gl_NumWorkGroups.y) {
            float qr[HEAD_DIM];
            float o[HEAD_DIM];
            uint qbase = p.offQ + (bh * p.Lq + iq) * D;
            for (uint d = 0; d < D; d++) {
                qr[d] = q[qbase + d];
                o[d] = 0.0;
            }
            float m = NEG_INF;
            float l = 0.0;
            uint kvbase = bh * p.Lk * D;
            for (uint j0 = 0; j0 < p.Lk; j0 += T) {
                if (p.mask == 2u && scaleK[p.offSK + j0] > tileMaxScale) {
                    break;
                }
                uint nt = min(T, p.Lk - j0);
                barrier();
                for (uint e = t; e < nt * D; e += WG) {
                    sK[e] = k[p.offK + kvbase + j0 * D + e];
                    sV[e] = v[p.offV + kvbase + j0 * D + e];
                }
                barrier();
                if (!valid) {
                    continue;
                }
                for (uint jj = 0; jj < nt; jj++) {
                    uint j = j0 + jj;
                    if (p.mask == 2u && scaleK[p.offSK + j] > qs) {
                        continue;
                    }
                    float s = 0.0;
                    for (uint d = 0; d < D; d++) {
                        s += qr[d] * sK[jj * D + d];
                    }
                    s *= p.scale;
                    if (p.mask == 1u) {
                        s += maskv[p.offMask + i * p.Lk + j];
                    }
                    if (s == NEG_INF) {
                        continue;
                    }
                    if (s > m) {
                        float c = exp(m - s);
                        l = l * c + 1.0;
                        for (uint d = 0; d < D; d++) {
                            o[d] = o[d] * c + sV[jj * D + d];
                        }
                        m = s;
                    } else {
                        float e = exp(s - m);
                        l += e;
                        for (uint d = 0; d < D; d++) {
                            o[d] += e * sV[jj * D + d];
                        }
                    }
                }
            }
            if (valid) {
                uint obase = p.offOut + (bh * p.Lq + i) * D;
                float inv = l == 0.0 ? 0.0 : 1.0 / l; // l is NaN after a NaN score
                for (uint d = 0; d < D; d++) {
                    outp[obase + d] = o[d] * inv;
                }
                lseOut[p.offLse + bh * p.Lq + i] = l == 0.0 ? NEG_INF : m + log(l);
            }
        }
    }
}
