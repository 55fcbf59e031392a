package mlp_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/vulkan"
	"sargo/sar/data"
	"sargo/tensor"
)

// TestVulkanCurve trains Example's perceptron on Vulkan and requires the
// loss curve that Example prints for the CPU: each printed value the same
// to two decimals, and no loss further than 0.01 from the CPU's (fp32
// kernels that sum in other orders drift apart slowly over 200 steps).
func TestVulkanCurve(t *testing.T) {
	dev, err := tensor.Open("vulkan")
	if err != nil {
		if os.Getenv("SARGO_REQUIRE_VULKAN") == "1" || !(errors.Is(err, vulkan.ErrNoLoader) || errors.Is(err, vulkan.ErrNoDevice)) {
			require.NoError(t, err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	ds, err := data.LoadMNIST(false)
	require.NoError(t, err)
	want, err := curve(tensor.MustOpen("cpu"), ds)
	require.NoError(t, err)
	got, err := curve(dev, ds)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		assert.InDelta(t, want[i], got[i], 0.01, "loss %d", i)
		assert.Equal(t, fmt.Sprintf("%.2f", want[i]), fmt.Sprintf("%.2f", got[i]), "printed loss %d", i)
	}
	t.Logf("%s: %v (cpu %v)", dev.Describe(), got, want)
}
