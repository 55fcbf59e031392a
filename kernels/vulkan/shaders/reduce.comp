#version 450
// reduce: dst[o, i] = op over j of src[o, j, i] for src viewed as
// [outer, n, inner]. Specialization constants: 0 OP (tensor.ReduceOp),
// 1 ROWS (1: inner == 1, one workgroup per row with a shared-memory tree;
// 0: one invocation per output walking its column), 2 LOCAL (workgroup size).
// Sums use Kahan compensation. Max and Min propagate NaN (the first NaN
// wins); Argmax gives the first index of the maximum, a NaN counting as
// the maximum; n == 0 gives 0 for Sum and NaN otherwise.
layout(local_size_x_id = 2) in;
layout(constant_id = 0) const uint OP = 0;
layout(constant_id = 1) const uint ROWS = 0;
layout(constant_id = 2) const uint LOCAL = 256;

layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float src[]; };

layout(push_constant) uniform Push {
	uint offDst;
	uint offSrc;
	uint outer;
	uint n;
	uint inner;
} p;

#define OP_SUM 0
#define OP_MAX 1
#define OP_MIN 2
#define OP_ARGMAX 3
#define NONE 0xffffffffu

shared float sVal[LOCAL];
shared float sComp[LOCAL]; // Kahan compensation of the sums
shared uint sIdx[LOCAL];   // index of the best element, NONE before the first

bool isnan_(float x) { return isnan(x); }

// better reports whether candidate (x, ix) replaces the current best
// (m, im) under the first-NaN, first-extremum rules.
bool better(float x, uint ix, float m, uint im) {
	if (isnan_(m)) {
		return isnan_(x) && ix < im;
	}
	if (isnan_(x)) {
		return true;
	}
	if (x == m) {
		return ix < im;
	}
	return OP == OP_MIN ? x < m : x > m;
}

float result(float v, uint ix) {
	return OP == OP_ARGMAX ? float(ix) : v;
}

float nan_() { return uintBitsToFloat(0x7fc00000u); }

void columns() {
	uint total = p.outer * p.inner;
	for (uint t = gl_GlobalInvocationID.x; t < total; t += gl_NumWorkGroups.x * LOCAL) {
		uint o = t / p.inner;
		uint i = t - o * p.inner;
		uint base = p.offSrc + o * p.n * p.inner + i;
		if (OP == OP_SUM) {
			precise float s = 0.0, c = 0.0;
			for (uint j = 0; j < p.n; j++) {
				precise float y = src[base + j * p.inner] - c;
				precise float u = s + y;
				c = isinf(u) ? 0.0 : (u - s) - y; // no ∞ − ∞ in the compensation
				s = u;
			}
			dst[p.offDst + t] = s;
		} else if (p.n == 0) {
			dst[p.offDst + t] = nan_();
		} else {
			float m = src[base];
			uint im = 0;
			for (uint j = 1; j < p.n && !isnan_(m); j++) {
				float x = src[base + j * p.inner];
				if (better(x, j, m, im)) {
					m = x;
					im = j;
				}
			}
			dst[p.offDst + t] = result(m, im);
		}
	}
}

void rows() {
	uint tid = gl_LocalInvocationID.x;
	for (uint o = gl_WorkGroupID.x; o < p.outer; o += gl_NumWorkGroups.x) {
		uint base = p.offSrc + o * p.n;
		if (OP == OP_SUM) {
			precise float s = 0.0, c = 0.0;
			for (uint j = tid; j < p.n; j += LOCAL) {
				precise float y = src[base + j] - c;
				precise float u = s + y;
				c = isinf(u) ? 0.0 : (u - s) - y; // no ∞ − ∞ in the compensation
				s = u;
			}
			sVal[tid] = s;
			sComp[tid] = c;
		} else {
			float m = nan_();
			uint im = NONE; // no element yet
			for (uint j = tid; j < p.n; j += LOCAL) {
				float x = src[base + j];
				if (im == NONE || better(x, j, m, im)) {
					m = x;
					im = j;
				}
			}
			sVal[tid] = m;
			sIdx[tid] = im;
		}
		barrier();
		for (uint w = LOCAL / 2; w > 0; w >>= 1) {
			if (tid < w) {
				if (OP == OP_SUM) {
					sVal[tid] = sVal[tid] + sVal[tid + w];
					sComp[tid] = sComp[tid] + sComp[tid + w];
				} else {
					uint ia = sIdx[tid];
					uint ib = sIdx[tid + w];
					if (ib != NONE && (ia == NONE || better(sVal[tid + w], ib, sVal[tid], ia))) {
						sVal[tid] = sVal[tid + w];
						sIdx[tid] = ib;
					}
				}
			}
			barrier();
		}
		if (tid == 0) {
			if (OP == OP_SUM) {
				dst[p.offDst + o] = sVal[0] - sComp[0];
			} else {
				uint im = sIdx[0];
				dst[p.offDst + o] = im == NONE ? nan_() : result(sVal[0], im);
			}
		}
		barrier();
	}
}

void main() {
	if (ROWS == 1) {
		rows();
	} else {
		columns();
	}
}
