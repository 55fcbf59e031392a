#version 430 core
// Generated from kernels/vulkan/shaders/conv2d.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 64u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 64u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 8u
#endif
#ifndef SARGO_SPEC_3
#define SARGO_SPEC_3 8u
#endif
#ifndef SARGO_SPEC_4
#define SARGO_SPEC_4 4u
#endif
#ifndef SARGO_SPEC_5
#define SARGO_SPEC_5 128u
#endif
#ifndef SARGO_SPEC_6
#define SARGO_SPEC_6 0u
#endif
#ifndef SARGO_SPEC_7
#define SARGO_SPEC_7 0u
#endif
// 2-D convolution (NCHW input, OIHW weight, dilation 1) as an implicit
// GEMM C[M, NC] = A[M, K] · B[K, NC] with the tiling of gemm.glsl: the
// im2col matrix is never materialised; each step's tiles are gathered
// straight from the tensors into registers and then shared memory. MODE
// selects the GEMM:
//   0 forward:         M = Cout, NC = N·Hout·Wout, K = Cin·KH·KW,
//                      A = w, B = im2col(x), C -> y (+ bias[m])
//   1 input gradient:  M = Cin,  NC = N·H·W,       K = Cout·KH·KW,
//                      A = w (per tap, transposed), B = the col2im view of gy,
//                      C -> dx
//   2 weight gradient: M = Cout, NC = Cin·KH·KW,   K = N·Hout·Wout,
//                      A = gy, B = im2col(x) transposed, C -> dw; with
//                      SPLIT = 1, chunk s of K goes to the partial buffer
//                      bound as the output, at (s·M + m)·NC + n, for
//                      matmul_splitk.comp to add in order.
// Bindings: 0 output; mode 0: 1 x, 2 w, 3 bias; mode 1: 1 gy, 2 w;
// mode 2: 1 gy, 2 x.
//
// Index arithmetic: each invocation stages runs of four consecutive
// elements along one axis of each operand (as matmul.comp). The decoding
// of a B column (an output position, an input position or a tap) is done
// once per output tile, since an invocation's columns are the same in
// every step; per step, an invocation decodes the K index of each run once
// and steps through the run's four elements with carries, so the inner
// loop has no division.
// Specialization constants: 0 BM, 1 BN, 2 BK, 3 TM, 4 TN, 5 LOCAL, 6 MODE,
// 7 SPLIT.
layout(local_size_x = SARGO_SPEC_5) in;
const uint BM = SARGO_SPEC_0;
const uint BN = SARGO_SPEC_1;
const uint BK = SARGO_SPEC_2;
const uint TM = SARGO_SPEC_3;
const uint TN = SARGO_SPEC_4;
const uint LOCAL = SARGO_SPEC_5;
const uint MODE = SARGO_SPEC_6;
const uint SPLIT = SARGO_SPEC_7;

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
	uint splits; // K chunks (mode 2)
	uint kChunk; // K per chunk, a multiple of BK
} p;

// #include "gemm.glsl", inlined:
// Shared by the GEMM kernels (matmul.comp, conv2d.comp): the register- and
// shared-memory-tiled main loop of C[BM x BN] += A[BM x K] · B[K x BN].
//
// Tiling, from the outside in:
//   - a workgroup of LOCAL = (BM/TM)·(BN/TN) invocations owns a BM x BN tile
//     of C and walks K in BK-deep steps;
//   - each step's A (BM x BK) and B (BN x BK) tiles sit in shared memory
//     k-contiguous: row m of A holds its BK values of k side by side, padded
//     to SA = BK + 2 floats, so every pair (k, k+1) is one aligned 8-byte
//     read; with BK = 8, sixteen consecutive rows start at sixteen
//     different even banks (10·m modulo 32), so the sixteen lanes an
//     8-byte read serves at a time hit disjoint bank pairs when they read
//     consecutive rows, and read one address (a broadcast) otherwise;
//   - the tiles are double-buffered: while the invocations multiply the
//     tiles of step t, their registers already hold the global loads of step
//     t+1, which go to the other buffer afterwards, so one barrier per step
//     suffices and global latency overlaps the arithmetic;
//   - each invocation owns TM x TN outputs in registers, rows ty + i·(BM/TM)
//     and columns tx + j·(BN/TN) (consecutive invocations on consecutive
//     columns): per two values of k it reads TM pairs of A and TN pairs of
//     B for 2·TM·TN FMAs (8x8: 16 reads per 128 FMAs, against 8 per 16 in
//     the naive 4x4 tiling with one float per read).
//
// The including shader declares the specialization constants BM, BN, BK,
// TM, TN, LOCAL (BK even, BM·BK and BN·BK multiples of 4·LOCAL), includes
// this file, then defines
//   void fetchTiles(uint m0, uint n0, uint k0, uint kEnd)
//     global loads of the A and B tiles at (m0, k0) and (n0, k0) into its
//     own registers (zeros beyond kEnd and the matrix edges), and
//   void storeTiles(uint buf)
//     those registers into shared buffer buf with putA, putA2, putB, putB2,
// and includes gemm_loop.glsl, whose gemmTile runs the loop into acc.


