// Package schedule holds the scale schedules of scale-wise autoregressive
// generation: the increasing list of square latent sizes s_1 < s_2 < ... <
// s_n that a model predicts one after the other. It parses and checks
// schedules, gives the fixed VAR-like list, and draws FlexVAR's random
// training schedules scaled to any largest latent.
//
// Layering: a leaf of sar; it imports no package of the module.
package schedule

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Schedule is an increasing list of scales (side lengths of square latents).
type Schedule []int

// varList16 is VAR's list for a 16×16 latent.
var varList16 = Schedule{1, 2, 3, 4, 5, 6, 8, 10, 13, 16}

// String writes the schedule as "1_2_3_4_6_8", the form Parse reads.
func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "_")
}

// Tokens is the sequence length Σ s².
func (s Schedule) Tokens() int {
	n := 0
	for _, v := range s {
		n += v * v
	}
	return n
}

// Last is the largest (final) scale.
func (s Schedule) Last() int { return s[len(s)-1] }

// Offsets returns the start of every scale's tokens in the flattened
// sequence, plus the total as a last entry.
func (s Schedule) Offsets() []int {
	off := make([]int, len(s)+1)
	for i, v := range s {
		off[i+1] = off[i] + v*v
	}
	return off
}

// ScaleIDs returns, for every token of the sequence, the index of its
// scale: the ids of the block-causal mask.
func (s Schedule) ScaleIDs() []float32 {
	ids := make([]float32, 0, s.Tokens())
	for i, v := range s {
		for j := 0; j < v*v; j++ {
			ids = append(ids, float32(i))
		}
	}
	return ids
}

// Validate checks that s is non-empty, strictly increasing, positive and
// no larger than largest (when largest > 0).
func (s Schedule) Validate(largest int) error {
	if len(s) == 0 {
		return fmt.Errorf("schedule is empty")
	}
	for i, v := range s {
		if v <= 0 {
			return fmt.Errorf("schedule %s: scale %d is %d, must be positive", s, i+1, v)
		}
		if i > 0 && v <= s[i-1] {
			return fmt.Errorf("schedule %s is not increasing: scale %d (%d) follows %d", s, i+1, v, s[i-1])
		}
		if largest > 0 && v > largest {
			return fmt.Errorf("schedule %s: scale %d exceeds the largest latent %d", s, v, largest)
		}
	}
	return nil
}

// Parse reads "1_2_3_4_6_8" (commas and spaces are accepted too) and
// validates it against largest (0 skips the bound). An empty scale
// ("1__2", "1_2_") is an error.
func Parse(text string, largest int) (Schedule, error) {
	fields, err := splitScales(text)
	if err != nil {
		return nil, err
	}
	s := make(Schedule, len(fields))
	for i, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %q is not an integer", text, f)
		}
		s[i] = v
	}
	if err := s.Validate(largest); err != nil {
		return nil, err
	}
	return s, nil
}

// VARList is the fixed VAR-like schedule for a largest latent: VAR's list
// 1,2,3,4,5,6,8,10,13,16 cut at largest (then largest appended) for
// latents up to 16 (8 gives 1,2,3,4,5,6,8), and scaled for larger ones.
func VARList(largest int) Schedule {
	var s Schedule
	if largest <= 16 {
		for _, v := range varList16 {
			if v < largest {
				s = append(s, v)
			}
		}
		return append(s, largest)
	}
	for _, v := range varList16 {
		sv := int(math.Round(float64(v) * float64(largest) / 16))
		if v <= 2 {
			sv = v
		}
		if len(s) == 0 || sv > s[len(s)-1] {
			s = append(s, sv)
		}
	}
	return s
}

// TokenBudget is FlexVAR's cap on training sequence length (680 tokens for
// a 16×16 latent), scaled with the latent's area.
func TokenBudget(largest int) int {
	return int(math.Round(680 * float64(largest*largest) / 256))
}

// Sampler names how Random shortens a schedule that exceeds TokenBudget.
type Sampler string

