#version 450
#extension GL_GOOGLE_include_directive : require
// Concatenation of up to 8 contiguous sources into the rows of a
// contiguous destination (binding 0), one invocation per destination
// element (grid-stride): source k, in binding (bind >> 4k) & 15 from
// element off[k], holds rows rows of width[k] elements, row r of which
// goes to columns [col[k], col[k]+width[k]) of destination row r.
// Elements in no source's columns are not written.

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

#include "multi.glsl"

layout(push_constant) uniform Push {
    uint offDst;
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
                st(0u, p.offDst + j, ld((p.bind >> (4u * k)) & 15u, p.off[k] + r * w + (c - p.col[k])));
                break;
            }
        }
    }
}
