//go:build !unix

package data

import "time"

// processCPUTime is unknown on this platform.
func processCPUTime() time.Duration { return 0 }
