#version 450
// softplus forward: y = log(1 + e^x), written as max(x, 0) + log(1 + e^-|x|)
// so that e^x never overflows. GLSL has no log1p, so for x below about -17
// the result rounds to 0 where the exact value is e^x (under 4e-8).
layout(local_size_x = 256) in;

layout(std430, set = 0, binding = 0) readonly buffer Src0 { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst1 { float y[]; };

layout(push_constant) uniform Push { uint offX; uint offY; uint n; } p;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        float v = x[p.offX + i];
        y[p.offY + i] = max(v, 0.0) + log(1.0 + exp(-abs(v)));
    }
}
