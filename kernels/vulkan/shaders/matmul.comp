#version 450
#extension GL_GOOGLE_include_directive : require
// matmul: C[b] = act(alpha·op(A[b])·op(B[b]) + beta·C[b] + bias), op(A)
// M x K, op(B) K x N, row-major, with the tiling of gemm.glsl. Workgroup
// (x, y) owns tile (n, m) of C; z walks batch x splits (grid-stride in y
// and z beyond the group counts).
//
// With SPLIT = 1 the K axis is cut into chunks of kChunk (a multiple of
// BK): workgroup z = s + splits·b sums chunk s of batch entry b and writes
// the raw sums to the partial buffer bound as C, at ((s·batch + b)·M + m)·N
// + n; matmul_splitk.comp then adds the chunks in order and applies the
// epilogue, so the result does not depend on scheduling.
//
// With flag bit 3 (batch 1), the workgroups of the first column tile and
// first K chunk also sum their BM rows of op(A) over all of K (Kahan-
// compensated, as reduce.comp sums) into rowSums[offRowSums + m]: written,
// or with flag bit 4 added to its value. With A = gyᵀ that is Linear's
// bias gradient beside its weight gradient, in the same dispatch.
//
// Specialization constants: 0 BM, 1 BN, 2 BK, 3 TM, 4 TN, 5 LOCAL
// (= (BM/TM)·(BN/TN)), 6 TRANS_A (A stored K x M), 7 TRANS_B (B stored
// N x K), 8 BETA (0: C is overwritten and never read), 9 SPLIT. Push-
// constant flags (uniform branches): bit 0 adds the bias, bits 1 and 2 load
// A and B as vec4 along their contiguous axis (the Go side sets them only
// when that axis' length, the offset and the batch stride are multiples of
// 4, so a vec4 never straddles a row or a K chunk, whose length is a
// multiple of BK), bits 8 and up select the activation
// (matmul_epilogue.glsl).
layout(local_size_x_id = 5) in;
layout(constant_id = 0) const uint BM = 128;
layout(constant_id = 1) const uint BN = 128;
layout(constant_id = 2) const uint BK = 8;
layout(constant_id = 3) const uint TM = 8;
layout(constant_id = 4) const uint TN = 8;
layout(constant_id = 5) const uint LOCAL = 256;
layout(constant_id = 6) const uint TRANS_A = 0;
layout(constant_id = 7) const uint TRANS_B = 0;
layout(constant_id = 8) const uint BETA = 0;
layout(constant_id = 9) const uint SPLIT = 0;

layout(std430, set = 0, binding = 0) readonly buffer A0 { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B1 { float b[]; };
// The same buffers seen as vec4 (descriptor aliasing), for vec4 loads.
layout(std430, set = 0, binding = 0) readonly buffer A0v { vec4 a4[]; };
layout(std430, set = 0, binding = 1) readonly buffer B1v { vec4 b4[]; };
layout(std430, set = 0, binding = 2) buffer C2 { float c[]; };
layout(std430, set = 0, binding = 3) readonly buffer Bias3 { float bias[]; };
layout(std430, set = 0, binding = 4) buffer RowSums4 { float rowSums[]; };

layout(push_constant) uniform Push {
	uint offA;
	uint offB;
	uint offC;
	uint offBias;
	uint M;
	uint N;
	uint K;
	uint strideA;
	uint strideB;
	uint strideC;
	uint batch;
	uint splits; // K chunks (1 without SPLIT)
	uint kChunk; // K per chunk, a multiple of BK
	float alpha;
	float beta;
	uint flags; // bit 0 bias, bit 1 vec4 A, bit 2 vec4 B, bit 3 row sums, bit 4 add them, bits 8.. activation
	uint offRowSums;
} p;

#include "gemm.glsl"
#include "matmul_epilogue.glsl"

// Per invocation and step, A_PER values of the A tile and B_PER of the B
// tile travel through registers, as runs of four consecutive elements
// along the operand's contiguous axis: one vec4 load when the flags allow,
// else four scalar loads with their own bounds checks. Consecutive
// invocations take consecutive runs.
const uint A_PER = BM * BK / LOCAL;
const uint B_PER = BN * BK / LOCAL;
vec4 stA[A_PER / 4];
vec4 stB[B_PER / 4];
uint baseA, baseB;

// aRun is the tile coordinates (row, k) of the first element of run v of
// this invocation in the A tile; the run goes along k, or along the rows
// when A is stored transposed. bRun is the same for B (column, k), whose
// runs go along the columns unless B is stored transposed.
uvec2 aRun(uint v) {
	uint id = gl_LocalInvocationID.x + v * LOCAL;
	return TRANS_A == 1 ? uvec2((id % (BM / 4)) * 4, id / (BM / 4)) : uvec2(id / (BK / 4), (id % (BK / 4)) * 4);
}

uvec2 bRun(uint v) {
	uint id = gl_LocalInvocationID.x + v * LOCAL;
	return TRANS_B == 1 ? uvec2(id / (BK / 4), (id % (BK / 4)) * 4) : uvec2((id % (BN / 4)) * 4, id / (BN / 4));
}

void fetchTiles(uint m0, uint n0, uint k0, uint kEnd) {
	bool vecA = (p.flags & 2u) != 0u;
	bool vecB = (p.flags & 4u) != 0u;
	[[unroll]] for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		uint gm = m0 + t.x, gk = k0 + t.y;
		uint i = baseA + (TRANS_A == 1 ? gk * p.M + gm : gm * p.K + gk);
		// the run's extent along the contiguous axis, and the other axis
		uint along = TRANS_A == 1 ? gm : gk, end = TRANS_A == 1 ? p.M : kEnd;
		bool across = TRANS_A == 1 ? gk < kEnd : gm < p.M;
		if (vecA) {
			stA[v] = across && along < end ? a4[i / 4] : vec4(0.0);
		} else {
			[[unroll]] for (uint e = 0; e < 4; e++) {
				stA[v][e] = across && along + e < end ? a[i + e] : 0.0;
			}
		}
	}
	[[unroll]] for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		uint gn = n0 + t.x, gk = k0 + t.y;
		uint i = baseB + (TRANS_B == 1 ? gn * p.K + gk : gk * p.N + gn);
		uint along = TRANS_B == 1 ? gk : gn, end = TRANS_B == 1 ? kEnd : p.N;
		bool across = TRANS_B == 1 ? gn < p.N : gk < kEnd;
		if (vecB) {
			stB[v] = across && along < end ? b4[i / 4] : vec4(0.0);
		} else {
			[[unroll]] for (uint e = 0; e < 4; e++) {
				stB[v][e] = across && along + e < end ? b[i + e] : 0.0;
			}
		}
	}
}

