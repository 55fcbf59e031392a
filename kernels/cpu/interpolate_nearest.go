package cpu

import (
	"math"

	"sargo/tensor"
)

// Nearest-neighbour upsampling by whole factors (the decoder's ×2): each
// source row becomes fx-fold repeated values in the first of its fy output
// rows, which the others copy; the backward sums each fy×fx block, the
// fy rows first and then the fx columns, the order of the tap-table passes,
// so both give the bits of interpolateTaps (up to the sign of a zero).

// nearestWhole reports whether a is a nearest-neighbour resize whose
// output is a whole multiple of its input on both axes with PyTorch's
// float32 source coordinates landing on dst/f exactly (true for every
// size the model uses; checked rather than assumed).
func nearestWhole(a tensor.InterpArgs) bool {
	if a.Mode != tensor.InterpNearest || a.Hin < 1 || a.Win < 1 ||
		a.Hout%a.Hin != 0 || a.Wout%a.Win != 0 {
		return false
	}
	whole := func(in, out int) bool {
		f, scale := out/in, float32(in)/float32(out)
		for o := range out {
			if min(int(math.Floor(float64(float32(o)*scale))), in-1) != o/f {
				return false
			}
		}
		return true
	}
	return whole(a.Hin, a.Hout) && whole(a.Win, a.Wout)
}

// nearestUp is Interpolate for nearestWhole(a).
func (b *Backend) nearestUp(a tensor.InterpArgs, d, s []float32) {
	fy, fx := a.Hout/a.Hin, a.Wout/a.Win
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	b.parallelFor(a.Planes, rowGrain(in+out), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			sp, dp := s[p*in:(p+1)*in], d[p*out:(p+1)*out]
			for h := range a.Hin {
				row := sp[h*a.Win : (h+1)*a.Win]
				first := dp[h*fy*a.Wout : (h*fy+1)*a.Wout]
				if fx == 2 {
					first = first[:2*len(row)]
					for x, v := range row {
						first[2*x], first[2*x+1] = v, v
					}
				} else {
					for x, v := range row {
						for j := range fx {
							first[x*fx+j] = v
						}
					}
				}
				for k := 1; k < fy; k++ {
					copy(dp[(h*fy+k)*a.Wout:(h*fy+k+1)*a.Wout], first)
				}
			}
		}
	})
}

// nearestUpBackward is InterpolateBackward for nearestWhole(a).
func (b *Backend) nearestUpBackward(a tensor.InterpArgs, ds, g []float32) {
	fy, fx := a.Hout/a.Hin, a.Wout/a.Win
	in, out := a.Hin*a.Win, a.Hout*a.Wout
	b.parallelFor(a.Planes, rowGrain(in+out), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			dp, gp := ds[p*in:(p+1)*in], g[p*out:(p+1)*out]
			for h := range a.Hin {
				dr := dp[h*a.Win : (h+1)*a.Win]
				block := gp[h*fy*a.Wout : (h+1)*fy*a.Wout]
				if fy == 2 && fx == 2 {
					r0, r1 := block[:2*len(dr)], block[a.Wout:a.Wout+2*len(dr)]
					for x := range dr {
						dr[x] = (r0[2*x] + r1[2*x]) + (r0[2*x+1] + r1[2*x+1])
					}
					continue
				}
				for x := range dr {
					var acc float32
					for j := range fx {
						col := x*fx + j
						cs := block[col]
						for k := 1; k < fy; k++ {
							cs += block[k*a.Wout+col]
						}
						acc += cs
					}
					dr[x] = acc
				}
			}
		}
	})
}
