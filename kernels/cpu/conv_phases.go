package cpu

import "sargo/tensor"

// The input gradient of a strided convolution on the implicit path.
//
// With stride s, the padded input pixel P = iy+pad, P ≡ r (mod s), takes
// its gradient from the taps ky = r + s·t, t < T = ⌈(KH−r)/s⌉, at output
// row P/s − t. Over the phase rows i = P/s (and likewise the columns) that
// is a stride-1 convolution of gy, padded by T−1, with the phase's taps
// flipped in space and transposed in channels: s² small implicit
// convolutions whose depths add up to the full Cout·KH·KW, each written
// into a scratch phase plane and then spread into every s-th pixel of dx.

var convPhasePool gemmBufPool // one phase of dx, [N, Cin, Hph, Wph]

// phaseTaps is the number of taps k ≡ r (mod s) among k in [0, kernel).
func phaseTaps(kernel, r, s int) int {
	if r >= kernel {
		return 0
	}
	return (kernel - r + s - 1) / s
}

// conv2dBackwardInputPhases is Conv2dBackwardInput on the implicit path
// for stride > 1.
func (b *Backend) conv2dBackwardInputPhases(a tensor.ConvArgs, dx, gy, w []float32) {
	st, nr := a.Stride, convIndirect.kern.nr
	for ry := range st {
		th := phaseTaps(a.KH, ry, st)
		for rx := range st {
			tw := phaseTaps(a.KW, rx, st)
			if th == 0 || tw == 0 {
				b.spreadPhase(a, dx, nil, ry, rx, 0, 0)
				continue
			}
			s := newImplicitConv(a.N, a.Cout, a.Hout, a.Wout, a.Cin, th, tw, th-1, tw-1, 1, nr)
			fbuf := convFlipPool.get(a.Cin * s.k)
			wf := fbuf.data[:a.Cin*s.k]
			// wf[ci][co][u][v] = w[co][ci][ry+s·(th−1−u)][rx+s·(tw−1−v)].
			b.parallelFor(a.Cout, rowGrain(a.Cin*th*tw), func(lo, hi int) {
				for co := lo; co < hi; co++ {
					for ci := range a.Cin {
						src := w[(co*a.Cin+ci)*a.KH*a.KW:]
						dst := wf[(ci*a.Cout+co)*th*tw:]
						for u := range th {
							ky := ry + st*(th-1-u)
							for v := range tw {
								dst[u*tw+v] = src[ky*a.KW+rx+st*(tw-1-v)]
							}
						}
					}
				}
			})
			obuf := convPhasePool.get(a.N * a.Cin * s.hout * s.wout)
			out := obuf.data[:a.N*a.Cin*s.hout*s.wout]
			b.convImplicit(s, out, gy, wf, nil)
			b.spreadPhase(a, dx, out, ry, rx, s.hout, s.wout)
			convFlipPool.put(fbuf)
			convPhasePool.put(obuf)
		}
	}
}

// spreadPhase writes phase (ry, rx) of dx: the pixels (iy, ix) with
// iy+pad ≡ ry and ix+pad ≡ rx (mod stride) take ph [N, Cin, hph, wph] at
// ((iy+pad)/stride, (ix+pad)/stride), or 0 outside it (all of them when ph
// is nil).
func (b *Backend) spreadPhase(a tensor.ConvArgs, dx, ph []float32, ry, rx, hph, wph int) {
	st := a.Stride
	// The first image row and column of the phase.
	iy0 := ((ry-a.Pad)%st + st) % st
	ix0 := ((rx-a.Pad)%st + st) % st
	b.parallelFor(a.N*a.Cin, rowGrain(a.H*a.W/(st*st)), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			xc := dx[t*a.H*a.W : (t+1)*a.H*a.W]
			for iy := iy0; iy < a.H; iy += st {
				row := xc[iy*a.W : (iy+1)*a.W]
				i := (iy + a.Pad) / st
				var src []float32
				if ph != nil && i < hph {
					src = ph[(t*hph+i)*wph : (t*hph+i+1)*wph]
				}
				for ix := ix0; ix < a.W; ix += st {
					j := (ix + a.Pad) / st
					if j < len(src) {
						row[ix] = src[j]
					} else {
						row[ix] = 0
					}
				}
			}
		}
	})
}
