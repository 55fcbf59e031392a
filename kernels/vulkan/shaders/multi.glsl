// Shared by the multi-tensor kernels (adamw_multi.comp, sumsq_multi.comp,
// concat.comp): MaxBindings (11) storage buffers b0..b10, each the whole
// storage of one or more tensors, read and written through a switch on the binding index
// (uniform in practice: a workgroup's elements mostly lie in one tensor).
// The Go side binds every slot (kernels/gpu/multitensor.go).
layout(std430, set = 0, binding = 0) buffer B0 { float b0[]; };
layout(std430, set = 0, binding = 1) buffer B1 { float b1[]; };
layout(std430, set = 0, binding = 2) buffer B2 { float b2[]; };
layout(std430, set = 0, binding = 3) buffer B3 { float b3[]; };
layout(std430, set = 0, binding = 4) buffer B4 { float b4[]; };
layout(std430, set = 0, binding = 5) buffer B5 { float b5[]; };
layout(std430, set = 0, binding = 6) buffer B6 { float b6[]; };
layout(std430, set = 0, binding = 7) buffer B7 { float b7[]; };
layout(std430, set = 0, binding = 8) buffer B8 { float b8[]; };
layout(std430, set = 0, binding = 9) buffer B9 { float b9[]; };
layout(std430, set = 0, binding = 10) buffer B10 { float b10[]; };

// ld reads element i of binding b.
float ld(uint b, uint i) {
	switch (b) {
	case 0: return b0[i];
	case 1: return b1[i];
	case 2: return b2[i];
	case 3: return b3[i];
	case 4: return b4[i];
	case 5: return b5[i];
	case 6: return b6[i];
	case 7: return b7[i];
	case 8: return b8[i];
	case 9: return b9[i];
	case 10: return b10[i];
	}
	return 0.0;
}

// st writes v to element i of binding b.
void st(uint b, uint i, float v) {
	switch (b) {
	case 0: b0[i] = v; break;
	case 1: b1[i] = v; break;
	case 2: b2[i] = v; break;
	case 3: b3[i] = v; break;
	case 4: b4[i] = v; break;
	case 5: b5[i] = v; break;
	case 6: b6[i] = v; break;
	case 7: b7[i] = v; break;
	case 8: b8[i] = v; break;
	case 9: b9[i] = v; break;
	case 10: b10[i] = v; break;
	}
}
