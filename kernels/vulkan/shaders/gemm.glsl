// Shared by the GEMM kernels (matmul.comp, conv2d.comp): the register- and
// shared-memory-tiled main loop of C[BM x BN] += A[BM x K] · B[K x BN].
//
// Tiling, from the outside in:
//   - a workgroup of LOCAL = (BM/TM)·(BN/TN) invocations owns a BM x BN tile
//     of C and walks K in BK-deep steps;
//   - each step's A (BM x BK) and B (BN x BK) tiles sit in shared memory
//     k-contiguous: row m of A holds its BK values of k side by side, padded
//     to SA = BK + 2 floats, so every pair (k, k+1) is one aligned 8-byte
//     read; with BK = 8, sixteen consecutive rows start at sixteen
//     different even banks (10·m modulo 32), so the sixteen lanes an
//     8-byte read serves at a time hit disjoint bank pairs when they read
//     consecutive rows, and read one address (a broadcast) otherwise;
//   - the tiles are double-buffered: while the invocations multiply the
//     tiles of step t, their registers already hold the global loads of step
//     t+1, which go to the other buffer afterwards, so one barrier per step
//     suffices and global latency overlaps the arithmetic;
//   - each invocation owns TM x TN outputs in registers, rows ty + i·(BM/TM)
//     and columns tx + j·(BN/TN) (consecutive invocations on consecutive
//     columns): per two values of k it reads TM pairs of A and TN pairs of
//     B for 2·TM·TN FMAs (8x8: 16 reads per 128 FMAs, against 8 per 16 in
//     the naive 4x4 tiling with one float per read).
//
// The including shader declares the specialization constants BM, BN, BK,
// TM, TN, LOCAL (BK even, BM·BK and BN·BK multiples of 4·LOCAL), includes
// this file, then defines
//   void fetchTiles(uint m0, uint n0, uint k0, uint kEnd)
//     global loads of the A and B tiles at (m0, k0) and (n0, k0) into its
//     own registers (zeros beyond kEnd and the matrix edges), and
//   void storeTiles(uint buf)
//     those registers into shared buffer buf with putA, putA2, putB, putB2,
// and includes gemm_loop.glsl, whose gemmTile runs the loop into acc.

#extension GL_EXT_control_flow_attributes : require

const uint SA = BK + 2;  // floats per shared row
const uint SA2 = SA / 2; // pairs per shared row
const uint CT = BN / TN; // invocations across a tile's columns
const uint RT = BM / TM; // invocations across its rows

shared vec2 As2[2 * BM * SA2];
shared vec2 Bs2[2 * BN * SA2];

// acc holds the invocation's TM x TN outputs, row-major.
float acc[TM * TN];

void putA(uint buf, uint m, uint k, float v) { As2[(buf * BM + m) * SA2 + k / 2][k % 2] = v; }
void putB(uint buf, uint n, uint k, float v) { Bs2[(buf * BN + n) * SA2 + k / 2][k % 2] = v; }
// putA2 and putB2 store the values of k and k+1 (k even).
void putA2(uint buf, uint m, uint k, vec2 v) { As2[(buf * BM + m) * SA2 + k / 2] = v; }
void putB2(uint buf, uint n, uint k, vec2 v) { Bs2[(buf * BN + n) * SA2 + k / 2] = v; }

// gemmRow and gemmCol are the tile row of output i and the tile column of
// output j of this invocation.
uint gemmRow(uint i) { return gl_LocalInvocationID.x / CT + i * RT; }
uint gemmCol(uint j) { return gl_LocalInvocationID.x % CT + j * CT; }
