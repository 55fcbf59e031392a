#version 450
// Embedding gather: dst[i, j] = table[ids[i], j] for dst [n, dim], one
// invocation per output element (grid-stride).

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Table1 { float table[]; };
layout(std430, set = 0, binding = 2) readonly buffer Ids2 { float ids[]; };

layout(push_constant) uniform Push {
    uint offDst;
    uint offTable;
    uint offIds;
    uint n;
    uint dim;
} p;

void main() {
    uint total = p.n * p.dim;
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint i = e / p.dim;
        uint j = e - i * p.dim;
        uint r = uint(ids[p.offIds + i]);
        dst[p.offDst + e] = table[p.offTable + r * p.dim + j];
    }
}