const uint SA = BK + 2;  // floats per shared row
const uint SA2 = SA / 2; // pairs per shared row
const uint CT = BN / TN; // invocations across a tile's columns
const uint RT = BM / TM; // invocations across its rows

shared vec2 As2[2 * BM * SA2];
shared vec2 Bs2[2 * BN * SA2];

// acc holds the invocation's TM x TN outputs, row-major.
float acc[TM * TN];

void putA(uint buf, uint m, uint k, float v) { As2[(buf * BM + m) * SA2 + k / 2][k % 2] = v; }
void putB(uint buf, uint n, uint k, float v) { Bs2[(buf * BN + n) * SA2 + k / 2][k % 2] = v; }
// putA2 and putB2 store the values of k and k+1 (k even).
void putA2(uint buf, uint m, uint k, vec2 v) { As2[(buf * BM + m) * SA2 + k / 2] = v; }
void putB2(uint buf, uint n, uint k, vec2 v) { Bs2[(buf * BN + n) * SA2 + k / 2] = v; }

// gemmRow and gemmCol are the tile row of output i and the tile column of
// output j of this invocation.
uint gemmRow(uint i) { return gl_LocalInvocationID.x / CT + i * RT; }
uint gemmCol(uint j) { return gl_LocalInvocationID.x % CT + j * CT; }

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

const uint A_PER = BM * BK / LOCAL;
const uint B_PER = BN * BK / LOCAL;
const uint NONE = 0xffffffffu;
vec4 stA[A_PER / 4];
vec4 stB[B_PER / 4];
// colB: the decoded B columns of this invocation for the current tile.
// Modes 0 and 1 (runs along the columns): element e of run v at 4v + e,
// mode 0 (b, oh·stride, ow·stride), mode 1 (b, h + pad, w + pad). Mode 2
// (runs along K, one column per run): run v at v, (ci, kh, kw). x = NONE
// past the last column.
uvec3 colB[B_PER];

// aRun is the tile coordinates (row, k) of run v of A: four consecutive k.
uvec2 aRun(uint v) {
	uint id = gl_LocalInvocationID.x + v * LOCAL;
	return uvec2(id / (BK / 4), (id % (BK / 4)) * 4);
}

// bRun is the tile coordinates (column, k) of run v of B: four
// consecutive columns (modes 0, 1) or four consecutive k (mode 2).
uvec2 bRun(uint v) {
	uint id = gl_LocalInvocationID.x + v * LOCAL;
	return MODE == 2u ? uvec2(id / (BK / 4), (id % (BK / 4)) * 4) : uvec2((id % (BN / 4)) * 4, id / (BN / 4));
}

uvec3 decodeColumn(uint n) {
	if (n >= dimN()) {
		return uvec3(NONE);
	}
	if (MODE == 0u) {
		uint hw = p.Hout * p.Wout;
		uint b = n / hw, s = n - b * hw;
		uint oh = s / p.Wout;
		return uvec3(b, oh * p.stride, (s - oh * p.Wout) * p.stride);
	}
	if (MODE == 1u) {
		uint hw = p.H * p.W;
		uint b = n / hw, s = n - b * hw;
		uint h = s / p.W;
		return uvec3(b, h + p.pad, s - h * p.W + p.pad);
	}
	uint khw = p.KH * p.KW;
	uint ci = n / khw, r = n - ci * khw;
	uint kh = r / p.KW;
	return uvec3(ci, kh, r - kh * p.KW);
}

