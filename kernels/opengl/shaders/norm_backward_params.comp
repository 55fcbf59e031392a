#version 430 core
// Generated from kernels/vulkan/shaders/norm_backward_params.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 0u
#endif
// Layer/group norm backward for the affine parameters: adds sum(gy·xhat)
// into dw and sum(gy) into db, xhat = (x − mean[row])·rstd[row].
// Parameter q = g·chans + c covers, in rows g, g + groups, ..., the hw
// elements starting at c·hw. Each sum runs in a fixed order (no atomics),
// so the result does not depend on scheduling. MODE selects the pass:
//   0 per parameter (group norms): a workgroup per parameter
//     (grid-stride), its invocations striding over the parameter's
//     elements, which are hw-long contiguous runs, then a shared tree;
//   1 columns (layer norms: parameter q is column q of the rows):
//     a workgroup per 32-column tile and chunk of rows, 32 column lanes by
//     WG/32 row lanes, so each row of the tile is one coalesced read; the
//     row lanes fold in shared memory in order. With one chunk it adds into
//     dw and db; with more it writes the chunk's sums to the partial buffer
//     (dw of chunk s at s·params + q, db splits·params further on);
//   2 combine: an invocation per parameter adds the chunks in order into
//     dw and db.

const uint WG = SARGO_SPEC_0; // power of two, a multiple of 32
const uint MODE = SARGO_SPEC_1;
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) buffer Dw0 { float dw[]; };
layout(std430, binding = 1) buffer Db1 { float db[]; };
layout(std430, binding = 2) readonly buffer X2 { float x[]; };
layout(std430, binding = 3) readonly buffer Mean3 { float mean[]; };
layout(std430, binding = 4) readonly buffer Rstd4 { float rstd[]; };
layout(std430, binding = 5) readonly buffer Gy5 { float gy[]; };
layout(std430, binding = 6) buffer Part6 { float part[]; };

layout(std140, binding = 0) uniform Push {
    uint offDw;
    uint offDb;
    uint offX;
    uint offMean;
    uint offRstd;
    uint offGy;
    uint rows;
    uint rowLen;
    uint groups;
    uint chans;
    uint hw;
    uint params;
    uint flags;  // bit 0: dw, bit 1: db
    uint chunk;  // rows per chunk (columns pass)
    uint splits; // chunks
} p;

const uint TILE = 32;
const uint ROWLANES = WG / TILE;

shared float sW[WG];
shared float sB[WG];

// add adds the parameter sums of parameter q (or of one chunk) into dw, db.
void add(uint q, float w, float b) {
    if ((p.flags & 1u) != 0u) {
        dw[p.offDw + q] += w;
    }
    if ((p.flags & 2u) != 0u) {
        db[p.offDb + q] += b;
    }
}

void perParameter() {
    uint t = gl_LocalInvocationID.x;
    for (uint q = gl_WorkGroupID.x; q < p.params; q += gl_NumWorkGroups.x) {
        uint g = q / p.chans;
        uint c = q - g * p.chans;
        uint rowsHere = g < p.rows ? (p.rows - g + p.groups - 1u) / p.groups : 0u;
        uint cnt = rowsHere * p.hw;
        float sw = 0.0, sb = 0.0;
        for (uint j = t; j < cnt; j += WG) {
            uint jr = j / p.hw;
            uint r = g + jr * p.groups;
            uint e = r * p.rowLen + c * p.hw + (j - jr * p.hw);
            float gv = gy[p.offGy + e];
            sb += gv;
            sw += gv * (x[p.offX + e] - mean[p.offMean + r]) * rstd[p.offRstd + r];
        }
        sW[t] = sw;
        sB[t] = sb;
        { memoryBarrierShared(); barrier(); }
        for (uint k = WG / 2; k > 0; k >>= 1) {
            if (t < k) {
                sW[t] += sW[t + k];
                sB[t] += sB[t + k];
            }
            { memoryBarrierShared(); barrier(); }
        }
        if (t == 0u) {
            add(q, sW[0], sB[0]);
        }
        { memoryBarrierShared(); barrier(); }
    }
}

void columns() {
    uint lane = gl_LocalInvocationID.x % TILE;
    uint rl = gl_LocalInvocationID.x / TILE;
    uint tiles = (p.params + TILE - 1) / TILE;
    for (uint w = gl_WorkGroupID.x; w < tiles * p.splits; w += gl_NumWorkGroups.x) {
        uint s = w % p.splits;
        uint q = (w / p.splits) * TILE + lane;
        uint r0 = s * p.chunk, r1 = min(p.rows, r0 + p.chunk);
        float sw = 0.0, sb = 0.0;
        if (q < p.params) {
            for (uint r = r0 + rl; r < r1; r += ROWLANES) {
                uint e = r * p.rowLen + q;
                float gv = gy[p.offGy + e];
                sb += gv;
                sw += gv * (x[p.offX + e] - mean[p.offMean + r]) * rstd[p.offRstd + r];
            }
        }
        sW[gl_LocalInvocationID.x] = sw;
        sB[gl_LocalInvocationID.x] = sb;
        { memoryBarrierShared(); barrier(); }
        if (rl == 0u && q < p.params) {
            for (uint k = 1; k < ROWLANES; k++) {
                sw += sW[k * TILE + lane];
                sb += sB[k * TILE + lane];
            }
            if (p.splits == 1u) {
                add(q, sw, sb);
            } else {
                part[s * p.params + q] = sw;
                part[(p.splits + s) * p.params + q] = sb;
            }
        }
        { memoryBarrierShared(); barrier(); }
    }
}

void combine() {
    for (uint q = gl_GlobalInvocationID.x; q < p.params; q += gl_NumWorkGroups.x * WG) {
        float sw = 0.0, sb = 0.0;
        for (uint s = 0; s < p.splits; s++) {
            sw += part[s * p.params + q];
            sb += part[(p.splits + s) * p.params + q];
        }
        add(q, sw, sb);
    }
}

void main() {
    if (MODE == 0u) {
        perParameter();
    } else if (MODE == 1u) {
        columns();
    } else {
        combine();
    }
}
