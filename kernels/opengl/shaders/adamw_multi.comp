#version 430 core
// Generated from kernels/vulkan/shaders/adamw_multi.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
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

const uint WG = SARGO_SPEC_0;
layout(local_size_x = SARGO_SPEC_0) in;

// #include "multi.glsl", inlined:
// Shared by the multi-tensor kernels (adamw_multi.comp, sumsq_multi.comp,
// concat.comp): MaxBindings (11) storage buffers b0..b10, each the whole
// storage of one or more tensors, read and written through a switch on the binding index
// (uniform in practice: a workgroup's elements mostly lie in one tensor).
// The Go side binds every slot (kernels/gpu/multitensor.go).
layout(std430, binding = 0) buffer B0 { float b0[]; };
layout(std430, binding = 1) buffer B1 { float b1[]; };
layout(std430, binding = 2) buffer B2 { float b2[]; };
layout(std430, binding = 3) buffer B3 { float b3[]; };
layout(std430, binding = 4) buffer B4 { float b4[]; };
layout(std430, binding = 5) buffer B5 { float b5[]; };
layout(std430, binding = 6) buffer B6 { float b6[]; };
layout(std430, binding = 7) buffer B7 { float b7[]; };
layout(std430, binding = 8) buffer B8 { float b8[]; };
layout(std430, binding = 9) buffer B9 { float b9[]; };
layout(std430, binding = 10) buffer B10 { float b10[]; };

// ld reads element i of binding b.
float ld(uint b, uint i) {
	switch (b) {
	case 0: return b0[i];
	case 1: return b1[i];
	case 2: return b2[i];
	case 3: return b3[i];
	case 4: return b4[i];
	case 5: return b5[i];
	case 6: return b6[i];
	case 7: return b7[i];
	case 8: return b8[i];
	case 9: return b9[i];
	case 10: return b10[i];
	}
	return 0.0;
}

// st writes v to element i of binding b.
void st(uint b, uint i, float v) {
	switch (b) {
	case 0: b0[i] = v; break;
	case 1: b1[i] = v; break;
	case 2: b2[i] = v; break;
	case 3: b3[i] = v; break;
	case 4: b4[i] = v; break;
	case 5: b5[i] = v; break;
	case 6: b6[i] = v; break;
	case 7: b7[i] = v; break;
	case 8: b8[i] = v; break;
	case 9: b9[i] = v; break;
	case 10: b10[i] = v; break;
	}
}

layout(std140, binding = 0) uniform Push {
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
