package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReproduceStudyFlags checks that the epoch protocols' flags are
// refused for a study preset before any work starts.
func TestReproduceStudyFlags(t *testing.T) {
	for _, flag := range [][]string{{"--epochs", "3"}, {"--post-epochs", "1"}, {"--runs", "tf"}} {
		_, err := runCmd(t, append([]string{"reproduce", "--preset", "medium", "--out", t.TempDir()}, flag...))
		assert.ErrorContains(t, err, "applies to the epoch protocols", flag[0])
	}
	_, err := runCmd(t, []string{"reproduce", "--preset", "large", "--out", t.TempDir()})
	assert.ErrorContains(t, err, "unknown")
}
