#version 450
#extension GL_GOOGLE_include_directive : require
// binary: dst = op(a, b) over strided views (broadcast by zero strides);
// op is specialization constant 0 (tensor.BinaryOp).
layout(local_size_x_id = 2) in; // the workgroup size (gpu.Tuning.Elem)
layout(constant_id = 2) const uint LOCAL = 256;
layout(constant_id = 0) const uint OP = 0;
layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer A1 { float as_[]; };
layout(std430, set = 0, binding = 2) readonly buffer B2 { float bs[]; };
#include "strided.glsl"
#include "minmax.glsl"

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_DIV 3
#define OP_MAX 4
#define OP_MIN 5
#define OP_GREATER 6
#define OP_EQUAL 7

float f(float x, float y) {
	switch (OP) {
	case OP_ADD: return x + y;
	case OP_SUB: return x - y;
	case OP_MUL: return x * y;
	case OP_DIV: return x / y;
	case OP_MAX: return maxNaN(x, y);
	case OP_MIN: return minNaN(x, y);
	case OP_GREATER: return x > y ? 1.0 : 0.0;
	case OP_EQUAL: return x == y ? 1.0 : 0.0;
	}
	return uintBitsToFloat(0x7fc00000u);
}

void main() {
	GRID_STRIDE_LOOP(i) {
		uvec4 c = coords(i);
		dst[at(0, c)] = f(as_[at(1, c)], bs[at(2, c)]);
	}
}
