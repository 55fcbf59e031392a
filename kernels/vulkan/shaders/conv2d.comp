#version 450
#extension GL_GOOGLE_include_directive : require
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
layout(local_size_x_id = 5) in;
layout(constant_id = 0) const uint BM = 64;
layout(constant_id = 1) const uint BN = 64;
layout(constant_id = 2) const uint BK = 8;
layout(constant_id = 3) const uint TM = 8;
layout(constant_id = 4) const uint TN = 4;
layout(constant_id = 5) const uint LOCAL = 128;
layout(constant_id = 6) const uint MODE = 0;
layout(constant_id = 7) const uint SPLIT = 0;

layout(std430, set = 0, binding = 0) writeonly buffer Out0 { float outp[]; };
layout(std430, set = 0, binding = 1) readonly buffer In1 { float in1[]; };
layout(std430, set = 0, binding = 2) readonly buffer In2 { float in2[]; };
layout(std430, set = 0, binding = 3) readonly buffer Bias3 { float bias[]; };

layout(push_constant) uniform Push {
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

#include "gemm.glsl"

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
	[[unroll]] for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		if (MODE == 2u) {
			colB[v] = decodeColumn(n0 + t.x);
		} else {
			[[unroll]] for (uint e = 0; e < 4; e++) {
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
	[[unroll]] for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		uint gm = m0 + t.x, gk = k0 + t.y;
		if (MODE == 0u) {
			// w[co, k]: contiguous along k
			uint i = p.offIn2 + gm * p.Cin * khw + gk;
			[[unroll]] for (uint e = 0; e < 4; e++) {
				stA[v][e] = gm < M && gk + e < kEnd ? in2[i + e] : 0.0;
			}
		} else if (MODE == 1u) {
			// w[co, ci, r] at k = (co, r), r = kh·KW + kw
			uint co = gk / khw, r = gk - co * khw;
			[[unroll]] for (uint e = 0; e < 4; e++) {
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
			[[unroll]] for (uint e = 0; e < 4; e++) {
				stA[v][e] = gm < M && gk + e < kEnd ? in1[p.offIn1 + (b * p.Cout + gm) * hwo + s] : 0.0;
				s++;
				if (s == hwo) {
					s = 0;
					b++;
				}
			}
		}
	}
	[[unroll]] for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		uint gk = k0 + t.y;
		if (MODE == 2u) {
			// x[b, ci, oh·s − pad + kh, ow·s − pad + kw] at k = (b, oh, ow)
			uvec3 c = colB[v];
			uint b = gk / hwo, s = gk - b * hwo;
			uint oh = s / p.Wout, ow = s - oh * p.Wout;
			[[unroll]] for (uint e = 0; e < 4; e++) {
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
			[[unroll]] for (uint e = 0; e < 4; e++) {
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
	[[unroll]] for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		putA2(buf, t.x, t.y, stA[v].xy);
		putA2(buf, t.x, t.y + 2, stA[v].zw);
	}
	[[unroll]] for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		if (MODE == 2u) {
			putB2(buf, t.x, t.y, stB[v].xy);
			putB2(buf, t.x, t.y + 2, stB[v].zw);
		} else {
			[[unroll]] for (uint e = 0; e < 4; e++) {
				putB(buf, t.x + e, t.y, stB[v][e]);
			}
		}
	}
}

#include "gemm_loop.glsl"

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
				[[unroll]] for (uint i = 0; i < TM; i++) {
					uint gm = m0 + gemmRow(i);
					[[unroll]] for (uint j = 0; j < TN; j++) {
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