void storeTiles(uint buf) {
	[[unroll]] for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		if (TRANS_A == 0) {
			// four consecutive k of one row: two aligned pairs
			putA2(buf, t.x, t.y, stA[v].xy);
			putA2(buf, t.x, t.y + 2, stA[v].zw);
		} else {
			[[unroll]] for (uint e = 0; e < 4; e++) {
				putA(buf, t.x + e, t.y, stA[v][e]);
			}
		}
	}
	[[unroll]] for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		if (TRANS_B == 1) {
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

// sumRows writes (or adds) the row sums of op(A) of rows [m0, m0 + BM).
void sumRows(uint m0) {
	for (uint r = gl_LocalInvocationID.x; r < BM && m0 + r < p.M; r += LOCAL) {
		uint gm = m0 + r;
		precise float sum = 0.0, comp = 0.0;
		for (uint k = 0; k < p.K; k++) {
			precise float y = a[p.offA + (TRANS_A == 1 ? k * p.M + gm : gm * p.K + k)] - comp;
			precise float u = sum + y;
			comp = isinf(u) ? 0.0 : (u - sum) - y; // no ∞ − ∞ in the compensation
			sum = u;
		}
		uint i = p.offRowSums + gm;
		rowSums[i] = (p.flags & 16u) != 0u ? rowSums[i] + (sum - comp) : sum - comp;
	}
}

void main() {
	uint zs = p.batch * p.splits;
	for (uint m0 = gl_WorkGroupID.y * BM; m0 < p.M; m0 += gl_NumWorkGroups.y * BM) {
		uint n0 = gl_WorkGroupID.x * BN;
		for (uint z = gl_WorkGroupID.z; z < zs; z += gl_NumWorkGroups.z) {
			uint s = z % p.splits;
			uint bz = z / p.splits;
			baseA = p.offA + bz * p.strideA;
			baseB = p.offB + bz * p.strideB;
			uint kBegin = s * p.kChunk;
			gemmTile(m0, n0, kBegin, min(p.K, kBegin + p.kChunk));
			if ((p.flags & 8u) != 0u && gl_WorkGroupID.x == 0u && z == 0u) {
				sumRows(m0);
			}
			[[unroll]] for (uint i = 0; i < TM; i++) {
				uint gm = m0 + gemmRow(i);
				[[unroll]] for (uint j = 0; j < TN; j++) {
					uint gn = n0 + gemmCol(j);
					if (gm < p.M && gn < p.N) {
						float v = acc[i * TN + j];
						if (SPLIT == 1) {
							c[p.offC + ((s * p.batch + bz) * p.M + gm) * p.N + gn] = v;
						} else {
							uint ci = p.offC + bz * p.strideC + gm * p.N + gn;
							c[ci] = epilogue(v, BETA == 1 ? c[ci] : 0.0, gn);
						}
					}
				}
			}
			// The activation reads back what this invocation just wrote, in
			// a loop that is not unrolled: one copy of its code rather than
			// TM·TN, for the price of a cached read and write per output.
			if (SPLIT == 0 && activationOf(p.flags) != 0u) {
				[[dont_unroll]] for (uint q = 0; q < TM * TN; q++) {
					uint gm = m0 + gemmRow(q / TN), gn = n0 + gemmCol(q % TN);
					if (gm < p.M && gn < p.N) {
						uint ci = p.offC + bz * p.strideC + gm * p.N + gn;
						c[ci] = activation(activationOf(p.flags) - 1u, c[ci]);
					}
				}
			}
		}
	}
}
