#version 430 core
// Generated from kernels/vulkan/shaders/random.comp by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.
#ifndef SARGO_SPEC_0
#define SARGO_SPEC_0 256u
#endif
#ifndef SARGO_SPEC_1
#define SARGO_SPEC_1 0u
#endif
// Philox4x32-10 random fill, one invocation per element (grid-stride):
// element i is block offset + i of the stream keyed by seed, exactly as
// tensor.PhiloxUniform / tensor.PhiloxNormal. The normal variant is
// Box-Muller on the first two words with a float32 logarithm and cosine
// accurate to about an ulp (the builtins' precision is not guaranteed by
// Vulkan), where the CPU evaluates it in float64.

const uint WG = SARGO_SPEC_0;
const uint NORMAL = SARGO_SPEC_1; // 0 uniform, 1 normal
layout(local_size_x = SARGO_SPEC_0) in;

layout(std430, binding = 0) writeonly buffer Dst0 { float dst[]; };

layout(std140, binding = 0) uniform Push {
    uint offDst;
    uint n;
    uint seedLo;
    uint seedHi;
    uint offLo;
    uint offHi;
} p;

// philox returns block (lo, hi) of the Philox4x32-10 stream keyed by
// (k0, k1): counter (lo, hi, 0, 0), ten rounds, as tensor.Philox.
uvec4 philox(uint lo, uint hi, uint k0, uint k1) {
    uvec4 c = uvec4(lo, hi, 0u, 0u);
    for (int r = 0; r < 10; r++) {
        uint p0hi, p0lo, p1hi, p1lo;
        umulExtended(0xD2511F53u, c.x, p0hi, p0lo);
        umulExtended(0xCD9E8D57u, c.z, p1hi, p1lo);
        c = uvec4(p1hi ^ c.y ^ k0, p1lo, p0hi ^ c.w ^ k1, p0lo);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return c;
}

// philoxAt returns block offset + i (64-bit, with carry) of the stream.
uvec4 philoxAt(uint offLo, uint offHi, uint i, uint k0, uint k1) {
    uint carry;
    uint lo = uaddCarry(offLo, i, carry);
    return philox(lo, offHi + carry, k0, k1);
}

// uniform01 maps a word to [0, 1) with 24 bits, as tensor.Uniform01.
float uniform01(uint w) { return float(w >> 8) * (1.0 / 16777216.0); }

// logf is the natural logarithm of x > 0 (the classic fdlibm/musl logf).
float logf(float x) {
    uint ix = floatBitsToUint(x);
    int k = 0;
    if (ix < 0x00800000u) { // subnormal: scale up
        k -= 25;
        ix = floatBitsToUint(x * 33554432.0);
    }
    ix += 0x3f800000u - 0x3f3504f3u;
    k += int(ix >> 23) - 0x7f;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    precise float f = uintBitsToFloat(ix) - 1.0;
    precise float s = f / (2.0 + f);
    precise float z = s * s;
    precise float w = z * z;
    precise float t1 = w * (0.40000972152 + w * 0.24279078841);
    precise float t2 = z * (0.66666662693 + w * 0.28498786688);
    precise float R = t2 + t1;
    precise float hfsq = 0.5 * f * f;
    float dk = float(k);
    precise float r = s * (hfsq + R) + dk * 9.0580006145e-06 - hfsq + f + dk * 6.9313812256e-01;
    return r;
}

// cos2pi is cos(2*pi*u) for u in [0, 1) holding at most 24 fraction bits:
// the reductions below are exact, leaving a polynomial on [0, pi/4].
float cos2pi(float u) {
    float a = u > 0.5 ? 1.0 - u : u;
    float sgn = 1.0;
    if (a > 0.25) {
        a = 0.5 - a;
        sgn = -1.0;
    }
    bool useSin = a > 0.125;
    if (useSin) {
        a = 0.25 - a;
    }
    precise float x = a * 6.28318530717958647692;
    precise float x2 = x * x;
    precise float r;
    if (useSin) {
        r = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0 + x2 * (-1.0 / 39916800.0))))));
    } else {
        r = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0 + x2 * (-1.0 / 3628800.0)))));
    }
    return sgn * r;
}

void main() {
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uvec4 w = philoxAt(p.offLo, p.offHi, i, p.seedLo, p.seedHi);
        float v;
        if (NORMAL == 0u) {
            v = uniform01(w.x);
        } else {
            float u1 = (float(w.x >> 8) + 1.0) * (1.0 / 16777216.0); // (0, 1]
            float u2 = float(w.y >> 8) * (1.0 / 16777216.0);
            v = sqrt(-2.0 * logf(u1)) * cos2pi(u2);
        }
        dst[p.offDst + i] = v;
    }
}
