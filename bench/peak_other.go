//go:build !linux

package bench

// resetPeakRSS cannot reset the peak resident set size on this system.
func resetPeakRSS() bool { return false }

// peakRSS is unknown on this system.
func peakRSS() int64 { return 0 }
