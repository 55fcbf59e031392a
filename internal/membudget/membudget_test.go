package membudget

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512": 512, "512B": 512, "1KiB": 1024, "1K": 1024, "1.5 MiB": 3 << 19, "8G": 8 << 30, "8GiB": 8 << 30,
		"1GB": 1e9, "2TB": 2e12, "1TiB": 1 << 40,
	} {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "lots", "-1GiB", "0", "NaN", "Inf", "1e30TiB", "0.1"} {
		_, err := ParseSize(in)
		assert.Error(t, err, in)
	}
}

func TestFormatSize(t *testing.T) {
	assert.Equal(t, "512 B", FormatSize(512))
	assert.Equal(t, "1.5 KiB", FormatSize(1536))
	assert.Equal(t, "2.0 GiB", FormatSize(2<<30))
	assert.Equal(t, "8.0 EiB", FormatSize(math.MaxInt64))
}

func TestProductSum(t *testing.T) {
	assert.Equal(t, int64(24), Product(2, 3, 4))
	assert.Equal(t, int64(0), Product(0, math.MaxInt64, 5))
	assert.Equal(t, int64(-1), Product(1<<40, 1<<40))
	assert.Equal(t, int64(-1), Product(-1, 2))
	assert.Equal(t, int64(6), Sum(1, 2, 3))
	assert.Equal(t, int64(-1), Sum(math.MaxInt64, 1))
	assert.Equal(t, int64(-1), Sum(Product(1<<40, 1<<40), 1))
}

func TestCheck(t *testing.T) {
	b := Budget{Bytes: 1 << 20, Source: "device x has 1.0 MiB"}
	assert.NoError(t, b.Check("a thing", 1<<20))
	assert.EqualError(t, b.Check("a thing", 3<<20), "a thing needs 3.0 MiB, but device x has 1.0 MiB")
	assert.ErrorContains(t, b.Check("a thing", -1), "a thing needs more than 8.0 EiB")
	assert.NoError(t, Budget{}.Check("anything", 1<<60), "an unknown budget passes")
}

func TestLimits(t *testing.T) {
	dev := tensor.MustOpen("cpu")
	t.Setenv(EnvLimit, "")
	b, err := ForDevice(dev)
	require.NoError(t, err)
	require.Positive(t, b.Bytes, "the CPU backend reports the host's memory")
	assert.Contains(t, b.Source, "device cpu has")

	t.Setenv(EnvLimit, "1MiB")
	b, err = ForDevice(dev)
	require.NoError(t, err)
	assert.Equal(t, Budget{Bytes: 1 << 20, Source: "--memory-limit (SARGO_MEMORY_LIMIT) allows 1.0 MiB"}, b)
	h, err := ForHost()
	require.NoError(t, err)
	assert.Equal(t, int64(1<<20), h.Bytes)

	t.Setenv(EnvLimit, "1000000TiB") // above the device: the device's budget stays
	b, err = ForDevice(dev)
	require.NoError(t, err)
	assert.Contains(t, b.Source, "device cpu has")

	t.Setenv(EnvLimit, "lots")
	_, err = ForHost()
	assert.ErrorContains(t, err, `SARGO_MEMORY_LIMIT: size "lots"`)
}
