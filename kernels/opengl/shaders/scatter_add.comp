#version 430 core
// Generated from kernels/vulkan/shaders/scatter_add.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
// Embedding backward: dst[ids[i], :] += src[i, :] for src [n, dim],
// deterministically and without atomics. One workgroup per source row i
// (grid-stride); only the workgroup of the first occurrence of an id does
// any work, adding every row with that id into dst in increasing i, so each
// destination element sees the same additions in the same order as a serial
// loop over i, whatever the scheduling.

const uint WG = SARGO_SPEC_0;
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) buffer Dst0 { float dst[]; };
layout(std430, binding = 1) readonly buffer Src1 { float src[]; };
layout(std430, binding = 2) readonly buffer Ids2 { float ids[]; };

layout(std140, binding = 0) uniform Push {
    uint offDst;
    uint offSrc;
    uint offIds;
    uint n;
    uint dim;
} p;

shared uint sSeen;

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint i = gl_WorkGroupID.x; i < p.n; i += gl_NumWorkGroups.x) {
        int id = int(ids[p.offIds + i]);
        if (t == 0u) {
            sSeen = 0u;
        }
        { memoryBarrierShared(); barrier(); }
        bool seen = false;
        for (uint k = t; k < i && !seen; k += WG) {
            seen = int(ids[p.offIds + k]) == id;
        }
        if (seen) {
            atomicOr(sSeen, 1u);
        }
        { memoryBarrierShared(); barrier(); }
        bool first = sSeen == 0u;
        { memoryBarrierShared(); barrier(); }
        if (!first) {
            continue;
        }
        for (uint j = t; j < p.dim; j += WG) {
            uint d = p.offDst + uint(id) * p.dim + j;
            float acc = dst[d];
            for (uint k = i; k < p.n; k++) {
                if (int(ids[p.offIds + k]) == id) {
                    acc += src[p.offSrc + k * p.dim + j];
                }
            }
            dst[d] = acc;
        }
    }
}
