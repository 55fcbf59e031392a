package schedule

import (
	"math/rand/v2"
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
	for _, largest := range []int{3, 5, 8, 12, 16} {
		r := rand.New(rand.NewPCG(1, uint64(largest)))
		seen := map[string]bool{}
		for i := 0; i < 500; i++ {
			s := Random(largest, r)
			require.NoError(t, s.Validate(largest), "largest %d: %v", largest, s)
			assert.Equal(t, 1, s[0])
			assert.Equal(t, largest, s.Last())
			if len(s) > 3 {
				assert.LessOrEqual(t, s.Tokens(), max(TokenBudget(largest), Schedule{1, 2, largest}.Tokens()))
			}
			seen[s.String()] = true
		}
		if largest >= 8 {
			assert.Greater(t, len(seen), 3, "largest %d draws varied schedules", largest)
		}
	}
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
