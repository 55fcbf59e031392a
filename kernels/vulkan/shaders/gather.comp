#version 450
// Embedding gather: dst[i, j] = table[ids[i], j] for dst [n, dim] and
// table [rows, dim], one invocation per output element (grid-stride). The
// ids were checked by check_ids.comp; a bad one (which is then the
// backend's error) gives a row of zeros here rather than a read outside
// the table.

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
    uint rows;
} p;

void main() {
    uint total = p.n * p.dim;
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint i = e / p.dim;
        uint j = e - i * p.dim;
        float id = ids[p.offIds + i];
        bool ok = !isnan(id) && id >= 0.0 && id < float(p.rows);
        uint r = ok ? uint(id) : 0u;
        dst[p.offDst + e] = ok ? table[p.offTable + r * p.dim + j] : 0.0;
    }
}
