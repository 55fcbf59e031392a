//go:build linux

package bench

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// resetPeakRSS returns freed memory to the system and resets the
// process's peak resident set size (VmHWM) to its current size, so that
// peakRSS reports the peak from now on. It reports whether the kernel
// allowed the reset.
func resetPeakRSS() bool {
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS is the process's peak resident set size in bytes (VmHWM), or 0
// where it cannot be read.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
