// Package membudget checks allocations whose size comes from input (a
// checkpoint's configuration, a sample count, a data file's header)
// against the memory available before they are made, so that an
// impossible request is an error naming how much it needs and how much
// there is, instead of Go's out-of-memory abort or the kernel's OOM
// killer.
//
// The budget of a device is what its backend reports through
// tensor.MemoryBudgeter (the host's available memory for the CPU, the
// largest device-local heap for Vulkan); the host's is what
// hostmem.Available reports. Both are lowered by the SARGO_MEMORY_LIMIT
// environment variable (the sargo command's --memory-limit flag sets it).
//
// Layering: it imports only tensor and internal/hostmem, never a backend or
// anything above tensor.
package membudget

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"sargo/internal/hostmem"
	"sargo/tensor"
)

// EnvLimit names the environment variable holding a memory limit such as
// "512MiB" or "8GiB" (see ParseSize).
const EnvLimit = "SARGO_MEMORY_LIMIT"

// Budget is how many bytes one request may take and where that figure
// comes from. A zero Bytes means unknown: every request passes.
type Budget struct {
	Bytes int64
	// Source completes "…, but Source": "device cpu has 7.8 GiB", or
	// "--memory-limit (SARGO_MEMORY_LIMIT) allows 1 MiB".
	Source string
}

// Check returns an error naming what, the bytes it needs and the budget
// when need exceeds it. A negative need stands for a size too large to
// count (an overflow) and always fails.
func (b Budget) Check(what string, need int64) error {
	if need < 0 {
		return fmt.Errorf("%s needs more than %s, beyond any memory", what, FormatSize(math.MaxInt64))
	}
	if b.Bytes <= 0 || need <= b.Bytes {
		return nil
	}
	return fmt.Errorf("%s needs %s, but %s", what, FormatSize(need), b.Source)
}

// ForDevice is dev's budget, lowered by SARGO_MEMORY_LIMIT.
func ForDevice(dev tensor.Backend) (Budget, error) {
	b := Budget{}
	if n := tensor.MemoryBudget(dev); n > 0 {
		b = Budget{Bytes: n, Source: fmt.Sprintf("device %s has %s", dev.Name(), FormatSize(n))}
	}
	return lowered(b)
}

// ForHost is the host's budget, lowered by SARGO_MEMORY_LIMIT.
func ForHost() (Budget, error) {
	b := Budget{}
	if n, src, ok := hostmem.Available(); ok {
		b = Budget{Bytes: n, Source: fmt.Sprintf("the host has %s available (%s)", FormatSize(n), src)}
	}
	return lowered(b)
}

// lowered applies SARGO_MEMORY_LIMIT to b.
func lowered(b Budget) (Budget, error) {
	lim, ok, err := Limit()
	if err != nil || !ok {
		return b, err
	}
	if b.Bytes == 0 || lim < b.Bytes {
		b = Budget{Bytes: lim, Source: fmt.Sprintf("--memory-limit (%s) allows %s", EnvLimit, FormatSize(lim))}
	}
	return b, nil
}

// Limit reads SARGO_MEMORY_LIMIT; ok is false when it is not set.
func Limit() (n int64, ok bool, err error) {
	s, set := os.LookupEnv(EnvLimit)
	if !set || s == "" {
		return 0, false, nil
	}
	n, err = ParseSize(s)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", EnvLimit, err)
	}
	return n, true, nil
}

// units are the suffixes ParseSize accepts: binary (K, KiB, ...) and
// decimal (KB, ...).
var units = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseSize reads a positive byte count: a number with an optional unit,
// binary (K, M, G, T, KiB, MiB, GiB, TiB) or decimal (KB, MB, GB, TB), such
// as 512MiB, 8G or 1.5GB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes with an optional unit, such as 512MiB or 8GiB", s)
	}
	b := v * mult
	if b < 1 || b >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: want between 1 byte and 8 EiB", s)
	}
	return int64(b), nil
}

// FormatSize writes n bytes with a binary unit: "512 B", "1.5 KiB",
// "7.8 GiB".
func FormatSize(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	i := -1
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// Product multiplies sizes, returning -1 when the product overflows int64
// (Check then reports it as beyond any memory) or a factor is negative.
func Product(xs ...int64) int64 {
	p := int64(1)
	for _, x := range xs {
		if x < 0 {
			return -1
		}
		if x != 0 && p > math.MaxInt64/x {
			return -1
		}
		p *= x
	}
	return p
}

// Sum adds sizes, returning -1 when the sum overflows or a term is
// negative.
func Sum(xs ...int64) int64 {
	s := int64(0)
	for _, x := range xs {
		if x < 0 || s > math.MaxInt64-x {
			return -1
		}
		s += x
	}
	return s
}
