package schedule

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	s, err := Parse("1_2_3_4_6_8", 8)
	require.NoError(t, err)
	assert.Equal(t, Schedule{1, 2, 3, 4, 6, 8}, s)
	assert.Equal(t, "1_2_3_4_6_8", s.String())
	assert.Equal(t, 1+4+9+16+36+64, s.Tokens())
	for _, in := range []string{"1,2,3,4,6,8", "1 2 3 4 6 8", "1, 2, 3, 4, 6, 8", " 1_2_3_4_6_8 "} {
		got, err := Parse(in, 8)
		require.NoError(t, err, in)
		assert.Equal(t, s, got, in)
	}

	bad := []struct{ in, want string }{
		{"", "empty"},
		{"1_3_2", "not increasing"},
		{"1_2_2", "not increasing"},
		{"1_2_16", "exceeds the largest latent 8"},
		{"1_x", `"x" is not an integer`},
		{"0_1", "must be positive"},
		{"1__2", "empty scale"},
		{"1_2_", "empty scale"},
		{"_1_2", "empty scale"},
		{"1,,2", "empty scale"},
		{"1_ _2", "empty scale"},
	}
	for _, b := range bad {
		t.Run(b.in, func(t *testing.T) {
			_, err := Parse(b.in, 8)
			require.Error(t, err)
			assert.Contains(t, err.Error(), b.want)
		})
	}
}

func TestVARList(t *testing.T) {
	cases := []struct {
		largest int
		want    Schedule
	}{
		{8, Schedule{1, 2, 3, 4, 5, 6, 8}},
		{16, Schedule{1, 2, 3, 4, 5, 6, 8, 10, 13, 16}},
		{4, Schedule{1, 2, 3, 4}},
		{1, Schedule{1}},
		{32, Schedule{1, 2, 6, 8, 10, 12, 16, 20, 26, 32}},
	}
	for _, c := range cases {
		got := VARList(c.largest)
		assert.Equal(t, c.want, got, "largest %d", c.largest)
		require.NoError(t, got.Validate(c.largest))
	}
	assert.Equal(t, 155, VARList(8).Tokens())
	assert.Equal(t, 680, VARList(16).Tokens())
}

func TestRandomSchedules(t *testing.T) {
	for _, sampler := range []Sampler{SamplerFlexVAR, SamplerKeepLast} {
		for _, largest := range []int{3, 5, 8, 12, 16} {
			r := rand.New(rand.NewPCG(1, uint64(largest)))
			seen := map[string]bool{}
			for i := 0; i < 500; i++ {
				s := Random(largest, sampler, r)
				require.NoError(t, s.Validate(largest), "largest %d: %v", largest, s)
				assert.Equal(t, []int{1, 2}, []int(s[:2]), "%s largest %d: %v", sampler, largest, s)
				if sampler == SamplerKeepLast {
					assert.Equal(t, largest, s.Last())
				}
				if len(s) > 3 {
					assert.LessOrEqual(t, s.Tokens(), max(TokenBudget(largest), Schedule{1, 2, largest}.Tokens()))
				}
				seen[s.String()] = true
			}
			if largest >= 8 {
				assert.Greater(t, len(seen), 3, "%s largest %d draws varied schedules", sampler, largest)
			}
		}
	}
}

