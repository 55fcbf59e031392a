#version 450
#extension GL_GOOGLE_include_directive : require
// fill: dst = alpha at every element of a strided view.
layout(local_size_x_id = 2) in; // the workgroup size (gpu.Tuning.Elem)
layout(constant_id = 2) const uint LOCAL = 256;
layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
#include "strided.glsl"

void main() {
	GRID_STRIDE_LOOP(i) {
		dst[at(0, coords(i))] = p.alpha;
	}
}
