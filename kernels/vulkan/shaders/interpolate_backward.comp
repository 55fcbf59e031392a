#version 450
// Backward of interpolate.comp written as a gather, so the result is
// deterministic without atomics: each input pixel sums w_y·w_x·g over the
// output pixels whose taps read it. The outputs that can reach input index
// i along an axis lie in a window around i·m/n (outRange); the weight of
// output o on input i is the sum of o's taps that land on i (tapWeight,
// from the forward's tap function). MODE selects the pass:
//   0 weights: one invocation per (axis, input index, window slot) writes
//     the weight of the slot's output into the weight tables, which hold,
//     for each input index of an axis, the weights of its window (wy or wx
//     slots; y table first, then x);
//   1 gather: one invocation per input element (grid-stride) sums over its
//     window, reading the weights from the tables, so the inner loop is a
//     multiply-add per output with no tap arithmetic.

layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint MODE = 1;
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Dsrc0 { float dsrc[]; };
layout(std430, set = 0, binding = 1) readonly buffer Gdst1 { float gdst[]; };
layout(std430, set = 0, binding = 2) buffer Weights2 { float weights[]; };

layout(push_constant) uniform Push {
    uint offDsrc;
    uint offGdst;
    uint mode; // 0 nearest, 1 bilinear, 2 bicubic, 3 area
    uint planes;
    uint hin;
    uint win;
    uint hout;
    uint wout;
    uint wy; // window slots per input row
    uint wx; // window slots per input column
    float scaleY; // hin / hout and win / wout, divided on the host as the
    float scaleX; // CPU backend divides them (a device division may be off by an ulp)
} p;

const float A = -0.75;

float cubic1(float x) { return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0; }
float cubic2(float x) { return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A; }

// axisTaps writes the taps of output coordinate o on an axis resized from
// n to m and returns their number (area: the window start and length, with
// idx[0] = start, w[0] = 1/length, and the count returned negated).
int axisTaps(uint mode, int o, int n, int m, float scale, out int idx[4], out float w[4]) {
    if (n == m) {
        idx[0] = o;
        w[0] = 1.0;
        return 1;
    }
    if (mode == 0u) {
        precise float s = float(o) * scale;
        idx[0] = min(int(floor(s)), n - 1);
        w[0] = 1.0;
        return 1;
    }
    if (mode == 1u) {
        precise float s = max(scale * (float(o) + 0.5) - 0.5, 0.0);
        int i0 = min(int(floor(s)), n - 1);
        precise float l = clamp(s - float(i0), 0.0, 1.0);
        idx[0] = i0;
        w[0] = 1.0 - l;
        idx[1] = min(i0 + 1, n - 1);
        w[1] = l;
        return 2;
    }
    if (mode == 2u) {
        precise float s = scale * (float(o) + 0.5) - 0.5;
        int i0 = min(int(floor(s)), n - 1);
        precise float l = clamp(s - float(i0), 0.0, 1.0);
        w[0] = cubic2(l + 1.0);
        w[1] = cubic1(l);
        w[2] = cubic1(1.0 - l);
        w[3] = cubic2(2.0 - l);
        for (int k = 0; k < 4; k++) {
            idx[k] = clamp(i0 - 1 + k, 0, n - 1);
        }
        return 4;
    }
    int s0 = o * n / m;
    int e0 = ((o + 1) * n + m - 1) / m;
    idx[0] = s0;
    w[0] = 1.0 / float(e0 - s0);
    return -(e0 - s0);
}

// tapWeight is the total weight with which output o reads input i.
float tapWeight(uint mode, int o, int i, int n, int m, float scale) {
    int idx[4];
    float w[4];
    int c = axisTaps(mode, o, n, m, scale, idx, w);
    if (c < 0) {
        return (i >= idx[0] && i < idx[0] - c) ? w[0] : 0.0;
    }
    float s = 0.0;
    for (int k = 0; k < c; k++) {
        if (idx[k] == i) {
            s += w[k];
        }
    }
    return s;
}

// outRange returns the outputs [lo, hi] that may read input i. Every tap
// of output o lies within [src - 1, src + 2] around its source coordinate
// src = (o + 0.5) * n / m - 0.5 (an area window within [o * n / m,
// (o + 1) * n / m]), so o reads i only if (i - 2) * m / n - 1 <= o <=
// (i + 3) * m / n; one more output each side absorbs rounding.
ivec2 outRange(int i, int n, int m) {
    int lo = i >= 2 ? max(0, (i - 2) * m / n - 2) : 0;
    int hi = min(m - 1, ((i + 3) * m + n - 1) / n + 1);
    if (i == 0) {
        lo = 0;
    }
    if (i == n - 1) {
        hi = m - 1;
    }
    return ivec2(lo, hi);
}

void weightTables() {
    uint ny = p.hin * p.wy, total = ny + p.win * p.wx;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += gl_NumWorkGroups.x * WG) {
        bool yAxis = e < ny;
        uint r = yAxis ? e : e - ny;
        uint slots = yAxis ? p.wy : p.wx;
        int i = int(r / slots);
        int n = int(yAxis ? p.hin : p.win), m = int(yAxis ? p.hout : p.wout);
        ivec2 rg = outRange(i, n, m);
        int o = rg.x + int(r % slots);
        weights[e] = o <= rg.y ? tapWeight(p.mode, o, i, n, m, yAxis ? p.scaleY : p.scaleX) : 0.0;
    }
}

void gather() {
    uint total = p.planes * p.hin * p.win;
    uint stride = gl_NumWorkGroups.x * WG;
    int n_y = int(p.hin), n_x = int(p.win), m_y = int(p.hout), m_x = int(p.wout);
    uint xTable = p.hin * p.wy;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint plane = e / (p.hin * p.win);
        uint r = e - plane * p.hin * p.win;
        int iy = int(r / p.win);
        int ix = int(r - uint(iy) * p.win);
        ivec2 ry = outRange(iy, n_y, m_y);
        ivec2 rx = outRange(ix, n_x, m_x);
        uint base = p.offGdst + plane * p.hout * p.wout;
        uint wyRow = uint(iy) * p.wy - uint(ry.x);
        uint wxRow = xTable + uint(ix) * p.wx - uint(rx.x);
        float acc = 0.0;
        for (int oy = ry.x; oy <= ry.y; oy++) {
            float wy = weights[wyRow + uint(oy)];
            if (wy == 0.0) {
                continue;
            }
            float row = 0.0;
            for (int ox = rx.x; ox <= rx.y; ox++) {
                float wx = weights[wxRow + uint(ox)];
                if (wx != 0.0) {
                    row += wx * gdst[base + uint(oy) * p.wout + uint(ox)];
                }
            }
            acc += wy * row;
        }
        dsrc[p.offDsrc + e] = acc;
    }
}

void main() {
    if (MODE == 0u) {
        weightTables();
    } else {
        gather();
    }
}
