#version 430 core
// Generated from kernels/vulkan/shaders/crossentropy_backward.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Backward of cross-entropy, one invocation per logit (grid-stride):
//   dlogits = gloss[row] * (exp(x - lse[row]) - s/n - (1 - s) * [i == t])
// Ignored rows (target == ignore or outside [0, n)) get zeros.

const uint WG = SARGO_SPEC_0;
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dlogits0 { float dlogits[]; };
layout(std430, binding = 1) readonly buffer Logits1 { float logits[]; };
layout(std430, binding = 2) readonly buffer Lse2 { float lse[]; };
layout(std430, binding = 3) readonly buffer Targets3 { float targets[]; };
layout(std430, binding = 4) readonly buffer Gloss4 { float gloss[]; };

layout(std140, binding = 0) uniform Push {
    uint offD;
    uint offLogits;
    uint offLse;
    uint offTargets;
    uint offGloss;
    uint rows;
    uint n;
    int ignoreIndex;
    float smoothing;
} p;

void main() {
    uint total = p.rows * p.n;
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint row = e / p.n;
        uint i = e - row * p.n;
        int tg = int(targets[p.offTargets + row]);
        float d = 0.0;
        if (tg != p.ignoreIndex && tg >= 0 && tg < int(p.n)) {
            float u = p.smoothing / float(p.n);
            float q = exp(logits[p.offLogits + e] - lse[p.offLse + row]) - u;
            if (int(i) == tg) {
                q -= 1.0 - p.smoothing;
            }
            d = gloss[p.offGloss + row] * q;
        }
        dlogits[p.offD + e] = d;
    }
}
