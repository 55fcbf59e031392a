#version 430 core
// Generated from kernels/vulkan/shaders/matmul.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 64u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 64u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 16u
#endif
#ifndef SARGO_SPEC_3
#define SARGO_SPEC_3 4u
#endif
#ifndef SARGO_SPEC_4
#define SARGO_SPEC_4 4u
#endif
#ifndef SARGO_SPEC_5
#define SARGO_SPEC_5 256u
#endif
#ifndef SARGO_SPEC_6
#define SARGO_SPEC_6 0u
#endif
#ifndef SARGO_SPEC_7
#define SARGO_SPEC_7 0u
#endif
#ifndef SARGO_SPEC_8
#define SARGO_SPEC_8 0u
#endif
#ifndef SARGO_SPEC_9
#define SARGO_SPEC_9 0u
#endif
#ifndef SARGO_SPEC_10
#define SARGO_SPEC_10 0u
#endif
// matmul: C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b], op(A) M x K,
// op(B) K x N, row-major, batch b = workgroup z (grid-stride beyond the
// group count). Each workgroup computes a BM x BN tile of C from
// shared-memory tiles of A and B BK deep; each invocation a TM x TN block
// held in registers. Specialization constants: 0 BM, 1 BN, 2 BK, 3 TM,
// 4 TN, 5 LOCAL (= (BM/TM)*(BN/TN)), 6 TRANS_A, 7 TRANS_B, 8 BETA (0: C
// is overwritten and never read; 1: accumulate), 9 VEC_A, 10 VEC_B (1:
// load the operand as vec4 along its contiguous axis; the Go side sets it
// only when that axis' length, the offset and the batch stride are
// multiples of 4, so no vec4 straddles a row or the end of the buffer).
layout(local_size_x = SARGO_SPEC_5) in;
const uint BM = SARGO_SPEC_0;
const uint BN = SARGO_SPEC_1;
const uint BK = SARGO_SPEC_2;
const uint TM = SARGO_SPEC_3;
const uint TN = SARGO_SPEC_4;
const uint LOCAL = SARGO_SPEC_5;
const uint TRANS_A = SARGO_SPEC_6;
const uint TRANS_B = SARGO_SPEC_7;
const uint BETA = SARGO_SPEC_8;
const uint VEC_A = SARGO_SPEC_9;
const uint VEC_B = SARGO_SPEC_10;

layout(std430, binding = 0) readonly buffer A0 { float a[]; };
layout(std430, binding = 1) readonly buffer B1 { float b[]; };
// The same buffers seen as vec4 (descriptor aliasing), for VEC_A / VEC_B.
layout(std430, binding = 0) readonly buffer A0v { vec4 a4[]; };
layout(std430, binding = 1) readonly buffer B1v { vec4 b4[]; };
layout(std430, binding = 2) buffer C2 { float c[]; };

layout(std140, binding = 0) uniform Push {
	uint offA;
	uint offB;
	uint offC;
	uint M;
	uint N;
	uint K;
	uint strideA;
	uint strideB;
	uint strideC;
	uint batch;
	float alpha;
} p;

// Tiles are stored k-major: As[k][m], Bs[k][n], padded by one column.
shared float As[BK * (BM + 1)];
shared float Bs[BK * (BN + 1)];

// aAt is op(A)[m][k] of the batch starting at base.
float aAt(uint base, uint m, uint k) {
	return TRANS_A == 1 ? a[base + k * p.M + m] : a[base + m * p.K + k];
}

// bAt is op(B)[k][n].
float bAt(uint base, uint k, uint n) {
	return TRANS_B == 1 ? b[base + n * p.K + k] : b[base + k * p.N + n];
}

