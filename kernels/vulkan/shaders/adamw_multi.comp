#version 450
#extension GL_GOOGLE_include_directive : require
// AdamW over up to 4 tensors in one dispatch (PyTorch semantics, decoupled
// weight decay), one invocation per element of their concatenation
// (grid-stride), with the arithmetic and float32 order of adamw.comp:
//   g = grad*gradScale
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
//   p = p*decay - step*m / (sqrt(v*rbc2) + eps)
// decay = 1 - lr*wd for decayed tensors, else 1; step, rbc2 and gradScale
// come from the host. Part k covers elements [end[k-1], end[k]); bind[k]
// holds its bindings (4 bits each: param, grad, m, v) and bit 16 when it is
// decayed; the offsets are element offsets into those bindings.

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

#include "multi.glsl"

layout(push_constant) uniform Push {
    float beta1;
    float beta2;
    float eps;
    float decay;
    float step;
    float rbc2;
    float gradScale;
    uint bind[4];
    uint offParam[4];
    uint offGrad[4];
    uint offM[4];
    uint offV[4];
    uint end[4];
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * WG;
    uint total = p.end[3];
    for (uint j = gl_GlobalInvocationID.x; j < total; j += stride) {
        uint k = 0;
        while (k < 3 && j >= p.end[k]) {
            k++;
        }
        uint i = j - (k == 0 ? 0 : p.end[k - 1]);
        uint bd = p.bind[k];
        uint bp = bd & 15u, bg = (bd >> 4) & 15u, bm = (bd >> 8) & 15u, bv = (bd >> 12) & 15u;
        precise float g = ld(bg, p.offGrad[k] + i) * p.gradScale;
        precise float m = p.beta1 * ld(bm, p.offM[k] + i) + (1.0 - p.beta1) * g;
        precise float v = p.beta2 * ld(bv, p.offV[k] + i) + (1.0 - p.beta2) * g * g;
        st(bm, p.offM[k] + i, m);
        st(bv, p.offV[k] + i, v);
        precise float denom = sqrt(v * p.rbc2) + p.eps;
        precise float x = ld(bp, p.offParam[k] + i);
        float decay = (bd & 0x10000u) != 0u ? p.decay : 1.0;
        st(bp, p.offParam[k] + i, x * decay - p.step * m / denom);
    }
}
