#version 430 core
// Generated from kernels/vulkan/shaders/attention_backward_dot.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 64u
#endif
// First stage of the attention backward: Di = sum_d dO[i, d] * O[i, d] for
// every query row of [B*H*Lq, D], one invocation per row (grid-stride).

const uint WG = SARGO_SPEC_0;
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dout0 { float dOut[]; };
layout(std430, binding = 1) readonly buffer O1 { float o[]; };
layout(std430, binding = 2) readonly buffer GO2 { float go[]; };

layout(std140, binding = 0) uniform Push {
    uint offD;
    uint offO;
    uint offGO;
    uint rows;
    uint D;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += stride) {
        float s = 0.0;
        for (uint d = 0; d < p.D; d++) {
            s += go[p.offGO + r * p.D + d] * o[p.offO + r * p.D + d];
        }
        dOut[p.offD + r] = s;
    }
}
