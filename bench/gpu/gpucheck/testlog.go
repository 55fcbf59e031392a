package main

import (
	"bufio"
	"io"
	"regexp"
	"strings"
)

// TestLog is what a `go test -v` run printed: the results of its tests and
// subtests, and how it ended.
type TestLog struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Tests lists every test and subtest with its result, in order.
	Tests []TestResult `json:"tests,omitempty"`
	// Ending is the last verdict line (PASS, FAIL, ok …), or what stopped
	// the run (a panic, a timeout).
	Ending string `json:"ending,omitempty"`
	// ValidationMessages counts lines that report a Vulkan validation
	// message.
	ValidationMessages int `json:"validation_messages"`
}

// TestResult is one test's result: PASS, FAIL or SKIP.
type TestResult struct {
	Name   string `json:"name"`
	Result string `json:"result"`
}

var (
	resultLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)
	// validationLine matches what the backend and the tests print for a
	// validation-layer message: the sticky error ("vulkan: validation
	// layer: …"), the layer's own "Validation Error"/"Validation Warning"
	// prefix, and the tests' "validation messages" assertion.
	validationLine = regexp.MustCompile(`validation layer: |Validation (Error|Warning)|validation messages`)
)

// parseTestLog reads `go test -v` output.
func parseTestLog(r io.Reader) TestLog {
	var l TestLog
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if m := resultLine.FindStringSubmatch(line); m != nil {
			l.Tests = append(l.Tests, TestResult{Name: m[2], Result: m[1]})
			switch m[1] {
			case "PASS":
				l.Passed++
			case "FAIL":
				l.Failed++
			case "SKIP":
				l.Skipped++
			}
			continue
		}
		if validationLine.MatchString(line) {
			l.ValidationMessages++
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "PASS" || t == "FAIL" || strings.HasPrefix(t, "ok ") || strings.HasPrefix(t, "FAIL\t"):
			l.Ending = t
		case strings.HasPrefix(t, "panic: "):
			l.Ending = t
		}
	}
	return l
}

// failures lists the names of the failed tests, at most n.
func (l TestLog) failures(n int) []string {
	var out []string
	for _, t := range l.Tests {
		if t.Result == "FAIL" && len(out) < n {
			out = append(out, t.Name)
		}
	}
	return out
}

// robustnessName matches the names of tests and conformance cases about
// special values and bounds: NaN, Inf, out-of-range or negative ids,
// boundaries, robust access.
var robustnessName = regexp.MustCompile(`(?i)(nan|inf($|[^a-z])|infinit|out.?of.?(range|bounds)|bound|special.?value|robust|bad.?id|invalid.?id|negative)`)
