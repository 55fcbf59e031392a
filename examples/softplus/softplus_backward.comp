#version 450
// softplus backward: dx = gy · σ(x), the derivative of log(1 + e^x), with
// σ(x) = 1/(1 + e^-x) for x ≥ 0 and e^x/(1 + e^x) below, so that the
// exponential never overflows.
layout(local_size_x = 256) in;

layout(std430, set = 0, binding = 0) readonly buffer Src0 { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float gy[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Dst2 { float dx[]; };

layout(push_constant) uniform Push { uint offX; uint offGy; uint offDx; uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float v = x[p.offX + i];
        float e = exp(-abs(v));
        float s = v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        dx[p.offDx + i] = gy[p.offGy + i] * s;
    }
}
