// Shared by matmul.comp and matmul_splitk.comp: the epilogue
// alpha·sum + beta·c + bias[n] and the activation applied to it, with the
// specialization constant BETA, the push constants alpha, beta, offBias and
// flags (bit 0: add the bias; bits 8 and up: 0 for no activation, else 1 +
// its tensor.UnaryOp; uniform branches) and the bias binding of both
// shaders.
#include "unary_math.glsl"

// activationOf is the activation field of the flags.
uint activationOf(uint flags) { return flags >> 8; }

// epilogue is alpha·sum + beta·cOld + bias[n], before the activation.
float epilogue(float sum, float cOld, uint n) {
	float v = p.alpha * sum;
	if (BETA == 1) {
		v = fma(p.beta, cOld, v);
	}
	if ((p.flags & 1u) != 0u) {
		v += bias[p.offBias + n];
	}
	return v;
}
