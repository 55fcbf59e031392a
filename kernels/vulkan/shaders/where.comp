#version 450
#extension GL_GOOGLE_include_directive : require
// where: dst = cond != 0 ? a : b over strided views.
layout(local_size_x_id = 2) in; // the workgroup size (gpu.Tuning.Elem)
layout(constant_id = 2) const uint LOCAL = 256;
layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Cond1 { float cond[]; };
layout(std430, set = 0, binding = 2) readonly buffer A2 { float as_[]; };
layout(std430, set = 0, binding = 3) readonly buffer B3 { float bs[]; };
#include "strided.glsl"

void main() {
	GRID_STRIDE_LOOP(i) {
		uvec4 c = coords(i);
		dst[at(0, c)] = cond[at(1, c)] != 0.0 ? as_[at(2, c)] : bs[at(3, c)];
	}
}
