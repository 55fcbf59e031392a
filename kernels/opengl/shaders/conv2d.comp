#version 430 core
// Generated from kernels/vulkan/shaders/conv2d.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 0u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 4u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 16u
#endif
// 2-D convolution (NCHW input, OIHW weight, dilation 1) as an implicit
// GEMM C[M, Ncols] = A[M, K] * B[K, Ncols]: the im2col matrix is never
// materialised; tiles of A and B are gathered straight from the tensors
// into shared memory. A 16x16 workgroup computes a (16*RM) x (16*RM) tile
// of C, each invocation an RM x RM block, with BK-deep shared tiles.
// MODE selects the GEMM:
//   0 forward:         M = Cout, Ncols = N*Hout*Wout, K = Cin*KH*KW,
//                      A = w, B = im2col(x), C -> y (+ bias)
//   1 backward input:  M = Cin,  Ncols = N*H*W,       K = Cout*KH*KW,
//                      A = w (transposed per tap), B = col2im view of gy, C -> dx
//   2 backward weight: M = Cout, Ncols = Cin*KH*KW,   K = N*Hout*Wout,
//                      A = gy, B = im2col(x) transposed, C -> dw
// Bindings: 0 output; mode 0: 1 x, 2 w, 3 bias; mode 1: 1 gy, 2 w;
// mode 2: 1 gy, 2 x.

const uint MODE = SARGO_SPEC_0;
const uint RM = SARGO_SPEC_1;  // outputs per invocation along each axis (1, 2, 4, 8 or 16)
const uint BK = SARGO_SPEC_2; // depth of a shared tile
layout(local_size_x = 16, local_size_y = 16) in;

const uint BM = 16 * RM;

layout(std430, binding = 0) writeonly buffer Out0 { float outp[]; };
layout(std430, binding = 1) readonly buffer In1 { float in1[]; };
layout(std430, binding = 2) readonly buffer In2 { float in2[]; };
layout(std430, binding = 3) readonly buffer Bias3 { float bias[]; };

layout(std140, binding = 0) uniform Push {
    uint offOut;
    uint offIn1;
    uint offIn2;
    uint offBias;
    uint N;
    uint Cin;
    uint H;
    uint W;
    uint Cout;
    uint KH;
    uint KW;
    uint stride;
    uint pad;
    uint Hout;
    uint Wout;
    uint hasBias;
} p;

shared float sA[BK][BM];
shared float sB[BK][BM];

uint dimM() { return MODE == 1u ? p.Cin : p.Cout; }
uint dimN() {
    if (MODE == 0u) return p.N * p.Hout * p.Wout;
    if (MODE == 1u) return p.N * p.H * p.W;
    return p.Cin * p.KH * p.KW;
}
uint dimK() {
    if (MODE == 0u) return p.Cin * p.KH * p.KW;
    if (MODE == 1u) return p.Cout * p.KH * p.KW;
    return p.N * p.Hout * p.Wout;
}

float loadA(uint m, uint k) {
    if (MODE == 0u) {
        return in2[p.offIn2 + m * dimK() + k];
    }
    if (MODE == 1u) {
        // k = (co, kh, kw), m = ci: w[co, ci, kh, kw]
        uint khw = p.KH * p.KW;
        uint co = k / khw;
        uint r = k - co * khw;
        return in2[p.offIn2 + (co * p.Cin + m) * khw + r];
    }
    // k = (b, oh, ow), m = co: gy[b, co, oh, ow]
    uint hw = p.Hout * p.Wout;
    uint b = k / hw;
    uint r = k - b * hw;
    return in1[p.offIn1 + (b * p.Cout + m) * hw + r];
}

// The B column an invocation loads is the same in every K tile (256
// invocations over BM columns), so its decode is done once per output tile:
// colB holds mode 0: (b, oh*stride, ow*stride); mode 1: (b, ih + pad,
// iw + pad); mode 2: (ci, kh, kw).
uvec3 decodeColB(uint n) {
    if (MODE == 0u) {
        uint hw = p.Hout * p.Wout;
        uint b = n / hw;
        uint s = n - b * hw;
        uint oh = s / p.Wout;
        return uvec3(b, oh * p.stride, (s - oh * p.Wout) * p.stride);
    }
    if (MODE == 1u) {
        uint hw = p.H * p.W;
        uint b = n / hw;
        uint s = n - b * hw;
        uint ih = s / p.W;
        return uvec3(b, ih + p.pad, s - ih * p.W + p.pad);
    }
    uint khw = p.KH * p.KW;
    uint ci = n / khw;
    uint r = n - ci * khw;
    uint kh = r / p.KW;
    return uvec3(ci, kh, r - kh * p.KW);
}