func TestParseSampler(t *testing.T) {
	for in, want := range map[string]Sampler{"flexvar": SamplerFlexVAR, "keep-last": SamplerKeepLast, "": SamplerKeepLast} {
		got, err := ParseSampler(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseSampler("var")
	assert.ErrorContains(t, err, `"var"`)
}

// finalScaleLaw is the exact distribution of the last scale of FlexVAR's
// schedule sampler for a latent of side largest, computed by enumerating
// every outcome of its draws (a reference written from the sampler's
// description, independent of Random): the VAR list with probability
// 0.05, else 1, 2, every k-subset of the lower and upper bands with equal
// probability, and largest; then 0 to 4 drops of a uniform interior
// position with probabilities 0.9, 0.05, 0.03, 0.01, 0.01; then, while the
// sequence exceeds the budget, a drop of a uniform position among the
// last four (never 1 or 2).
func finalScaleLaw(largest int) map[int]float64 {
	law := map[int]float64{}
	memo := map[string]map[int]float64{}
	var budget func(s Schedule) map[int]float64
	budget = func(s Schedule) map[int]float64 {
		key := s.String()
		if d, ok := memo[key]; ok {
			return d
		}
		d := map[int]float64{}
		if s.Tokens() <= TokenBudget(largest) || len(s) <= 3 {
			d[s.Last()] = 1
		} else {
			lo := max(2, len(s)-4)
			for i := lo; i < len(s); i++ {
				next := append(append(Schedule{}, s[:i]...), s[i+1:]...)
				for last, p := range budget(next) {
					d[last] += p / float64(len(s)-lo)
				}
			}
		}
		memo[key] = d
		return d
	}
	dmemo := map[string]map[int]float64{}
	var drops func(s Schedule, k int) map[int]float64
	drops = func(s Schedule, k int) map[int]float64 {
		if k == 0 || len(s) <= 3 {
			return budget(s)
		}
		key := s.String() + "/" + strconv.Itoa(k)
		if d, ok := dmemo[key]; ok {
			return d
		}
		d := map[int]float64{}
		n := len(s) - 3 // interior positions 2..len−2
		for i := 2; i <= len(s)-2; i++ {
			next := append(append(Schedule{}, s[:i]...), s[i+1:]...)
			for last, p := range drops(next, k-1) {
				d[last] += p / float64(n)
			}
		}
		dmemo[key] = d
		return d
	}
	dropLaw := []float64{0.9, 0.05, 0.03, 0.01, 0.01}
	candidate := func(s Schedule, p float64) {
		for k, q := range dropLaw {
			for last, r := range drops(s, k) {
				law[last] += p * q * r
			}
		}
	}
	candidate(VARList(largest), 0.05)
	split := max(3, int(math.Round(10*float64(largest)/16)))
	lower, upper := subsets(3, min(split, largest-1), 5), subsets(split+1, largest-1, 2)
	for _, l := range lower {
		for _, u := range upper {
			s := append(append(append(Schedule{1, 2}, l...), u...), largest)
			candidate(s, 0.95/float64(len(lower)*len(upper)))
		}
	}
	return law
}

// subsets lists the k-subsets of [lo, hi] in increasing order (the whole
// range when it has fewer than k values).
func subsets(lo, hi, k int) [][]int {
	if hi < lo {
		return [][]int{nil}
	}
	k = min(k, hi-lo+1)
	var out [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for v := start; v <= hi; v++ {
			rec(v+1, append(cur, v))
		}
	}
	rec(lo, nil)
	return out
}

func TestFlexVARFinalScales(t *testing.T) {
	// The proportions of final scales of the authors' trainer for a 16×16
	// latent, measured by simulating its Python code (200,000 draws).
	known := map[int]float64{16: 0.666, 15: 0.137, 14: 0.102, 13: 0.064, 12: 0.028, 11: 0.002}
	law := finalScaleLaw(16)
	assert.InDelta(t, 1, sum(law), 1e-9)
	for s, p := range known {
		assert.InDelta(t, p, law[s], 0.002, "final scale %d", s)
	}
	assert.Len(t, law, len(known))

	// Random draws the exact law for 16 and, by the same rule, for other
	// latents; with the keep-last sampler every schedule ends at largest.
	const n = 40000
	for _, largest := range []int{6, 8, 12, 16, 20} {
		law := finalScaleLaw(largest)
		assert.InDelta(t, 1, sum(law), 1e-9, "largest %d", largest)
		r := rand.New(rand.NewPCG(7, uint64(largest)))
		count := map[int]int{}
		for range n {
			count[Random(largest, SamplerFlexVAR, r).Last()]++
		}
		for s, c := range count {
			require.Contains(t, law, s, "largest %d: final scale %d has probability 0", largest, s)
			p := law[s]
			se := math.Sqrt(p * (1 - p) / n)
			assert.InDelta(t, p, float64(c)/n, 5*se+1e-4, "largest %d, final scale %d", largest, s)
		}
		if largest >= 8 {
			assert.Less(t, law[largest], 0.95, "largest %d: the budget drops the largest scale", largest)
		}
		for range 1000 {
			require.Equal(t, largest, Random(largest, SamplerKeepLast, r).Last())
		}
	}
}

func sum(m map[int]float64) float64 {
	total := 0.0
	for _, v := range m {
		total += v
	}
	return total
}

func TestScaleIDsAndOffsets(t *testing.T) {
	s := Schedule{1, 2, 3}
	assert.Equal(t, []float32{0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2}, s.ScaleIDs())
	assert.Equal(t, []int{0, 1, 5, 14}, s.Offsets())
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1_2_3", "1,2,4,8", "", "3_2", "1__2", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in, 16)
		if err != nil {
			return
		}
		require.NoError(t, s.Validate(16))
		again, err := Parse(s.String(), 16)
		require.NoError(t, err)
		require.Equal(t, s, again)
	})
}
