package data

import (
	"image"
	"math"
)

// planes is an image as float32 channel planes in [0, 1]: C planes of
// H×W, row-major.
type planes struct {
	c, h, w int
	v       []float32
}

// toFloatPlanes converts img to channels planes (1: grey by the ITU-R 601
// luma weights of color.GrayModel; 3: RGB, grey replicated; alpha
// dropped), with the same values as img.At(x, y).RGBA() gives (so equal to
// LoadFolder's), reading the common decoded types without the interface.
func toFloatPlanes(img image.Image, channels int) planes {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	p := planes{c: channels, h: h, w: w, v: make([]float32, channels*h*w)}
	var at func(x, y int) (r, g, bl uint32)
	switch src := img.(type) {
	case *image.YCbCr:
		at = func(x, y int) (uint32, uint32, uint32) { r, g, bl, _ := src.YCbCrAt(x, y).RGBA(); return r, g, bl }
	case *image.Gray:
		at = func(x, y int) (uint32, uint32, uint32) { r, g, bl, _ := src.GrayAt(x, y).RGBA(); return r, g, bl }
	case *image.NRGBA:
		at = func(x, y int) (uint32, uint32, uint32) { r, g, bl, _ := src.NRGBAAt(x, y).RGBA(); return r, g, bl }
	case *image.RGBA:
		at = func(x, y int) (uint32, uint32, uint32) { r, g, bl, _ := src.RGBAAt(x, y).RGBA(); return r, g, bl }
	default:
		at = func(x, y int) (uint32, uint32, uint32) { r, g, bl, _ := img.At(x, y).RGBA(); return r, g, bl }
	}
	for y := range h {
		for x := range w {
			r, g, bl := at(b.Min.X+x, b.Min.Y+y)
			i := y*w + x
			if channels == 1 {
				// color.GrayModel's luma on the 16-bit values.
				p.v[i] = float32((19595*r+38470*g+7471*bl+1<<15)>>24) / 255
				continue
			}
			p.v[i], p.v[h*w+i], p.v[2*h*w+i] = float32(r)/65535, float32(g)/65535, float32(bl)/65535
		}
	}
	return p
}

// filter is a resampling kernel as PIL defines it: its support (radius at
// scale 1) and its weight function.
type filter struct {
	support float64
	f       func(x float64) float64
}