// The samplers.
const (
	// SamplerFlexVAR is FlexVAR's trainer (gen_curr_patch_nums): while the
	// sequence exceeds the budget, one of the last four scales, the
	// largest included, is dropped. For a 16×16 latent about a third of
	// the schedules end below 16 (11 to 15).
	SamplerFlexVAR Sampler = "flexvar"
	// SamplerKeepLast drops only among the last interior scales, so every
	// schedule ends at the full latent.
	SamplerKeepLast Sampler = "keep-last"
)

// ParseSampler reads a sampler name. The empty name is SamplerKeepLast,
// the only behaviour of configurations written before samplers were
// named.
func ParseSampler(name string) (Sampler, error) {
	switch Sampler(name) {
	case SamplerFlexVAR:
		return SamplerFlexVAR, nil
	case SamplerKeepLast, "":
		return SamplerKeepLast, nil
	}
	return "", fmt.Errorf("schedule sampler %q: want %s or %s", name, SamplerFlexVAR, SamplerKeepLast)
}

// Random draws a training schedule as FlexVAR's trainer does, scaled from
// its 16×16 latent to largest: with probability 0.05 the VAR list;
// otherwise 1, 2, then five distinct scales from the lower band (3 to
// 10/16 of largest) and two from the upper band (up to largest-1), then
// largest. Then, on either list, with probabilities 0.1, 0.05, 0.02 and
// 0.01, one to four interior scales (never 1, 2 or the last) are dropped.
// Last, while the sequence exceeds TokenBudget, one scale is dropped,
// uniformly among the last four positions (never 1 or 2) with
// SamplerFlexVAR, which can drop the largest scale, or among the last
// interior ones with SamplerKeepLast, which never does. Bands smaller than
// their draw count contribute all their scales.
func Random(largest int, sampler Sampler, r *rand.Rand) Schedule {
	if largest <= 2 {
		return VARList(largest)
	}
	var s Schedule
	if r.Float64() < 0.05 {
		s = VARList(largest)
	} else {
		split := max(3, int(math.Round(10*float64(largest)/16)))
		s = Schedule{1, 2}
		s = append(s, pick(r, 3, min(split, largest-1), 5)...)
		s = append(s, pick(r, split+1, largest-1, 2)...)
		slices.Sort(s[2:])
		s = append(s, largest)
	}

	x := r.Float64()
	for _, p := range []float64{0.9, 0.95, 0.98, 0.99} {
		if x > p && len(s) > 3 {
			i := 2 + r.IntN(len(s)-3)
			s = slices.Delete(s, i, i+1)
		}
	}
	budget := TokenBudget(largest)
	for s.Tokens() > budget && len(s) > 3 {
		lo, hi := max(2, len(s)-4), len(s)-1 // candidate positions lo..hi
		if sampler != SamplerFlexVAR {
			hi = len(s) - 2
		}
		i := lo + r.IntN(hi-lo+1)
		s = slices.Delete(s, i, i+1)
	}
	return s
}

// pick draws up to k distinct integers from [lo, hi].
func pick(r *rand.Rand, lo, hi, k int) []int {
	if hi < lo {
		return nil
	}
	pool := make([]int, 0, hi-lo+1)
	for v := lo; v <= hi; v++ {
		pool = append(pool, v)
	}
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return pool[:min(k, len(pool))]
}

// splitScales splits a schedule's text at "_" or "," (spaces around them
// allowed) or at spaces alone, refusing an empty scale between, before or
// after separators.
func splitScales(text string) ([]string, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, fmt.Errorf("schedule %q is empty: write scales like 1_2_4_8", text)
	}
	parts := strings.FieldsFunc(t, func(r rune) bool { return r == '_' || r == ',' })
	if n := strings.Count(t, "_") + strings.Count(t, ","); n > 0 {
		if len(parts) != n+1 {
			return nil, fmt.Errorf("schedule %q has an empty scale: write scales like 1_2_4_8", text)
		}
		for i, p := range parts {
			if parts[i] = strings.TrimSpace(p); parts[i] == "" {
				return nil, fmt.Errorf("schedule %q has an empty scale: write scales like 1_2_4_8", text)
			}
		}
	}
	var fields []string
	for _, p := range parts {
		fields = append(fields, strings.Fields(p)...)
	}
	return fields, nil
}
