#version 450
#extension GL_GOOGLE_include_directive : require
// The inverse of concat.comp: the columns of the rows of a contiguous
// joined tensor (binding 0, from element offWhole) copied into up to 8
// contiguous parts, one invocation per element of the joined tensor
// (grid-stride). The parts are written through a binding index known only
// at run time, so the Go side marks every binding written. Part k, in binding (bind >> 4k) & 15 from element
// off[k], holds rows rows of width[k] elements; its row r is columns
// [col[k], col[k]+width[k]) of row r of the joined tensor. Elements in no
// part's columns are not touched.

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

#include "multi.glsl"

layout(push_constant) uniform Push {
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
