#version 450
#extension GL_GOOGLE_include_directive : require
// sum_multi: up to 4 sums of one geometry in one dispatch. Part k sums its
// terms, viewed as [outer, n, inner], over n into its destination [outer,
// inner]: dst[o, i] = Σ_j t[o, j, i], or, when the part's ADD flag is set,
// dst[o, i] + Σ_j t[o, j, i] (the sum rounded to float32 first, then the
// addition: the result of a reduction followed by an add). The terms are
// the source's elements, or with the MUL flag the float32 products
// src·mul of the source and a second operand laid out alike. Sums are
// Kahan-compensated as in reduce.comp, whose passes this follows (chosen by
// the Go side from the shape alone, kernels/gpu/summulti.go); the part is
// gl_WorkGroupID.y. MODE selects the pass:
//   0 rows (inner == 1): workgroup (o, s) sums chunk s of row o through a
//     shared-memory tree;
//   1 columns (inner > 1): workgroup (o, t, s) sums chunk s of the 32
//     columns of tile t of outer slice o, 32 column lanes by ROWLANES row
//     lanes folded in lane order;
//   2 combine: one invocation per output folds the splits partial sums in
//     chunk order;
//   3 serial (short axes, one chunk): one invocation per output.
// With one chunk, passes 0 and 1 write the destination; with more, the
// partial sum of chunk s of output q of part k lies in binding 0 at
// offPart + (k·splits + s)·outer·inner + q.
// Specialization constants: 0 MODE, 1 LOCAL (workgroup size, a power of
// two, 32·ROWLANES in columns mode).
layout(local_size_x_id = 1) in;
layout(constant_id = 0) const uint MODE = 0;
layout(constant_id = 1) const uint LOCAL = 256;

#include "multi.glsl"

layout(push_constant) uniform Push {
	uint outer;
	uint n;
	uint inner;
	uint chunk;   // elements of the reduced axis per chunk
	uint splits;  // chunks
	uint offPart; // first partial sum in binding 0
	uint offSrc[4];
	uint offDst[4];
	uint offMul[4];
	uint flags[4]; // bindings: source | destination << 4 | mul << 8; ADD << 12, MUL << 13
} p;

#define MODE_ROWS 0
#define MODE_COLUMNS 1
#define MODE_COMBINE 2
#define MODE_SERIAL 3

const uint TILE = 32;               // columns per tile in columns mode
const uint ROWLANES = LOCAL / TILE; // row lanes per column in columns mode

shared float sVal[LOCAL];
shared float sAux[LOCAL]; // Kahan compensation

// Kahan is a compensated partial sum.
struct Kahan {
	float val;
	float aux;
};

Kahan add(Kahan a, float x) {
	precise float y = x - a.aux;
	precise float u = a.val + y;
	precise float c = isinf(u) ? 0.0 : (u - a.val) - y; // no ∞ − ∞ in the compensation
	return Kahan(u, c);
}

Kahan merge(Kahan a, Kahan b) { return Kahan(a.val + b.val, a.aux + b.aux); }

uint srcBind(uint k) { return p.flags[k] & 0xfu; }
uint dstBind(uint k) { return (p.flags[k] >> 4) & 0xfu; }

// term is the element at i (relative to the part's source) of part k: the
// source's, or its product with the second operand's.
float term(uint k, uint i) {
	float x = ld(srcBind(k), p.offSrc[k] + i);
	if ((p.flags[k] & 0x2000u) != 0) {
		precise float y = x * ld((p.flags[k] >> 8) & 0xfu, p.offMul[k] + i);
		return y;
	}
	return x;
}

// finish writes the final sum v of output q of part k.
void finish(uint k, uint q, float v) {
	uint i = p.offDst[k] + q;
	if ((p.flags[k] & 0x1000u) != 0) {
		v = ld(dstBind(k), i) + v;
	}
	st(dstBind(k), i, v);
}