void prepareTile(uint n0) {
	for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		if (MODE == 2u) {
			colB[v] = decodeColumn(n0 + t.x);
		} else {
			for (uint e = 0; e < 4; e++) {
				colB[v * 4 + e] = decodeColumn(n0 + t.x + e);
			}
		}
	}
}

// xAt is x[b, ci, ih, iw] (in binding xb), zero outside the image.
float xAt(uint b, uint ci, int ih, int iw) {
	if (ih < 0 || iw < 0 || ih >= int(p.H) || iw >= int(p.W)) {
		return 0.0;
	}
	uint i = ((b * p.Cin + ci) * p.H + uint(ih)) * p.W + uint(iw);
	return MODE == 0u ? in1[p.offIn1 + i] : in2[p.offIn2 + i];
}

void fetchTiles(uint m0, uint n0, uint k0, uint kEnd) {
	uint M = dimM();
	uint khw = p.KH * p.KW, hwo = p.Hout * p.Wout;
	for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		uint gm = m0 + t.x, gk = k0 + t.y;
		if (MODE == 0u) {
			// w[co, k]: contiguous along k
			uint i = p.offIn2 + gm * p.Cin * khw + gk;
			for (uint e = 0; e < 4; e++) {
				stA[v][e] = gm < M && gk + e < kEnd ? in2[i + e] : 0.0;
			}
		} else if (MODE == 1u) {
			// w[co, ci, r] at k = (co, r), r = kh·KW + kw
			uint co = gk / khw, r = gk - co * khw;
			for (uint e = 0; e < 4; e++) {
				stA[v][e] = gm < M && gk + e < kEnd ? in2[p.offIn2 + (co * p.Cin + gm) * khw + r] : 0.0;
				r++;
				if (r == khw) {
					r = 0;
					co++;
				}
			}
		} else {
			// gy[b, co, s] at k = (b, s), s = oh·Wout + ow
			uint b = gk / hwo, s = gk - b * hwo;
			for (uint e = 0; e < 4; e++) {
				stA[v][e] = gm < M && gk + e < kEnd ? in1[p.offIn1 + (b * p.Cout + gm) * hwo + s] : 0.0;
				s++;
				if (s == hwo) {
					s = 0;
					b++;
				}
			}
		}
	}
	for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		uint gk = k0 + t.y;
		if (MODE == 2u) {
			// x[b, ci, oh·s − pad + kh, ow·s − pad + kw] at k = (b, oh, ow)
			uvec3 c = colB[v];
			uint b = gk / hwo, s = gk - b * hwo;
			uint oh = s / p.Wout, ow = s - oh * p.Wout;
			for (uint e = 0; e < 4; e++) {
				bool ok = c.x != NONE && gk + e < kEnd;
				stB[v][e] = ok ? xAt(b, c.x, int(oh * p.stride + c.y) - int(p.pad), int(ow * p.stride + c.z) - int(p.pad)) : 0.0;
				ow++;
				if (ow == p.Wout) {
					ow = 0;
					oh++;
					if (oh == p.Hout) {
						oh = 0;
						b++;
					}
				}
			}
		} else {
			// k = (ci, kh, kw) (mode 0) or (co, kh, kw) (mode 1), the same
			// for the four columns of the run
			uint ch = gk / khw, r = gk - ch * khw;
			uint kh = r / p.KW, kw = r - kh * p.KW;
			for (uint e = 0; e < 4; e++) {
				uvec3 c = colB[v * 4 + e];
				float val = 0.0;
				if (c.x != NONE && gk < kEnd) {
					if (MODE == 0u) {
						val = xAt(c.x, ch, int(c.y + kh) - int(p.pad), int(c.z + kw) - int(p.pad));
					} else {
						// gy[b, co, oh, ow] where h + pad = oh·s + kh, w likewise
						int th = int(c.y) - int(kh), tw = int(c.z) - int(kw);
						if (th >= 0 && tw >= 0) {
							uint oh = uint(th), ow = uint(tw);
							if (p.stride != 1u) {
								oh /= p.stride;
								ow /= p.stride;
							}
							if (oh * p.stride == uint(th) && ow * p.stride == uint(tw) && oh < p.Hout && ow < p.Wout) {
								val = in1[p.offIn1 + ((c.x * p.Cout + ch) * p.Hout + oh) * p.Wout + ow];
							}
						}
					}
				}
				stB[v][e] = val;
			}
		}
	}
}

