#version 450
#extension GL_GOOGLE_include_directive : require
// reduce: dst[o, i] = op over j of src[o, j, i] for src viewed as
// [outer, n, inner], op a tensor.ReduceOp. Sums are Kahan-compensated; Max
// and Min propagate NaN (the first NaN wins); Argmax gives the first index
// of the maximum, a NaN counting as the maximum; n == 0 gives 0 for Sum
// and NaN otherwise.
//
// The reduced axis is cut into a fixed number of chunks (p.splits, chosen
// by the Go side from the shape alone), so a long axis spreads over many
// workgroups and the result is the same on every run. MODE selects the
// pass:
//   0 rows (inner == 1): workgroup (o, s) reduces chunk s of row o, its
//     invocations striding over the chunk, then a shared-memory tree;
//   1 columns (inner > 1): workgroup (o, t, s) reduces chunk s of the 32
//     columns of tile t of outer slice o: 32 column lanes by ROWLANES row
//     lanes, so each row of the tile is one coalesced 128-byte read; the
//     row lanes fold in shared memory in a fixed order;
//   2 combine: one invocation per output folds the splits partial results
//     of passes 0 and 1 in chunk order;
//   3 serial (short axes, one chunk): one invocation per output walks its
//     n elements.
// With one chunk, passes 0 and 1 write dst; with more, they write the
// partial buffer: value of chunk s of output q at s·outer·inner + q, its
// index (non-sum ops) splits·outer·inner further on.
// Specialization constants: 0 OP, 1 MODE, 2 LOCAL (workgroup size, a power
// of two, 32·ROWLANES in columns mode).
layout(local_size_x_id = 2) in;
layout(constant_id = 0) const uint OP = 0;
layout(constant_id = 1) const uint MODE = 0;
layout(constant_id = 2) const uint LOCAL = 256;

layout(std430, set = 0, binding = 0) buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float src[]; };
layout(std430, set = 0, binding = 2) buffer Part2 { float part[]; };

layout(push_constant) uniform Push {
	uint offDst;
	uint offSrc;
	uint outer;
	uint n;
	uint inner;
	uint chunk;  // elements of the reduced axis per chunk
	uint splits; // chunks
} p;

#define OP_SUM 0
#define OP_MAX 1
#define OP_MIN 2
#define OP_ARGMAX 3
#define NONE 0xffffffffu
#define MODE_ROWS 0
#define MODE_COLUMNS 1
#define MODE_COMBINE 2
#define MODE_SERIAL 3

const uint TILE = 32;                // columns per tile in columns mode
const uint ROWLANES = LOCAL / TILE;  // row lanes per column in columns mode

shared float sVal[LOCAL];
shared float sAux[LOCAL]; // Kahan compensation of sums; index of the others, as uint bits

// better reports whether candidate (x, ix) replaces the current best
// (m, im) under the first-NaN, first-extremum rules; NONE is no element.
bool better(float x, uint ix, float m, uint im) {
	if (ix == NONE) {
		return false;
	}
	if (im == NONE) {
		return true;
	}
	if (isnan(m)) {
		return isnan(x) && ix < im;
	}
	if (isnan(x)) {
		return true;
	}
	if (x == m) {
		return ix < im;
	}
	return OP == OP_MIN ? x < m : x > m;
}

float nan_() { return uintBitsToFloat(0x7fc00000u); }

// State is one partial reduction: a Kahan sum (val, aux) or a best
// element (val, index in aux's bits).
struct State {
	float val;
	float aux;
};

State initial() { return OP == OP_SUM ? State(0.0, 0.0) : State(nan_(), uintBitsToFloat(NONE)); }

State add(State a, float x, uint ix) {
	if (OP == OP_SUM) {
		precise float y = x - a.aux;
		precise float u = a.val + y;
		precise float c = isinf(u) ? 0.0 : (u - a.val) - y; // no ∞ − ∞ in the compensation
		return State(u, c);
	}
	return better(x, ix, a.val, floatBitsToUint(a.aux)) ? State(x, uintBitsToFloat(ix)) : a;
}

// merge folds b (later elements) into a.
State merge(State a, State b) {
	if (OP == OP_SUM) {
		return State(a.val + b.val, a.aux + b.aux);
	}
	return add(a, b.val, floatBitsToUint(b.aux));
}

