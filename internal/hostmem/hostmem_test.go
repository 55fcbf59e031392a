package hostmem

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestMemAvailable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "meminfo")
	write(t, p, "MemTotal:       24684136 kB\nMemFree:        20000000 kB\nMemAvailable:   23000000 kB\n")
	n, ok := memAvailable(p)
	require.True(t, ok)
	assert.Equal(t, int64(23000000)<<10, n)
	write(t, p, "MemTotal: 1 kB\n")
	_, ok = memAvailable(p)
	assert.False(t, ok, "no MemAvailable line")
}

func TestCgroupRoom(t *testing.T) {
	tests := []struct {
		name   string
		self   string
		files  map[string]string
		want   int64
		wantOK bool
	}{
		{"v2 limit", "0::/job\n", map[string]string{"job/memory.max": "1073741824\n", "job/memory.current": "73741824\n"}, 1000000000, true},
		{"v2 no limit", "0::/job\n", map[string]string{"job/memory.max": "max\n", "job/memory.current": "5\n"}, 0, false},
		{"v2 namespaced", "0::/\n", map[string]string{"memory.max": "2048\n", "memory.current": "48\n"}, 2000, true},
		{"v1 limit", "4:memory:/a\n1:cpu:/\n", map[string]string{"memory/a/memory.limit_in_bytes": "4096\n", "memory/a/memory.usage_in_bytes": "96\n"}, 4000, true},
		{"v1 no limit", "4:cpuacct,memory:/a\n", map[string]string{"memory/a/memory.limit_in_bytes": "9223372036854771712\n", "memory/a/memory.usage_in_bytes": "96\n"}, 0, false},
		{"v1 over limit", "4:memory:/a\n", map[string]string{"memory/a/memory.limit_in_bytes": "100\n", "memory/a/memory.usage_in_bytes": "200\n"}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "cgroup"), tc.self)
			for name, content := range tc.files {
				write(t, filepath.Join(dir, "fs", name), content)
			}
			n, _, ok := cgroupRoom(filepath.Join(dir, "cgroup"), filepath.Join(dir, "fs"))
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.want, n)
		})
	}
}

func TestAvailableOnThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo")
	}
	n, src, ok := Available()
	require.True(t, ok)
	assert.Positive(t, n)
	assert.NotEmpty(t, src)
}