void storeTiles(uint buf) {
	for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		putA2(buf, t.x, t.y, stA[v].xy);
		putA2(buf, t.x, t.y + 2, stA[v].zw);
	}
	for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		if (MODE == 2u) {
			putB2(buf, t.x, t.y, stB[v].xy);
			putB2(buf, t.x, t.y + 2, stB[v].zw);
		} else {
			for (uint e = 0; e < 4; e++) {
				putB(buf, t.x + e, t.y, stB[v][e]);
			}
		}
	}
}

// #include "gemm_loop.glsl", inlined:
// The main loop of gemm.glsl, included after the includer's fetchTiles
// and storeTiles: gemmTile sets acc to the product of the tile rows m0.. of
// A and tile columns n0.. of B over k in [kBegin, kEnd). Every invocation
// of the workgroup calls it with the same arguments (it has barriers).
void gemmTile(uint m0, uint n0, uint kBegin, uint kEnd) {
	for (uint i = 0; i < TM * TN; i++) {
		acc[i] = 0.0;
	}
	if (kBegin >= kEnd) {
		return;
	}
	uint steps = (kEnd - kBegin + BK - 1) / BK;
	fetchTiles(m0, n0, kBegin, kEnd);
	storeTiles(0);
	{ memoryBarrierShared(); barrier(); }
	for (uint t = 0; t < steps; t++) {
		uint buf = t & 1u;
		bool more = t + 1 < steps;
		if (more) {
			fetchTiles(m0, n0, kBegin + (t + 1) * BK, kEnd);
		}
		for (uint kp = 0; kp < BK / 2; kp++) {
			vec2 a[TM];
			for (uint i = 0; i < TM; i++) {
				a[i] = As2[(buf * BM + gemmRow(i)) * SA2 + kp];
			}
			for (uint j = 0; j < TN; j++) {
				vec2 b = Bs2[(buf * BN + gemmCol(j)) * SA2 + kp];
				for (uint i = 0; i < TM; i++) {
					acc[i * TN + j] = fma(a[i].y, b.y, fma(a[i].x, b.x, acc[i * TN + j]));
				}
			}
		}
		if (more) {
			storeTiles(buf ^ 1u);
		}
		{ memoryBarrierShared(); barrier(); }
	}
}

// outIndex is the element of C(m, n) in the output.
uint outIndex(uint m, uint n) {
	if (MODE == 0u) {
		uint hw = p.Hout * p.Wout;
		uint b = n / hw;
		return (b * p.Cout + m) * hw + (n - b * hw);
	}
	if (MODE == 1u) {
		uint hw = p.H * p.W;
		uint b = n / hw;
		return (b * p.Cin + m) * hw + (n - b * hw);
	}
	return m * dimN() + n;
}

void main() {
	uint M = dimM(), NC = dimN(), K = dimK();
	uint tilesN = (NC + BN - 1) / BN;
	for (uint m0 = gl_WorkGroupID.y * BM; m0 < M; m0 += gl_NumWorkGroups.y * BM) {
		for (uint tn = gl_WorkGroupID.x; tn < tilesN; tn += gl_NumWorkGroups.x) {
			uint n0 = tn * BN;
			prepareTile(n0);
			for (uint s = gl_WorkGroupID.z; s < p.splits; s += gl_NumWorkGroups.z) {
				uint kBegin = s * p.kChunk;
				gemmTile(m0, n0, kBegin, min(K, kBegin + p.kChunk));
				for (uint i = 0; i < TM; i++) {
					uint gm = m0 + gemmRow(i);
					for (uint j = 0; j < TN; j++) {
						uint gn = n0 + gemmCol(j);
						if (gm < M && gn < NC) {
							float v = acc[i * TN + j];
							if (SPLIT == 1u) {
								outp[p.offOut + (s * M + gm) * NC + gn] = v;
							} else {
								if (MODE == 0u && p.hasBias != 0u) {
									v += bias[p.offBias + gm];
								}
								outp[p.offOut + outIndex(gm, gn)] = v;
							}
						}
					}
				}
			}
		}
	}
}