void main() {
	uint tid = gl_LocalInvocationID.x;
	uint tx = tid % (BN / TN); // column block of this invocation
	uint ty = tid / (BN / TN); // row block
	uint m0 = gl_WorkGroupID.y * BM;
	uint n0 = gl_WorkGroupID.x * BN;
	for (uint bz = gl_WorkGroupID.z; bz < p.batch; bz += gl_NumWorkGroups.z) {
		uint baseA = p.offA + bz * p.strideA;
		uint baseB = p.offB + bz * p.strideB;
		uint baseC = p.offC + bz * p.strideC;
		float acc[TM * TN];
		for (uint i = 0; i < TM * TN; i++) {
			acc[i] = 0.0;
		}
		for (uint k0 = 0; k0 < p.K; k0 += BK) {
			// Load the tiles; consecutive invocations read consecutive
			// addresses of whichever layout A and B have.
			if (VEC_A == 1) {
				// Four consecutive elements along A's contiguous axis.
				for (uint idx = tid; idx < BM * BK / 4; idx += LOCAL) {
					uint m, k;
					if (TRANS_A == 1) {
						m = (idx % (BM / 4)) * 4;
						k = idx / (BM / 4);
					} else {
						k = (idx % (BK / 4)) * 4;
						m = idx / (BK / 4);
					}
					uint gm = m0 + m, gk = k0 + k;
					vec4 v = vec4(0.0);
					if (TRANS_A == 1) {
						if (gk < p.K && gm < p.M) {
							v = a4[(baseA + gk * p.M + gm) / 4];
						}
						for (uint e = 0; e < 4; e++) {
							As[k * (BM + 1) + m + e] = v[e];
						}
					} else {
						if (gm < p.M && gk < p.K) {
							v = a4[(baseA + gm * p.K + gk) / 4];
						}
						for (uint e = 0; e < 4; e++) {
							As[(k + e) * (BM + 1) + m] = v[e];
						}
					}
				}
			} else {
				for (uint idx = tid; idx < BM * BK; idx += LOCAL) {
					uint m, k;
					if (TRANS_A == 1) {
						m = idx % BM;
						k = idx / BM;
					} else {
						k = idx % BK;
						m = idx / BK;
					}
					uint gm = m0 + m, gk = k0 + k;
					As[k * (BM + 1) + m] = (gm < p.M && gk < p.K) ? aAt(baseA, gm, gk) : 0.0;
				}
			}
			if (VEC_B == 1) {
				for (uint idx = tid; idx < BN * BK / 4; idx += LOCAL) {
					uint n, k;
					if (TRANS_B == 1) {
						k = (idx % (BK / 4)) * 4;
						n = idx / (BK / 4);
					} else {
						n = (idx % (BN / 4)) * 4;
						k = idx / (BN / 4);
					}
					uint gn = n0 + n, gk = k0 + k;
					vec4 v = vec4(0.0);
					if (TRANS_B == 1) {
						if (gn < p.N && gk < p.K) {
							v = b4[(baseB + gn * p.K + gk) / 4];
						}
						for (uint e = 0; e < 4; e++) {
							Bs[(k + e) * (BN + 1) + n] = v[e];
						}
					} else {
						if (gk < p.K && gn < p.N) {
							v = b4[(baseB + gk * p.N + gn) / 4];
						}
						for (uint e = 0; e < 4; e++) {
							Bs[k * (BN + 1) + n + e] = v[e];
						}
					}
				}
			} else {
				for (uint idx = tid; idx < BN * BK; idx += LOCAL) {
					uint n, k;
					if (TRANS_B == 1) {
						k = idx % BK;
						n = idx / BK;
					} else {
						n = idx % BN;
						k = idx / BN;
					}
					uint gn = n0 + n, gk = k0 + k;
					Bs[k * (BN + 1) + n] = (gn < p.N && gk < p.K) ? bAt(baseB, gk, gn) : 0.0;
				}
			}
			{ memoryBarrierShared(); barrier(); }
			for (uint k = 0; k < BK; k++) {
				float ra[TM];
				float rb[TN];
				for (uint i = 0; i < TM; i++) {
					ra[i] = As[k * (BM + 1) + ty * TM + i];
				}
				for (uint j = 0; j < TN; j++) {
					rb[j] = Bs[k * (BN + 1) + tx * TN + j];
				}
				for (uint i = 0; i < TM; i++) {
					for (uint j = 0; j < TN; j++) {
						acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]);
					}
				}
			}
			{ memoryBarrierShared(); barrier(); }
		}
		for (uint i = 0; i < TM; i++) {
			uint gm = m0 + ty * TM + i;
			if (gm >= p.M) {
				continue;
			}
			for (uint j = 0; j < TN; j++) {
				uint gn = n0 + tx * TN + j;
				if (gn < p.N) {
					uint ci = baseC + gm * p.N + gn;
					float v = p.alpha * acc[i * TN + j];
					c[ci] = BETA == 1 ? c[ci] + v : v;
				}
			}
		}
	}
}