// boxFilter and bicubicFilter are PIL's BOX and BICUBIC (a = −0.5).
var (
	boxFilter = filter{0.5, func(x float64) float64 {
		if x >= -0.5 && x < 0.5 {
			return 1
		}
		return 0
	}}
	bicubicFilter = filter{2, func(x float64) float64 {
		const a = -0.5
		x = math.Abs(x)
		switch {
		case x < 1:
			return ((a+2)*x-(a+3))*x*x + 1
		case x < 2:
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}}
)

// taps computes, as PIL's resampling does, the source pixels and weights
// of every output pixel along an axis of in pixels resized to out: the
// kernel is widened by the scale when downsampling (antialiasing) and its
// weights normalised to sum to 1.
func taps(in, out int, fl filter) [][]tap {
	scale := float64(in) / float64(out)
	fs := math.Max(scale, 1)
	support := fl.support * fs
	res := make([][]tap, out)
	for o := range out {
		center := (float64(o) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		var sum float64
		for i := lo; i < hi; i++ {
			w := fl.f((float64(i) - center + 0.5) / fs)
			if w != 0 {
				res[o] = append(res[o], tap{i, w})
				sum += w
			}
		}
		if sum != 0 {
			for k := range res[o] {
				res[o][k].w /= sum
			}
		}
	}
	return res
}

// span is the contiguous source pixels of one output pixel, from first,
// with their weights.
type span struct {
	first int
	w     []float32
}

// spans packs taps (contiguous source runs) for the inner loops.
func spans(ts [][]tap) []span {
	out := make([]span, len(ts))
	for o, t := range ts {
		if len(t) == 0 {
			continue
		}
		sp := span{first: t[0].i, w: make([]float32, t[len(t)-1].i-t[0].i+1)}
		for _, x := range t {
			sp.w[x.i-sp.first] = float32(x.w)
		}
		out[o] = sp
	}
	return out
}

// resize resamples every plane to nh×nw with the filter, separably
// (horizontal pass, then vertical).
func (p planes) resize(nh, nw int, fl filter) planes {
	tx, ty := spans(taps(p.w, nw, fl)), spans(taps(p.h, nh, fl))
	tmp := make([]float32, p.h*nw)
	out := planes{c: p.c, h: nh, w: nw, v: make([]float32, p.c*nh*nw)}
	for c := range p.c {
		src := p.v[c*p.h*p.w : (c+1)*p.h*p.w]
		for y := range p.h {
			row, dst := src[y*p.w:(y+1)*p.w], tmp[y*nw:(y+1)*nw]
			for x, sp := range tx {
				var acc float32
				for k, w := range sp.w {
					acc += w * row[sp.first+k]
				}
				dst[x] = acc
			}
		}
		dst := out.v[c*nh*nw : (c+1)*nh*nw]
		for y, sp := range ty {
			d := dst[y*nw : (y+1)*nw]
			for k, w := range sp.w {
				r := tmp[(sp.first+k)*nw : (sp.first+k+1)*nw]
				for x, v := range r {
					d[x] += w * v
				}
			}
		}
	}
	return out
}

// crop returns the size×size window at (x0, y0), mirrored horizontally
// when flip, scaled to [-1, 1].
func (p planes) crop(x0, y0, size int, flip bool) []float32 {
	out := make([]float32, p.c*size*size)
	for c := range p.c {
		for y := range size {
			src := p.v[(c*p.h+y0+y)*p.w+x0:]
			dst := out[(c*size+y)*size:]
			for x := range size {
				sx := x
				if flip {
					sx = size - 1 - x
				}
				dst[x] = 2*src[sx] - 1
			}
		}
	}
	return out
}

// randomCrop is ADM's random_crop_arr (guided-diffusion, as FlexVAR and
// SAR train): the smaller side is resized to smaller (drawn by the caller
// from [size, ⌈size/0.88⌉]), first halving with a box filter while it is
// at least twice that, then with a bicubic filter, and the size×size
// window at fractions (fx, fy) ∈ [0, 1) of the free range is cut out.
func randomCrop(p planes, size, smaller int, fx, fy float64, flip bool) []float32 {
	for min(p.w, p.h) >= 2*smaller {
		p = p.resize(p.h/2, p.w/2, boxFilter)
	}
	scale := float64(smaller) / float64(min(p.w, p.h))
	nw, nh := int(math.Round(float64(p.w)*scale)), int(math.Round(float64(p.h)*scale))
	nw, nh = max(nw, size), max(nh, size)
	if nw != p.w || nh != p.h {
		p = p.resize(nh, nw, bicubicFilter)
	}
	x0 := int(fx * float64(nw-size+1))
	y0 := int(fy * float64(nh-size+1))
	return p.crop(min(x0, nw-size), min(y0, nh-size), size, flip)
}

// centreCrop is LoadFolder's conversion: the largest centred square,
// area-resized to size×size (which averages the source pixels each output
// pixel covers), scaled to [-1, 1].
func centreCrop(p planes, size int) []float32 {
	side := min(p.w, p.h)
	x0, y0 := (p.w-side)/2, (p.h-side)/2
	sq := planes{c: p.c, h: side, w: side, v: make([]float32, p.c*side*side)}
	for c := range p.c {
		for y := range side {
			copy(sq.v[(c*side+y)*side:(c*side+y+1)*side], p.v[(c*p.h+y0+y)*p.w+x0:])
		}
	}
	w := areaWeights(side, size)
	out := make([]float32, p.c*size*size)
	for c := range p.c {
		plane := sq.v[c*side*side : (c+1)*side*side]
		for oy := range size {
			for ox := range size {
				var acc float64
				for _, wy := range w[oy] {
					for _, wx := range w[ox] {
						acc += wy.w * wx.w * float64(plane[wy.i*side+wx.i])
					}
				}
				out[(c*size+oy)*size+ox] = float32(acc*2 - 1)
			}
		}
	}
	return out
}
