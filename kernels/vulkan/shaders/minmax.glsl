// NaN-propagating maximum and minimum, as Go's max and min for floats and
// the CPU backend: NaN when either operand is NaN (GLSL's max and min are
// undefined for NaN, and NVIDIA and AMD return the other operand), and +0
// above -0.

float maxNaN(float x, float y) {
	if (isnan(x) || isnan(y)) {
		return uintBitsToFloat(0x7fc00000u);
	}
	if (x == y) {
		return uintBitsToFloat(floatBitsToUint(x) & floatBitsToUint(y)); // max(-0, +0) = +0
	}
	return x > y ? x : y;
}

float minNaN(float x, float y) {
	if (isnan(x) || isnan(y)) {
		return uintBitsToFloat(0x7fc00000u);
	}
	if (x == y) {
		return uintBitsToFloat(floatBitsToUint(x) | floatBitsToUint(y)); // min(-0, +0) = -0
	}
	return x < y ? x : y;
}
