#version 450
#extension GL_GOOGLE_include_directive : require
// unary_backward: dx = gy * op'(x) over strided views; op is
// specialization constant 0 (tensor.UnaryOp).
layout(local_size_x_id = 2) in; // the workgroup size (gpu.Tuning.Elem)
layout(constant_id = 2) const uint LOCAL = 256;
layout(constant_id = 0) const uint OP = 0;
layout(std430, set = 0, binding = 0) writeonly buffer Dx0 { float dx[]; };
layout(std430, set = 0, binding = 1) readonly buffer X1 { float xs[]; };
layout(std430, set = 0, binding = 2) readonly buffer Gy2 { float gy[]; };
#include "strided.glsl"
#include "unary_math.glsl"

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
