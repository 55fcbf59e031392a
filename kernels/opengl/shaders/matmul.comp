#version 430 core
// Generated from kernels/vulkan/shaders/matmul.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 128u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 128u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 8u
#endif
#ifndef SARGO_SPEC_3
#define SARGO_SPEC_3 8u
#endif
#ifndef SARGO_SPEC_4
#define SARGO_SPEC_4 8u
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
const uint SPLIT = SARGO_SPEC_9;

layout(std430, binding = 0) readonly buffer A0 { float a[]; };
layout(std430, binding = 1) readonly buffer B1 { float b[]; };
// The same buffers seen as vec4 (descriptor aliasing), for vec4 loads.
layout(std430, binding = 0) readonly buffer A0v { vec4 a4[]; };
layout(std430, binding = 1) readonly buffer B1v { vec4 b4[]; };
layout(std430, binding = 2) buffer C2 { float c[]; };
layout(std430, binding = 3) readonly buffer Bias3 { float bias[]; };
layout(std430, binding = 4) buffer RowSums4 { float rowSums[]; };

layout(std140, binding = 0) uniform Push {
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
// #include "matmul_epilogue.glsl", inlined:
// Shared by matmul.comp and matmul_splitk.comp: the epilogue
// alpha·sum + beta·c + bias[n] and the activation applied to it, with the
// specialization constant BETA, the push constants alpha, beta, offBias and
// flags (bit 0: add the bias; bits 8 and up: 0 for no activation, else 1 +
// its tensor.UnaryOp; uniform branches) and the bias binding of both
// shaders.
// #include "unary_math.glsl", inlined:
// Shared by unary.comp and unary_backward.comp: the unary operations of
// tensor.UnaryOp (the constant values must match its order) and helpers
// with the CPU backend's semantics.

// #include "minmax.glsl", inlined:
// NaN-propagating maximum and minimum, as Go's max and min for floats and
// the CPU backend: NaN when either operand is NaN (GLSL's max and min are
// undefined for NaN, and NVIDIA and AMD return the other operand), and +0
// above -0.

float maxNaN(float x, float y) {
	if (isnan(x) || isnan(y)) {
		return uintBitsToFloat(0x7fc00000u);
	}
	if (x == y) {
		return uintBitsToFloat(floatBitsToUint(x) & floatBitsToUint(y)); // max(-0, +0) = +0
	}
	return x > y ? x : y;
}

float minNaN(float x, float y) {
	if (isnan(x) || isnan(y)) {
		return uintBitsToFloat(0x7fc00000u);
	}
	if (x == y) {
		return uintBitsToFloat(floatBitsToUint(x) | floatBitsToUint(y)); // min(-0, +0) = -0
	}
	return x < y ? x : y;
}

#define OP_NEG 0
#define OP_EXP 1
#define OP_LOG 2
#define OP_SQRT 3
#define OP_RSQRT 4
#define OP_ABS 5
#define OP_TANH 6
#define OP_SIGMOID 7
#define OP_RELU 8
#define OP_SILU 9
#define OP_GELU_TANH 10
#define OP_GELU_ERF 11
#define OP_POW 12
#define OP_CLAMP 13
#define OP_AFFINE 14
#define OP_SQUARE 15
#define OP_RECIP 16
#define OP_SIGN 17
#define OP_EXP_CLAMP 18

const float GELU_K = 0.7978845608028654; // sqrt(2/pi)
const float GELU_C = 0.044715;
const float INV_SQRT2 = 0.7071067811865476;
const float INV_SQRT_2PI = 0.3989422804014327;

// stanh is tanh that saturates instead of overflowing, and keeps NaN
// (a compiler may treat a comparison with NaN as unordered-true).
float stanh(float x) {
	if (isnan(x)) {
		return x;
	}
	return abs(x) > 15.0 ? sign(x) : tanh(x);
}

// sigmoid is the numerically stable logistic function.
float sigmoid(float x) {
	if (x >= 0.0) {
		return 1.0 / (1.0 + exp(-x));
	}
	float e = exp(x);
	return e / (1.0 + e);
}

// erf: for |x| < 0.75 the odd rational approximation used by Eigen and XLA
// for float32 (degree 13/8 in x); beyond, 1 - erfc(|x|) with the
// Chebyshev-fitted erfc of Numerical Recipes (erfcc, fractional error
// below 1.2e-7). Measured in float32 arithmetic against float64 math.Erf:
// absolute error below 1.7e-7 everywhere (about 3 ulp near 0.7).
float erf_approx(float x) {
	float a = abs(x);
	if (a < 0.75) {
		float x2 = x * x;
		float p = fma(x2, -2.72614225801306e-10, 2.77068142495902e-08);
		p = fma(x2, p, -2.10102402082508e-06);
		p = fma(x2, p, -5.69250639462346e-05);
		p = fma(x2, p, -7.34990630326855e-04);
		p = fma(x2, p, -2.95459980854025e-03);
		p = fma(x2, p, -1.60960333262415e-02);
		float q = fma(x2, -1.45660718464996e-05, -2.13374055278905e-04);
		q = fma(x2, q, -1.68282697438203e-03);
		q = fma(x2, q, -7.37332916720468e-03);
		q = fma(x2, q, -1.42647390514189e-02);
		return x * p / q;
	}
	float t = 1.0 / (1.0 + 0.5 * a);
	float poly = -1.26551223 +
		t * (1.00002368 +
		t * (0.37409196 +
		t * (0.09678418 +
		t * (-0.18628806 +
		t * (0.27886807 +
		t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
	float r = 1.0 - t * exp(-a * a + poly);
	return x < 0.0 ? -r : r;
}

// logf is log that keeps subnormal inputs: a driver may flush them to
// zero (Vulkan allows it), so they are scaled by 2^24 first.
float logf(float x) {
	if (x > 0.0 && x < 1.17549435e-38) {
		return log(x * 16777216.0) - 16.635532333438687; // 24 ln 2
	}
	return log(x);
}

// powf is math.Pow for float32: negative bases give real results for
// integer exponents and NaN otherwise; NaN and infinite operands follow
// math.Pow too.
float powf(float x, float y) {
	float inf = uintBitsToFloat(0x7f800000u);
	if (y == 0.0 || x == 1.0) {
		return 1.0;
	}
	if (isnan(x) || isnan(y)) {
		return uintBitsToFloat(0x7fc00000u);
	}
	bool oddInt = fract(y) == 0.0 && abs(mod(y, 2.0)) == 1.0;
	if (isinf(x)) {
		if (x > 0.0) {
			return y > 0.0 ? inf : 0.0;
		}
		// math.Pow(-Inf, y) = math.Pow(-0, -y)
		float r = y > 0.0 ? inf : 0.0;
		return oddInt ? -r : r;
	}
	if (x == 0.0) {
		if (y > 0.0) {
			return oddInt ? x : 0.0;
		}
		return oddInt && (floatBitsToUint(x) >> 31) != 0u ? -inf : inf;
	}
	float r = exp2(y * log2(abs(x)));
	if (x < 0.0) {
		if (fract(y) != 0.0) {
			return uintBitsToFloat(0x7fc00000u); // NaN
		}
		if (oddInt) {
			r = -r;
		}
	}
	return r;
}

// activation is the activation op (OP_RELU, OP_SILU, OP_GELU_TANH or
// OP_GELU_ERF) of x: the ops a fused epilogue may apply.
float activation(uint op, float x) {
	switch (op) {
	case OP_RELU: return x > 0.0 ? x : 0.0;
	case OP_SILU: return x * sigmoid(x);
	case OP_GELU_TANH: return 0.5 * x * (1.0 + stanh(GELU_K * (x + GELU_C * x * x * x)));
	case OP_GELU_ERF: return 0.5 * x * (1.0 + erf_approx(x * INV_SQRT2));
	}
	return x;
}

// unaryOp is tensor.UnaryOp op of x with its parameters a (Alpha) and b
// (Beta).
float unaryOp(uint op, float x, float a, float b) {
	switch (op) {
	case OP_NEG: return -x;
	case OP_EXP: return exp(x);
	case OP_LOG: return logf(x);
	case OP_SQRT: return sqrt(x);
	case OP_RSQRT: return 1.0 / sqrt(x);
	case OP_ABS: return abs(x);
	case OP_TANH: return stanh(x);
	case OP_SIGMOID: return sigmoid(x);
	case OP_RELU:
	case OP_SILU:
	case OP_GELU_TANH:
	case OP_GELU_ERF: return activation(op, x);
	case OP_POW: return powf(x, a);
	case OP_CLAMP: return minNaN(maxNaN(x, a), b);
	case OP_AFFINE: return a * x + b;
	case OP_SQUARE: return x * x;
	case OP_RECIP: return 1.0 / x;
	case OP_SIGN: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
	case OP_EXP_CLAMP: return exp(minNaN(maxNaN(x, a), b));
	}
	return uintBitsToFloat(0x7fc00000u);
}

// activationOf is the activation field of the flags.
uint activationOf(uint flags) { return flags >> 8; }

// epilogue is alpha·sum + beta·cOld + bias[n], before the activation.
float epilogue(float sum, float cOld, uint n) {
	float v = p.alpha * sum;
	if (BETA == 1) {
		v = fma(p.beta, cOld, v);
	}
	if ((p.flags & 1u) != 0u) {
		v += bias[p.offBias + n];
	}
	return v;
}

// Per invocation and step, A_PER values of the A tile and B_PER of the B
// tile travel through registers, as runs of four consecutive elements
// along the operand's contiguous axis: one vec4 load when the flags allow,
// else four scalar loads with their own bounds checks. Consecutive
// invocations take consecutive runs.
const uint A_PER = BM * BK / LOCAL;
const uint B_PER = BN * BK / LOCAL;
vec4 stA[A_PER / 4];
vec4 stB[B_PER / 4];
uint baseA = uint(0), baseB = uint(0);

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
	for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		uint gm = m0 + t.x, gk = k0 + t.y;
		uint i = baseA + (TRANS_A == 1 ? gk * p.M + gm : gm * p.K + gk);
		// the run's extent along the contiguous axis, and the other axis
		uint along = TRANS_A == 1 ? gm : gk, end = TRANS_A == 1 ? p.M : kEnd;
		bool across = TRANS_A == 1 ? gk < kEnd : gm < p.M;
		if (vecA) {
			stA[v] = across && along < end ? a4[i / 4] : vec4(0.0);
		} else {
			for (uint e = 0; e < 4; e++) {
				stA[v][e] = across && along + e < end ? a[i + e] : 0.0;
			}
		}
	}
	for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		uint gn = n0 + t.x, gk = k0 + t.y;
		uint i = baseB + (TRANS_B == 1 ? gn * p.K + gk : gk * p.N + gn);
		uint along = TRANS_B == 1 ? gk : gn, end = TRANS_B == 1 ? kEnd : p.N;
		bool across = TRANS_B == 1 ? gn < p.N : gk < kEnd;
		if (vecB) {
			stB[v] = across && along < end ? b4[i / 4] : vec4(0.0);
		} else {
			for (uint e = 0; e < 4; e++) {
				stB[v][e] = across && along + e < end ? b[i + e] : 0.0;
			}
		}
	}
}

void storeTiles(uint buf) {
	for (uint v = 0; v < A_PER / 4; v++) {
		uvec2 t = aRun(v);
		if (TRANS_A == 0) {
			// four consecutive k of one row: two aligned pairs
			putA2(buf, t.x, t.y, stA[v].xy);
			putA2(buf, t.x, t.y + 2, stA[v].zw);
		} else {
			for (uint e = 0; e < 4; e++) {
				putA(buf, t.x + e, t.y, stA[v][e]);
			}
		}
	}
	for (uint v = 0; v < B_PER / 4; v++) {
		uvec2 t = bRun(v);
		if (TRANS_B == 1) {
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
			for (uint i = 0; i < TM; i++) {
				uint gm = m0 + gemmRow(i);
				for (uint j = 0; j < TN; j++) {
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
				for (uint q = 0; q < TM * TN; q++) {
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
