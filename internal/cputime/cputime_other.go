//go:build !unix

package cputime

import "time"

// Process is unknown on this system: it returns 0, and rates per
// processor-second are then left out.
func Process() time.Duration { return 0 }
