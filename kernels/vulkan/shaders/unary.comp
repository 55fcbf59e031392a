#version 450
#extension GL_GOOGLE_include_directive : require
// unary: dst = op(src; alpha, beta) over strided views; op is
// specialization constant 0 (tensor.UnaryOp).
layout(local_size_x_id = 2) in; // the workgroup size (gpu.Tuning.Elem)
layout(constant_id = 2) const uint LOCAL = 256;
layout(constant_id = 0) const uint OP = 0;
layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float src[]; };
#include "strided.glsl"
#include "unary_math.glsl"

void main() {
	GRID_STRIDE_LOOP(i) {
		uvec4 c = coords(i);
		dst[at(0, c)] = unaryOp(OP, src[at(1, c)], p.alpha, p.beta);
	}
}
