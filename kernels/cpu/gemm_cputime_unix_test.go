//go:build unix

package cpu

import "syscall"

// processCPUSeconds is the user and system time the process has used, so
// that benchmarks can report throughput per processor-second, which a busy
// machine disturbs far less than wall-clock throughput.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
