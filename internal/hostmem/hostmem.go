// Package hostmem reports how much memory this process can still take on
// the host: the kernel's MemAvailable, lowered by the limit of the
// process's memory cgroup (v2 memory.max or v1 memory.limit_in_bytes,
// less what the cgroup already uses).
//
// Layering: a leaf utility; it imports no package of the module.
package hostmem

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Available returns the bytes the process can still allocate and what
// the figure comes from ("MemAvailable", "cgroup memory.max", ...). ok is
// false when neither /proc/meminfo nor a cgroup limit can be read (not
// Linux, or /proc not mounted).
func Available() (bytes int64, source string, ok bool) {
	if v, found := memAvailable("/proc/meminfo"); found {
		bytes, source, ok = v, "MemAvailable in /proc/meminfo", true
	}
	if v, src, found := cgroupRoom("/proc/self/cgroup", "/sys/fs/cgroup"); found && (!ok || v < bytes) {
		bytes, source, ok = v, src, true
	}
	return bytes, source, ok
}

// memAvailable reads the MemAvailable line (in kB) of a meminfo file.
func memAvailable(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !found {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 || kb > 1<<52 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// unlimited is the size from which a cgroup limit counts as no limit (v1
// writes "no limit" as a page-rounded 2^63−1).
const unlimited = 1 << 62

// cgroupRoom returns the limit minus the usage of the process's memory
// cgroup, as listed in cgroupFile, under the cgroup mount root.
func cgroupRoom(cgroupFile, root string) (int64, string, bool) {
	raw, err := os.ReadFile(cgroupFile)
	if err != nil {
		return 0, "", false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var limitFile, usageFile, dir string
		switch {
		case parts[0] == "0" && parts[1] == "":
			dir, limitFile, usageFile = root, "memory.max", "memory.current"
		case hasController(parts[1], "memory"):
			dir, limitFile, usageFile = filepath.Join(root, "memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"
		default:
			continue
		}
		// Inside a cgroup namespace the listed path may not exist under
		// the mount; the mount's root is then the process's own cgroup.
		for _, d := range []string{filepath.Join(dir, parts[2]), dir} {
			limit, ok1 := readBytes(filepath.Join(d, limitFile))
			usage, ok2 := readBytes(filepath.Join(d, usageFile))
			if !ok1 || !ok2 {
				continue
			}
			if limit >= unlimited {
				break
			}
			return max(0, limit-usage), "cgroup " + filepath.Join(d, limitFile), true
		}
	}
	return 0, "", false
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readBytes reads a cgroup file holding a byte count or "max".
func readBytes(path string) (int64, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := string(bytes.TrimSpace(raw))
	if s == "max" {
		return unlimited, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}
