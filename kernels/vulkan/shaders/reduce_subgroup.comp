#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// reduce_subgroup: the row sums of reduce.comp (inner == 1) with subgroup
// arithmetic instead of a shared-memory tree, for devices whose compute
// stage supports it. One workgroup per row; each invocation keeps a
// Kahan-compensated partial sum, subgroupAdd folds the subgroups, and the
// first subgroup folds the subgroup totals. Specialization constant 0 is
// LOCAL, the workgroup size.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint LOCAL = 256;

layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float src[]; };

layout(push_constant) uniform Push {
	uint offDst;
	uint offSrc;
	uint outer;
	uint n;
	uint inner;
} p;

shared float partial[LOCAL]; // one per subgroup

void main() {
	uint tid = gl_LocalInvocationID.x;
	for (uint o = gl_WorkGroupID.x; o < p.outer; o += gl_NumWorkGroups.x) {
		uint base = p.offSrc + o * p.n;
		precise float s = 0.0, c = 0.0;
		for (uint j = tid; j < p.n; j += LOCAL) {
			precise float y = src[base + j] - c;
			precise float u = s + y;
			c = isinf(u) ? 0.0 : (u - s) - y; // no ∞ − ∞ in the compensation
			s = u;
		}
		float v = subgroupAdd(s - c);
		if (subgroupElect()) {
			partial[gl_SubgroupID] = v;
		}
		barrier();
		if (gl_SubgroupID == 0) {
			float w = 0.0;
			for (uint i = gl_SubgroupInvocationID; i < gl_NumSubgroups; i += gl_SubgroupSize) {
				w += partial[i];
			}
			w = subgroupAdd(w);
			if (subgroupElect()) {
				dst[p.offDst + o] = w;
			}
		}
		barrier();
	}
}