float loadB(uint k, uvec3 col) {
    if (MODE == 0u) {
        // k = (ci, kh, kw): x[b, ci, oh*s - pad + kh, ow*s - pad + kw]
        uint khw = p.KH * p.KW;
        uint ci = k / khw;
        uint r = k - ci * khw;
        uint kh = r / p.KW;
        uint kw = r - kh * p.KW;
        int ih = int(col.y + kh) - int(p.pad);
        int iw = int(col.z + kw) - int(p.pad);
        if (ih < 0 || iw < 0 || ih >= int(p.H) || iw >= int(p.W)) return 0.0;
        return in1[p.offIn1 + ((col.x * p.Cin + ci) * p.H + uint(ih)) * p.W + uint(iw)];
    }
    if (MODE == 1u) {
        // k = (co, kh, kw): gy[b, co, oh, ow] where ih = oh*s - pad + kh and
        // iw likewise, when such oh, ow exist
        uint khw = p.KH * p.KW;
        uint co = k / khw;
        uint r = k - co * khw;
        uint kh = r / p.KW;
        uint kw = r - kh * p.KW;
        int th = int(col.y) - int(kh);
        int tw = int(col.z) - int(kw);
        if (th < 0 || tw < 0) return 0.0;
        uint oh = uint(th) / p.stride, ow = uint(tw) / p.stride;
        if (oh * p.stride != uint(th) || ow * p.stride != uint(tw) || oh >= p.Hout || ow >= p.Wout) return 0.0;
        return in1[p.offIn1 + ((col.x * p.Cout + co) * p.Hout + oh) * p.Wout + ow];
    }
    // k = (b, oh, ow): x[b, ci, oh*s - pad + kh, ow*s - pad + kw]
    uint hw = p.Hout * p.Wout;
    uint b = k / hw;
    uint s = k - b * hw;
    uint oh = s / p.Wout;
    uint ow = s - oh * p.Wout;
    int ih = int(oh * p.stride + col.y) - int(p.pad);
    int iw = int(ow * p.stride + col.z) - int(p.pad);
    if (ih < 0 || iw < 0 || ih >= int(p.H) || iw >= int(p.W)) return 0.0;
    return in2[p.offIn2 + ((b * p.Cin + col.x) * p.H + uint(ih)) * p.W + uint(iw)];
}

void store(uint m, uint n, float v) {
    if (MODE == 0u) {
        if (p.hasBias != 0u) {
            v += bias[p.offBias + m];
        }
        uint hw = p.Hout * p.Wout;
        uint b = n / hw;
        uint s = n - b * hw;
        outp[p.offOut + (b * p.Cout + m) * hw + s] = v;
    } else if (MODE == 1u) {
        uint hw = p.H * p.W;
        uint b = n / hw;
        uint s = n - b * hw;
        outp[p.offOut + (b * p.Cin + m) * hw + s] = v;
    } else {
        outp[p.offOut + m * dimN() + n] = v;
    }
}

void main() {
    uint tx = gl_LocalInvocationID.x;
    uint ty = gl_LocalInvocationID.y;
    uint tid = ty * 16u + tx;
    uint M = dimM(), NC = dimN(), K = dimK();
    uint tilesN = (NC + BM - 1u) / BM;
    for (uint tn = gl_WorkGroupID.x; tn < tilesN; tn += gl_NumWorkGroups.x) {
        uint m0 = gl_WorkGroupID.y * BM;
        uint n0 = tn * BM;
        float acc[RM][RM];
        for (uint a = 0; a < RM; a++) {
            for (uint b = 0; b < RM; b++) {
                acc[a][b] = 0.0;
            }
        }
        // this invocation loads column mm of the tiles, rows kk0, kk0 + 256/BM, ...
        uint mm = tid % BM;
        uint kk0 = tid / BM;
        bool mOK = m0 + mm < M;
        bool nOK = n0 + mm < NC;
        uvec3 col = decodeColB(nOK ? n0 + mm : 0u);
        for (uint k0 = 0; k0 < K; k0 += BK) {
            { memoryBarrierShared(); barrier(); }
            for (uint kk = kk0; kk < BK; kk += 256u / BM) {
                uint k = k0 + kk;
                sA[kk][mm] = (k < K && mOK) ? loadA(m0 + mm, k) : 0.0;
                sB[kk][mm] = (k < K && nOK) ? loadB(k, col) : 0.0;
            }
            { memoryBarrierShared(); barrier(); }
            for (uint kk = 0; kk < BK; kk++) {
                float av[RM], bv[RM];
                for (uint a = 0; a < RM; a++) {
                    av[a] = sA[kk][ty + 16u * a];
                    bv[a] = sB[kk][tx + 16u * a];
                }
                for (uint a = 0; a < RM; a++) {
                    for (uint b = 0; b < RM; b++) {
                        acc[a][b] += av[a] * bv[b];
                    }
                }
            }
        }
        for (uint a = 0; a < RM; a++) {
            uint m = m0 + ty + 16u * a;
            for (uint b = 0; b < RM; b++) {
                uint n = n0 + tx + 16u * b;
                if (m < M && n < NC) {
                    store(m, n, acc[a][b]);
                }
            }
        }
    }
}
