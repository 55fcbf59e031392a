// The main loop of gemm.glsl, included after the includer's fetchTiles
// and storeTiles: gemmTile sets acc to the product of the tile rows m0.. of
// A and tile columns n0.. of B over k in [kBegin, kEnd). Every invocation
// of the workgroup calls it with the same arguments (it has barriers).
void gemmTile(uint m0, uint n0, uint kBegin, uint kEnd) {
	[[unroll]] for (uint i = 0; i < TM * TN; i++) {
		acc[i] = 0.0;
	}
	if (kBegin >= kEnd) {
		return;
	}
	uint steps = (kEnd - kBegin + BK - 1) / BK;
	fetchTiles(m0, n0, kBegin, kEnd);
	storeTiles(0);
	barrier();
	for (uint t = 0; t < steps; t++) {
		uint buf = t & 1u;
		bool more = t + 1 < steps;
		if (more) {
			fetchTiles(m0, n0, kBegin + (t + 1) * BK, kEnd);
		}
		[[dont_unroll]] for (uint kp = 0; kp < BK / 2; kp++) {
			vec2 a[TM];
			[[unroll]] for (uint i = 0; i < TM; i++) {
				a[i] = As2[(buf * BM + gemmRow(i)) * SA2 + kp];
			}
			[[unroll]] for (uint j = 0; j < TN; j++) {
				vec2 b = Bs2[(buf * BN + gemmCol(j)) * SA2 + kp];
				[[unroll]] for (uint i = 0; i < TM; i++) {
					acc[i * TN + j] = fma(a[i].y, b.y, fma(a[i].x, b.x, acc[i * TN + j]));
				}
			}
		}
		if (more) {
			storeTiles(buf ^ 1u);
		}
		barrier();
	}
}
