package main

import (
	"fmt"
	"strconv"
	"strings"
)

// shaderTotal is one row of the Vulkan profiler's table: a shader's
// dispatch count and total GPU time.
type shaderTotal struct {
	Count int
	Ms    float64
}

// parseProfileTable reads the table the Vulkan backend prints at Close
// when profiling (kernels/vulkan/profile.go):
//
//	sargo vulkan profile (DEVICE): 12.345 ms of GPU time
//	shader  count  total ms  mean µs
//	matmul     10     1.234    123.4
//
// into totals per shader.
func parseProfileTable(text string) (map[string]shaderTotal, error) {
	out := map[string]shaderTotal{}
	header := false
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if !header {
			header = len(f) >= 2 && f[0] == "shader" && f[1] == "count"
			continue
		}
		if len(f) < 4 {
			continue
		}
		n := len(f)
		count, err1 := strconv.Atoi(f[n-3])
		ms, err2 := strconv.ParseFloat(f[n-2], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("profile table: cannot read the row %q", strings.TrimSpace(line))
		}
		out[strings.Join(f[:n-3], " ")] = shaderTotal{Count: count, Ms: ms}
	}
	if !header {
		return nil, fmt.Errorf("profile table: no header (shader, count, total ms, mean µs) in %q", firstLine(text))
	}
	return out, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