// emit writes the sum of output q of chunk s of part k: the final value
// with one chunk, else the partial.
void emit(uint k, uint q, uint s, Kahan acc) {
	float v = acc.val - acc.aux;
	if (p.splits == 1) {
		finish(k, q, v);
		return;
	}
	b0[p.offPart + (k * p.splits + s) * p.outer * p.inner + q] = v;
}

void rows(uint k) {
	uint tid = gl_LocalInvocationID.x;
	for (uint w = gl_WorkGroupID.x; w < p.outer * p.splits; w += gl_NumWorkGroups.x) {
		uint o = w / p.splits, s = w % p.splits;
		uint j0 = s * p.chunk, j1 = min(p.n, j0 + p.chunk);
		uint base = o * p.n;
		Kahan acc = Kahan(0.0, 0.0);
		for (uint j = j0 + tid; j < j1; j += LOCAL) {
			acc = add(acc, term(k, base + j));
		}
		sVal[tid] = acc.val;
		sAux[tid] = acc.aux;
		barrier();
		for (uint h = LOCAL / 2; h > 0; h >>= 1) {
			if (tid < h) {
				Kahan m = merge(Kahan(sVal[tid], sAux[tid]), Kahan(sVal[tid + h], sAux[tid + h]));
				sVal[tid] = m.val;
				sAux[tid] = m.aux;
			}
			barrier();
		}
		if (tid == 0) {
			emit(k, o, s, Kahan(sVal[0], sAux[0]));
		}
		barrier();
	}
}

void columns(uint k) {
	uint lane = gl_LocalInvocationID.x % TILE;
	uint rl = gl_LocalInvocationID.x / TILE;
	uint tiles = (p.inner + TILE - 1) / TILE;
	for (uint w = gl_WorkGroupID.x; w < p.outer * tiles * p.splits; w += gl_NumWorkGroups.x) {
		uint s = w % p.splits;
		uint t = (w / p.splits) % tiles;
		uint o = w / (p.splits * tiles);
		uint i = t * TILE + lane;
		uint j0 = s * p.chunk, j1 = min(p.n, j0 + p.chunk);
		Kahan acc = Kahan(0.0, 0.0);
		if (i < p.inner) {
			uint base = o * p.n * p.inner + i;
			for (uint j = j0 + rl; j < j1; j += ROWLANES) {
				acc = add(acc, term(k, base + j * p.inner));
			}
		}
		sVal[gl_LocalInvocationID.x] = acc.val;
		sAux[gl_LocalInvocationID.x] = acc.aux;
		barrier();
		if (rl == 0 && i < p.inner) {
			for (uint r = 1; r < ROWLANES; r++) {
				acc = merge(acc, Kahan(sVal[r * TILE + lane], sAux[r * TILE + lane]));
			}
			emit(k, o * p.inner + i, s, acc);
		}
		barrier();
	}
}

void combine(uint k) {
	uint total = p.outer * p.inner;
	for (uint q = gl_GlobalInvocationID.x; q < total; q += gl_NumWorkGroups.x * LOCAL) {
		Kahan acc = Kahan(0.0, 0.0);
		for (uint s = 0; s < p.splits; s++) {
			acc = add(acc, b0[p.offPart + (k * p.splits + s) * total + q]);
		}
		finish(k, q, acc.val - acc.aux);
	}
}

void serial(uint k) {
	uint total = p.outer * p.inner;
	for (uint q = gl_GlobalInvocationID.x; q < total; q += gl_NumWorkGroups.x * LOCAL) {
		uint o = q / p.inner;
		uint base = o * p.n * p.inner + (q - o * p.inner);
		Kahan acc = Kahan(0.0, 0.0);
		for (uint j = 0; j < p.n; j++) {
			acc = add(acc, term(k, base + j * p.inner));
		}
		finish(k, q, acc.val - acc.aux);
	}
}

void main() {
	uint k = gl_WorkGroupID.y;
	if (MODE == MODE_ROWS) {
		rows(k);
	} else if (MODE == MODE_COLUMNS) {
		columns(k);
	} else if (MODE == MODE_COMBINE) {
		combine(k);
	} else {
		serial(k);
	}
}
