#version 430 core
// Generated from kernels/vulkan/shaders/unary_backward.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 0u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 0u
#endif
#ifndef SARGO_SPEC_2
#define SARGO_SPEC_2 256u
#endif
// unary_backward: dx = gy * op'(x) over strided views; op is
// specialization constant 0 (tensor.UnaryOp).
layout(local_size_x = SARGO_SPEC_2) in; // the workgroup size (gpu.Tuning.Elem)
const uint LOCAL = SARGO_SPEC_2;
const uint OP = SARGO_SPEC_0;
layout(std430, binding = 0) writeonly buffer Dx0 { float dx[]; };
layout(std430, binding = 1) readonly buffer X1 { float xs[]; };
layout(std430, binding = 2) readonly buffer Gy2 { float gy[]; };
// #include "strided.glsl", inlined:
// Shared by the elementwise shaders (copy, fill, unary, unary_backward,
// binary, where): the push constants of a strided elementwise op over up
// to four operands of a rank-4 (collapsed) view, and the index arithmetic.

layout(std140, binding = 0) uniform Push {
	uint off[4];     // element offset of each operand, output first
	uint n;          // number of elements
	uint shape[4];   // collapsed shape, outermost first, padded with leading 1s
	uint stride[16]; // stride[4*k + d]: operand k, axis d
	float alpha;
	float beta;
} p;

// FLAT (specialization constant 1) is 1 when the view collapsed to one
// axis (every operand contiguous, or a broadcast scalar): coords and at
// then take no division or remainder per element.
const uint FLAT = SARGO_SPEC_1;

// coords splits the linear index i into the four axis indices.
uvec4 coords(uint i) {
	if (FLAT == 1) {
		return uvec4(0, 0, 0, i);
	}
	uvec4 c;
	c.w = i % p.shape[3];
	i /= p.shape[3];
	c.z = i % p.shape[2];
	i /= p.shape[2];
	c.y = i % p.shape[1];
	c.x = i / p.shape[1];
	return c;
}

// at is the element index of operand k at coordinates c.
uint at(uint k, uvec4 c) {
	if (FLAT == 1) {
		return p.off[k] + c.w * p.stride[4 * k + 3];
	}
	return p.off[k] + c.x * p.stride[4 * k] + c.y * p.stride[4 * k + 1] + c.z * p.stride[4 * k + 2] +
		c.w * p.stride[4 * k + 3];
}

#define GRID_STRIDE_LOOP(i) \
	for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
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

// df is op'(x) times g.
float df(float x, float g) {
	float a = p.alpha;
	switch (OP) {
	case OP_NEG: return -g;
	case OP_EXP: return g * exp(x);
	case OP_LOG: return g / x;
	case OP_SQRT: return g * (0.5 / sqrt(x));
	case OP_RSQRT: return g * (-0.5 / (x * sqrt(x)));
	case OP_ABS: return g * (x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0));
	case OP_TANH: {
		float t = stanh(x);
		return g * (1.0 - t * t);
	}
	case OP_SIGMOID: {
		float s = sigmoid(x);
		return g * (s * (1.0 - s));
	}
	case OP_RELU: return x > 0.0 ? g : 0.0;
	case OP_SILU: {
		float s = sigmoid(x);
		return g * (s * (1.0 + x * (1.0 - s)));
	}
	case OP_GELU_TANH: {
		if (abs(x) > 10.0) {
			// saturated, ±∞ included (the limits 1 and 0, as on the
			// CPU): x·(1−t²) would be ∞·0
			return x > 0.0 ? g : 0.0 * g;
		}
		float t = stanh(GELU_K * (x + GELU_C * x * x * x));
		return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_K * (1.0 + 3.0 * GELU_C * x * x));
	}
	case OP_GELU_ERF:
		return g * (0.5 * (1.0 + erf_approx(x * INV_SQRT2)) + x * exp(-0.5 * x * x) * INV_SQRT_2PI);
	case OP_POW: return g * (a * powf(x, a - 1.0));
	case OP_CLAMP: return (a <= x && x <= p.beta) ? g : 0.0;
	case OP_AFFINE: return a * g;
	case OP_SQUARE: return 2.0 * x * g;
	case OP_RECIP: return g * (-1.0 / (x * x));
	case OP_SIGN: return 0.0;
	case OP_EXP_CLAMP: return (a <= x && x <= p.beta) ? g * exp(x) : 0.0;
	}
	return uintBitsToFloat(0x7fc00000u);
}

void main() {
	GRID_STRIDE_LOOP(i) {
		uvec4 c = coords(i);
		dx[at(0, c)] = df(xs[at(1, c)], gy[at(2, c)]);
	}
}
