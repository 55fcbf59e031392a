#version 450
#extension GL_GOOGLE_include_directive : require
// unary: dst = op(src; alpha, beta) over strided views; op is
// specialization constant 0 (tensor.UnaryOp).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint OP = 0;
layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float src[]; };
#include "strided.glsl"
#include "unary_math.glsl"
#include "minmax.glsl"

float f(float x) {
	float a = p.alpha;
	switch (OP) {
	case OP_NEG: return -x;
	case OP_EXP: return exp(x);
	case OP_LOG: return logf(x);
	case OP_SQRT: return sqrt(x);
	case OP_RSQRT: return 1.0 / sqrt(x);
	case OP_ABS: return abs(x);
	case OP_TANH: return stanh(x);
	case OP_SIGMOID: return sigmoid(x);
	case OP_RELU: return x > 0.0 ? x : 0.0;
	case OP_SILU: return x * sigmoid(x);
	case OP_GELU_TANH: return 0.5 * x * (1.0 + stanh(GELU_K * (x + GELU_C * x * x * x)));
	case OP_GELU_ERF: return 0.5 * x * (1.0 + erf_approx(x * INV_SQRT2));
	case OP_POW: return powf(x, a);
	case OP_CLAMP: return minNaN(maxNaN(x, a), p.beta);
	case OP_AFFINE: return a * x + p.beta;
	case OP_SQUARE: return x * x;
	case OP_RECIP: return 1.0 / x;
	case OP_SIGN: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
	}
	return uintBitsToFloat(0x7fc00000u);
}

void main() {
	GRID_STRIDE_LOOP(i) {
		uvec4 c = coords(i);
		dst[at(0, c)] = f(src[at(1, c)]);
	}
}
