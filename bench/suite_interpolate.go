package bench

import (
	"fmt"

	"sargo/tensor"
)

func init() {
	register(Suite{Name: "interpolate", Doc: "bicubic upsampling and area downsampling between the model's scales", Cases: interpolateCases})
}

// resize is a set of resizes of a batch of planes run together: every
// (from, to) pair of sides.
type resize struct {
	mode   tensor.InterpMode
	planes int
	pairs  [][2]int
}

// outputs counts the output elements of one run, in millions.
func (r resize) outputs() float64 {
	n := 0
	for _, p := range r.pairs {
		n += r.planes * p[1] * p[1]
	}
	return float64(n) / 1e6
}

// interpolateCases are the resizes of the model on its latents (batch 8,
// C_vae 32): bicubic upsampling of each scale to the next (the
// teacher-forcing inputs), bicubic upsampling of each scale to the largest
// (decoding), and area downsampling of the largest to each scale
// (multi-scale quantisation); forward and backward. The unit is output
// (forward) or input-gradient (backward) Mpixel/s counted on the output
// side, so the two directions are comparable.
func interpolateCases(quick bool) ([]Case, error) {
	scales, planes := benchScales, 8*32
	if quick {
		scales, planes = []int{1, 2, 3, 4}, 2*4
	}
	largest := scales[len(scales)-1]
	var next, toLargest, fromLargest [][2]int
	for i, s := range scales {
		if i > 0 {
			next = append(next, [2]int{scales[i-1], s})
		}
		if s != largest {
			toLargest = append(toLargest, [2]int{s, largest})
			fromLargest = append(fromLargest, [2]int{largest, s})
		}
	}
	groups := []struct {
		label string
		r     resize
	}{
		{"bicubic up to next scale", resize{tensor.InterpBicubic, planes, next}},
		{fmt.Sprintf("bicubic up to %d", largest), resize{tensor.InterpBicubic, planes, toLargest}},
		{fmt.Sprintf("area down from %d", largest), resize{tensor.InterpArea, planes, fromLargest}},
	}
	var cases []Case
	for _, g := range groups {
		r := g.r
		params := map[string]any{"mode": r.mode.String(), "planes": r.planes, "pairs": r.pairs}
		for _, backward := range []bool{false, true} {
			dir, kind := "forward", "interpolate_forward"
			if backward {
				dir, kind = "backward", "interpolate_backward"
			}
			cases = append(cases, Case{Name: fmt.Sprintf("%s %s, %d planes", dir, g.label, r.planes), Kind: kind,
				Unit: "Mpixel/s", Work: r.outputs(), Params: params,
				Setup: func(be tensor.Backend) (func() error, func(), error) { return r.setup(be, backward) }})
		}
	}
	return cases, nil
}

func (r resize) setup(be tensor.Backend, backward bool) (func() error, func(), error) {
	var ops []func()
	for i, p := range r.pairs {
		a := tensor.InterpArgs{Mode: r.mode, Planes: r.planes, Hin: p[0], Win: p[0], Hout: p[1], Wout: p[1]}
		src := tensor.Randn(be, uint64(i+1), 0, r.planes, p[0], p[0])
		dst := tensor.Randn(be, uint64(i+101), 0, r.planes, p[1], p[1]) // the gradient read by the backward
		if backward {
			ops = append(ops, func() { be.InterpolateBackward(a, src.Span(), dst.Span()) })
		} else {
			ops = append(ops, func() { be.Interpolate(a, dst.Span(), src.Span()) })
		}
	}
	run := func() {
		for _, op := range ops {
			op()
		}
	}
	return syncRun(be, run), nothing, nil
}
