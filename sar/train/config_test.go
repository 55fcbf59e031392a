package train

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	tests := []struct {
		field  string
		mutate func(*Config)
	}{
		{"method", func(c *Config) { c.Method = "rl" }},
		{"rollout", func(c *Config) { c.Rollout = "last:0" }},
		{"teacher", func(c *Config) { c.Teacher = "beam" }},
		{"schedule", func(c *Config) { c.Schedule = "sometimes" }},
		{"sigma", func(c *Config) { c.Sigma = -1 }},
		{"teacher_top_p", func(c *Config) { c.TeacherTopP = 2 }},
		{"batch", func(c *Config) { c.Batch = 0 }},
		{"steps and epochs", func(c *Config) { c.Steps, c.Epochs = 0, 0 }},
		{"lr", func(c *Config) { c.LR = 0 }},
		{"min_lr", func(c *Config) { c.MinLR = 1 }},
		{"schedule sampler", func(c *Config) { c.ScheduleSampler = "var" }},
		{"lr_schedule", func(c *Config) { c.LRSchedule = "cosine" }},
		{"lr_floor", func(c *Config) { c.LRFloor = 2 }},
		{"lr_from", func(c *Config) { c.LRFrom = -1 }},
		{"beta2", func(c *Config) { c.Beta2 = 1 }},
		{"clip", func(c *Config) { c.Clip = -1 }},
		{"log_every", func(c *Config) { c.LogEvery = 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			assert.ErrorContains(t, c.Validate(), tc.field)
		})
	}
}

// TestDefaultsAreTheAuthors pins the defaults that follow the authors'
// released training: FlexVAR's sampler, the sampling teacher of their
// runs, the lin0 shape with a floor of 0.1×.
func TestDefaultsAreTheAuthors(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, "flexvar", c.ScheduleSampler)
	assert.Equal(t, TeacherSample, c.Teacher)
	assert.Equal(t, float32(1.2), c.TeacherCFG)
	assert.Equal(t, 900, c.TeacherTopK)
	assert.Equal(t, float32(0.96), c.TeacherTopP)
	assert.True(t, NewTeacher(c).Guided())
	assert.Equal(t, LRFlexVAR, c.LRSchedule)
	assert.Equal(t, 0.1, c.LRFloor)
	c.TeacherCFG = 1
	assert.False(t, NewTeacher(c).Guided(), "the authors guide only above 1")
}

func TestTotalSteps(t *testing.T) {
	c := DefaultConfig()
	c.Batch, c.Steps, c.Epochs = 10, 0, 3
	assert.Equal(t, 3*6, c.TotalSteps(65))
	c.Steps = 7
	assert.Equal(t, 7, c.TotalSteps(65))
}

func TestLoadConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "train.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"method": "sar", "sigma": 0.1}`), 0o644))
	c, err := LoadConfigFile(path, DefaultConfig())
	require.NoError(t, err)
	assert.Equal(t, MethodSAR, c.Method)
	assert.Equal(t, float32(0.1), c.Sigma)
	assert.Equal(t, DefaultConfig().Batch, c.Batch)
	require.NoError(t, os.WriteFile(path, []byte(`{"sigam": 0.1}`), 0o644))
	_, err = LoadConfigFile(path, DefaultConfig())
	assert.ErrorContains(t, err, "sigam")
}

func TestLoaderIsAFunctionOfTheStep(t *testing.T) {
	ds := fakeData(20, 4)
	a, err := newLoader(ds, 6, 3)
	require.NoError(t, err)
	assert.Equal(t, 3, a.stepsPerEpoch())
	b, err := newLoader(ds, 6, 3)
	require.NoError(t, err)
	for _, step := range []int{0, 4, 1, 7, 3} {
		xa, la, ea, err := a.at(step)
		require.NoError(t, err)
		xb, lb, eb, err := b.at(step)
		require.NoError(t, err)
		assert.Equal(t, xa, xb)
		assert.Equal(t, la, lb)
		assert.Equal(t, step/3, ea)
		assert.Equal(t, ea, eb)
	}
	_, err = newLoader(ds, 21, 0)
	assert.ErrorContains(t, err, "batch 21")
}
