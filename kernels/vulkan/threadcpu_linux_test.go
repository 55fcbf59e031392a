package vulkan

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the processor time of the calling OS thread so far (the
// caller locks its goroutine to the thread), or 0 when unknown.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
