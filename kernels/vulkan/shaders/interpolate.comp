#version 450
// Resize of Planes planes Hin x Win -> Hout x Wout with PyTorch's
// align_corners=False semantics (see kernels/cpu/interpolate.go), one
// invocation per output element (grid-stride). Every mode is separable: an
// output reads a small set of taps along each axis, each tap an input index
// and a weight; source coordinates are computed in float32 exactly as the
// CPU backend does (mul and add kept unfused with precise). in == out is the
// identity on that axis for every mode.

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Dst0 { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer Src1 { float src[]; };

layout(push_constant) uniform Push {
    uint offDst;
    uint offSrc;
    uint mode; // 0 nearest, 1 bilinear, 2 bicubic, 3 area
    uint planes;
    uint hin;
    uint win;
    uint hout;
    uint wout;
    float scaleY; // hin / hout and win / wout, divided on the host as the
    float scaleX; // CPU backend divides them (a device division may be off by an ulp)
} p;

const float A = -0.75;

float cubic1(float x) { return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0; }
float cubic2(float x) { return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A; }

// axisTaps writes the taps of output coordinate o on an axis resized from
// n to m and returns their number (area: the window start and length, with
// idx[0] = start, w[0] = 1/length, and the count returned negated).
int axisTaps(uint mode, int o, int n, int m, float scale, out int idx[4], out float w[4]) {
    if (n == m) {
        idx[0] = o;
        w[0] = 1.0;
        return 1;
    }
    if (mode == 0u) {
        precise float s = float(o) * scale;
        idx[0] = min(int(floor(s)), n - 1);
        w[0] = 1.0;
        return 1;
    }
    if (mode == 1u) {
        precise float s = max(scale * (float(o) + 0.5) - 0.5, 0.0);
        int i0 = min(int(floor(s)), n - 1);
        precise float l = clamp(s - float(i0), 0.0, 1.0);
        idx[0] = i0;
        w[0] = 1.0 - l;
        idx[1] = min(i0 + 1, n - 1);
        w[1] = l;
        return 2;
    }
    if (mode == 2u) {
        precise float s = scale * (float(o) + 0.5) - 0.5;
        int i0 = min(int(floor(s)), n - 1);
        precise float l = clamp(s - float(i0), 0.0, 1.0);
        w[0] = cubic2(l + 1.0);
        w[1] = cubic1(l);
        w[2] = cubic1(1.0 - l);
        w[3] = cubic2(2.0 - l);
        for (int k = 0; k < 4; k++) {
            idx[k] = clamp(i0 - 1 + k, 0, n - 1);
        }
        return 4;
    }
    int s0 = o * n / m;
    int e0 = ((o + 1) * n + m - 1) / m;
    idx[0] = s0;
    w[0] = 1.0 / float(e0 - s0);
    return -(e0 - s0);
}

void main() {
    uint total = p.planes * p.hout * p.wout;
    uint stride = gl_NumWorkGroups.x * WG;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint plane = e / (p.hout * p.wout);
        uint r = e - plane * p.hout * p.wout;
        int oy = int(r / p.wout);
        int ox = int(r - uint(oy) * p.wout);
        int iy[4], ix[4];
        float wy[4], wx[4];
        int ny = axisTaps(p.mode, oy, int(p.hin), int(p.hout), p.scaleY, iy, wy);
        int nx = axisTaps(p.mode, ox, int(p.win), int(p.wout), p.scaleX, ix, wx);
        uint base = p.offSrc + plane * p.hin * p.win;
        float acc = 0.0;
        if (ny < 0 || nx < 0) {
            // area: the window mean (an identity axis has one tap of weight 1)
            int y0 = iy[0], x0 = ix[0];
            int ly = abs(ny), lx = abs(nx);
            for (int y = y0; y < y0 + ly; y++) {
                for (int x = x0; x < x0 + lx; x++) {
                    acc += src[base + uint(y) * p.win + uint(x)];
                }
            }
            acc /= float(ly * lx);
        } else {
            for (int a = 0; a < ny; a++) {
                float row = 0.0;
                for (int b = 0; b < nx; b++) {
                    row += wx[b] * src[base + uint(iy[a]) * p.win + uint(ix[b])];
                }
                acc += wy[a] * row;
            }
        }
        dst[p.offDst + e] = acc;
    }
}
