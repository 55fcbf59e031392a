#version 450
// One fused AdamW step (PyTorch semantics, decoupled weight decay), one
// invocation per element (grid-stride), in the CPU backend's float32 order:
//   g = grad*gradScale
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
//   p = p*decay - step*m / (sqrt(v*rbc2) + eps)
// with decay = 1 - lr*wd, step = lr/(1 - b1^t), rbc2 = 1/(1 - b2^t) and gradScale
// computed on the host. Products are kept unfused (precise) so the result
// matches the CPU backend.

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Param0 { float param[]; };
layout(std430, set = 0, binding = 1) readonly buffer Grad1 { float grad[]; };
layout(std430, set = 0, binding = 2) buffer M2 { float mom[]; };
layout(std430, set = 0, binding = 3) buffer V3 { float vel[]; };

layout(push_constant) uniform Push {
    uint offParam;
    uint offGrad;
    uint offM;
    uint offV;
    uint n;
    float beta1;
    float oneMinusBeta1;
    float beta2;
    float oneMinusBeta2;
    float eps;
    float decay;
    float step;
    float rbc2;
    float gradScale;
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        precise float g = grad[p.offGrad + i] * p.gradScale;
        precise float m = p.beta1 * mom[p.offM + i] + p.oneMinusBeta1 * g;
        precise float v = p.beta2 * vel[p.offV + i] + p.oneMinusBeta2 * g * g;
        mom[p.offM + i] = m;
        vel[p.offV + i] = v;
        precise float denom = sqrt(v * p.rbc2) + p.eps;
        precise float x = param[p.offParam + i];
        param[p.offParam + i] = x * p.decay - p.step * m / denom;
    }
}
