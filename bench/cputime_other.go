//go:build !unix

package bench

import "time"

// processCPUTime is unknown on this system; rates per processor-second are
// then left out.
func processCPUTime() time.Duration { return 0 }
