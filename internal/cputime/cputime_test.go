//go:build unix

package cputime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestProcessCountsWork spins until the process's processor time has
// grown by 20 ms, which must happen well within 10 s of wall time even on
// a loaded machine; a clock that does not move fails.
func TestProcessCountsWork(t *testing.T) {
	before := Process()
	assert.Positive(t, before, "the test binary has already run")
	deadline := time.Now().Add(10 * time.Second)
	for Process()-before < 20*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("processor time grew by %v in 10 s of spinning, want at least 20ms", Process()-before)
		}
	}
}
