#version 430 core
// Generated from kernels/vulkan/shaders/norm_backward.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Layer/group norm backward for the input, one workgroup per row:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
// g = gy * w (w per parameter as in norm.comp), xhat = (x - mean) * rstd.

const uint WG = SARGO_SPEC_0; // power of two
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dx0 { float dx[]; };
layout(std430, binding = 1) readonly buffer X1 { float x[]; };
layout(std430, binding = 2) readonly buffer Mean2 { float mean[]; };
layout(std430, binding = 3) readonly buffer Rstd3 { float rstd[]; };
layout(std430, binding = 4) readonly buffer W4 { float w[]; };
layout(std430, binding = 5) readonly buffer Gy5 { float gy[]; };

layout(std140, binding = 0) uniform Push {
    uint offDx;
    uint offX;
    uint offMean;
    uint offRstd;
    uint offW;
    uint offGy;
    uint rows;
    uint rowLen;
    uint groups;
    uint chans;
    uint hw;
    uint hasWeight;
} p;

shared float sG[WG];
shared float sGH[WG];

void main() {
    uint t = gl_LocalInvocationID.x;
    bool hasW = p.hasWeight != 0u;
    float invN = 1.0 / float(max(p.rowLen, 1u));
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = row * p.rowLen;
        uint pbase = (row % p.groups) * p.chans;
        float mu = mean[p.offMean + row];
        float rs = rstd[p.offRstd + row];
        float sg = 0.0, sgh = 0.0;
        for (uint i = t; i < p.rowLen; i += WG) {
            float g = gy[p.offGy + base + i];
            if (hasW) {
                g *= w[p.offW + pbase + i / p.hw];
            }
            sg += g;
            sgh += g * (x[p.offX + base + i] - mu) * rs;
        }
        sG[t] = sg;
        sGH[t] = sgh;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sG[t] += sG[t + k];
                sGH[t] += sGH[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        float mg = sG[0] * invN;
        float mgh = sGH[0] * invN;
        { memoryBarrierShared(); barrier(); }
        for (uint i = t; i < p.rowLen; i += WG) {
            float g = gy[p.offGy + base + i];
            if (hasW) {
                g *= w[p.offW + pbase + i / p.hw];
            }
            float xh = (x[p.offX + base + i] - mu) * rs;
            dx[p.offDx + base + i] = rs * (g - mg - xh * mgh);
        }
    }
}