float result(State s) {
	if (OP == OP_SUM) {
		return s.val - s.aux;
	}
	uint ix = floatBitsToUint(s.aux);
	if (ix == NONE) {
		return nan_();
	}
	return OP == OP_ARGMAX ? float(ix) : s.val;
}

// emit writes the state of output q of chunk s: the final value with one
// chunk, else the partial (value, and index for the non-sum ops).
void emit(uint q, uint s, State st) {
	if (p.splits == 1) {
		dst[p.offDst + q] = result(st);
		return;
	}
	uint total = p.outer * p.inner;
	part[s * total + q] = OP == OP_SUM ? st.val - st.aux : st.val;
	if (OP != OP_SUM) {
		part[(p.splits + s) * total + q] = st.aux;
	}
}

void rows() {
	uint tid = gl_LocalInvocationID.x;
	for (uint w = gl_WorkGroupID.x; w < p.outer * p.splits; w += gl_NumWorkGroups.x) {
		uint o = w / p.splits, s = w % p.splits;
		uint j0 = s * p.chunk, j1 = min(p.n, j0 + p.chunk);
		uint base = p.offSrc + o * p.n;
		State st = initial();
		for (uint j = j0 + tid; j < j1; j += LOCAL) {
			st = add(st, src[base + j], j);
		}
		sVal[tid] = st.val;
		sAux[tid] = st.aux;
		barrier();
		for (uint h = LOCAL / 2; h > 0; h >>= 1) {
			if (tid < h) {
				State m = merge(State(sVal[tid], sAux[tid]), State(sVal[tid + h], sAux[tid + h]));
				sVal[tid] = m.val;
				sAux[tid] = m.aux;
			}
			barrier();
		}
		if (tid == 0) {
			emit(o, s, State(sVal[0], sAux[0]));
		}
		barrier();
	}
}

void columns() {
	uint lane = gl_LocalInvocationID.x % TILE;
	uint rl = gl_LocalInvocationID.x / TILE;
	uint tiles = (p.inner + TILE - 1) / TILE;
	for (uint w = gl_WorkGroupID.x; w < p.outer * tiles * p.splits; w += gl_NumWorkGroups.x) {
		uint s = w % p.splits;
		uint t = (w / p.splits) % tiles;
		uint o = w / (p.splits * tiles);
		uint i = t * TILE + lane;
		uint j0 = s * p.chunk, j1 = min(p.n, j0 + p.chunk);
		State st = initial();
		if (i < p.inner) {
			uint base = p.offSrc + o * p.n * p.inner + i;
			for (uint j = j0 + rl; j < j1; j += ROWLANES) {
				st = add(st, src[base + j * p.inner], j);
			}
		}
		sVal[gl_LocalInvocationID.x] = st.val;
		sAux[gl_LocalInvocationID.x] = st.aux;
		barrier();
		if (rl == 0 && i < p.inner) {
			// Row lane r holds rows r, r + ROWLANES, ...: fold them in lane
			// order (for the non-sum ops the indices keep "first" exact).
			for (uint r = 1; r < ROWLANES; r++) {
				st = merge(st, State(sVal[r * TILE + lane], sAux[r * TILE + lane]));
			}
			emit(o * p.inner + i, s, st);
		}
		barrier();
	}
}

void combine() {
	uint total = p.outer * p.inner;
	for (uint q = gl_GlobalInvocationID.x; q < total; q += gl_NumWorkGroups.x * LOCAL) {
		State st = initial();
		for (uint s = 0; s < p.splits; s++) {
			float v = part[s * total + q];
			st = add(st, v, OP == OP_SUM ? 0u : floatBitsToUint(part[(p.splits + s) * total + q]));
		}
		dst[p.offDst + q] = result(st);
	}
}

void serial() {
	uint total = p.outer * p.inner;
	for (uint q = gl_GlobalInvocationID.x; q < total; q += gl_NumWorkGroups.x * LOCAL) {
		uint o = q / p.inner;
		uint base = p.offSrc + o * p.n * p.inner + (q - o * p.inner);
		State st = initial();
		for (uint j = 0; j < p.n; j++) {
			st = add(st, src[base + j * p.inner], j);
		}
		dst[p.offDst + q] = result(st);
	}
}

void main() {
	if (MODE == MODE_ROWS) {
		rows();
	} else if (MODE == MODE_COLUMNS) {
		columns();
	} else if (MODE == MODE_COMBINE) {
		combine();
	} else {
		serial();
	}
}
