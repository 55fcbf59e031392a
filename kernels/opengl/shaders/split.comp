#version 430 core
// Generated from kernels/vulkan/shaders/split.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// The inverse of concat.comp: the columns of the rows of a contiguous
// joined tensor (binding 0, from element offWhole) copied into up to 8
// contiguous parts, one invocation per element of the joined tensor
// (grid-stride). The parts are written through a binding index known only
// at run time, so the Go side marks every binding written. Part k, in binding (bind >> 4k) & 15 from element
// off[k], holds rows rows of width[k] elements; its row r is columns
// [col[k], col[k]+width[k]) of row r of the joined tensor. Elements in no
// part's columns are not touched.

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
    uint offWhole;
    uint rows;
    uint rowWidth;
    uint bind;
    uint off[8];
    uint col[8];
    uint width[8];
} p;

void main() {
    uint stride = gl_NumWorkGroups.x * WG;
    uint total = p.rows * p.rowWidth;
    for (uint j = gl_GlobalInvocationID.x; j < total; j += stride) {
        uint r = j / p.rowWidth;
        uint c = j - r * p.rowWidth;
        for (uint k = 0; k < 8; k++) {
            uint w = p.width[k];
            if (w != 0u && c >= p.col[k] && c - p.col[k] < w) {
                uint b = (p.bind >> (4u * k)) & 15u;
                uint i = p.off[k] + r * w + (c - p.col[k]);
                st(b, i, ld(0u, p.offWhole + j));
                break;
            }
        }
    }
}
