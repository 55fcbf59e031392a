#version 450
#extension GL_GOOGLE_include_directive : require
// muladd: dst = a·(b + alpha) + c over strided views (broadcast by zero
// strides), each operation rounded to float32 (precise: no fused
// multiply-add), as the separate add, multiply and add would give.
layout(local_size_x_id = 2) in; // the workgroup size (gpu.Tuning.Elem)
layout(constant_id = 2) const uint LOCAL = 256;
layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer A1 { float as_[]; };
layout(std430, set = 0, binding = 2) readonly buffer B2 { float bs[]; };
layout(std430, set = 0, binding = 3) readonly buffer C3 { float cs[]; };
#include "strided.glsl"

void main() {
	GRID_STRIDE_LOOP(i) {
		uvec4 c = coords(i);
		precise float s = bs[at(2, c)] + p.alpha;
		precise float m = as_[at(1, c)] * s;
		precise float v = m + cs[at(3, c)];
		dst[at(0, c)] = v;
	}
}
