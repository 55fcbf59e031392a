package mlp_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/kernels/kerneltest"
	"sargo/sar/data"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// TestVulkanCurve trains Example's perceptron on Vulkan and requires the
// loss curve that Example prints for the CPU: each printed value the same
// to two decimals, and no loss further than 0.01 from the CPU's (fp32
// kernels that sum in other orders drift apart slowly over 200 steps).
// Neither run may leave anything live on its device.
func TestVulkanCurve(t *testing.T) {
	dev := kerneltest.Vulkan(t)
	if dev == nil {
		t.Skip("no Vulkan device")
	}
	ds, err := data.LoadMNIST(false)
	require.NoError(t, err)
	cpu := tensor.MustOpen("cpu")
	var want, got []float32
	tensortest.NoLeaks(t, cpu, func() { want, err = curve(cpu, ds) })
	require.NoError(t, err)
	tensortest.NoLeaks(t, dev, func() { got, err = curve(dev, ds) })
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		assert.InDelta(t, want[i], got[i], 0.01, "loss %d", i)
		assert.Equal(t, fmt.Sprintf("%.2f", want[i]), fmt.Sprintf("%.2f", got[i]), "printed loss %d", i)
	}
	t.Logf("%s: %v (cpu %v)", dev.Describe(), got, want)
}
