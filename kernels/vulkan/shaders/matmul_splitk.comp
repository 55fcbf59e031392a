#version 450
#extension GL_GOOGLE_include_directive : require
// matmul_splitk: the second pass of a split-K matmul (matmul.comp with
// SPLIT = 1). Each invocation adds the splits partial sums of one output
// element in split order, so the result is the same on every run, and
// applies the epilogue: C[b][m][n] = act(alpha·sum + beta·C + bias[n]).
// Partial s of element (b, m, n) is at ((s·batch + b)·M + m)·N + n.
// Specialization constants: 0 LOCAL, 1 BETA (as matmul.comp).
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint LOCAL = 256;
layout(constant_id = 1) const uint BETA = 0;

layout(std430, set = 0, binding = 0) readonly buffer Part0 { float part[]; };
layout(std430, set = 0, binding = 1) buffer C1 { float c[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias2 { float bias[]; };

layout(push_constant) uniform Push {
	uint offC;
	uint offBias;
	uint M;
	uint N;
	uint strideC;
	uint batch;
	uint splits;
	float alpha;
	float beta;
	uint flags; // bit 0 bias, bits 8.. activation
} p;

#include "matmul_epilogue.glsl"

void main() {
	uint mn = p.M * p.N;
	uint total = p.batch * mn;
	for (uint i = gl_GlobalInvocationID.x; i < total; i += gl_NumWorkGroups.x * LOCAL) {
		float s = 0.0;
		for (uint k = 0; k < p.splits; k++) {
			s += part[k * total + i];
		}
		uint bz = i / mn;
		uint r = i - bz * mn;
		uint ci = p.offC + bz * p.strideC + r;
		float v = epilogue(s, BETA == 1 ? c[ci] : 0.0, r % p.N);
		uint act = activationOf(p.flags);
		c[ci] = act != 0u ? activation(act - 1u, v) : v;
	}
}
