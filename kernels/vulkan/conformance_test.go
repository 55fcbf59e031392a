package vulkan

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/kernels/check"
	"sargo/kernels/gpu"
	"sargo/tensor"
)

// TestConformance runs the backend-independent conformance suite against
// a validated Vulkan device, then checks that every pipeline it created is
// listed by gpu.Variants.
func TestConformance(t *testing.T) {
	b := openValidated(t)
	check.Run(t, b)
	require.NoError(t, b.Sync())
	requireVariantsListed(t, b)
}

// TestFaults runs the cases that break the id contract, each on a
// validated device of its own: the device-side checks must report every
// bad id as tensor.IDError at Sync.
func TestFaults(t *testing.T) {
	check.RunFaults(t, func(t *testing.T) tensor.Backend { return openFaulty(t, Options{Validation: true}) })
}

// FuzzIDs runs check.FuzzIDs on validated devices: ids of every kind over
// views of every shape give the host's rows or the first bad id as
// tensor.IDError.
func FuzzIDs(f *testing.F) {
	check.FuzzIDs(f, func(t *testing.T) tensor.Backend { return openMaybeFaulty(t, Options{Validation: true}) })
}

// openMaybeFaulty opens a device that a case may leave with a sticky
// error: Close must return nil or a tensor.IDError, and the validation
// layer must have had nothing to say.
func openMaybeFaulty(t *testing.T, opt Options) *Backend {
	t.Helper()
	b, err := Open(0, opt)
	skipOrFail(t, err)
	check.CloseFaulty(t, b.Close, b.ValidationMessages, "validation messages", true)
	return b
}

// openFaulty opens a device for a case that leaves a sticky error: Close
// must return a tensor.IDError, and the validation layer must have had
// nothing to say.
func openFaulty(t *testing.T, opt Options) *Backend {
	t.Helper()
	b, err := Open(0, opt)
	skipOrFail(t, err)
	check.CloseFaulty(t, b.Close, b.ValidationMessages, "validation messages", false)
	return b
}

// TestConformanceSmallWorkgroups runs the families whose workgroup size
// comes from the device (gpu.ChooseTuning) on lavapipe limited to the
// Vulkan minimum of 128 invocations, so that the 128-invocation variants
// of the row, reduction, elementwise and scatter kernels run and are
// listed by gpu.Variants.
func TestConformanceSmallWorkgroups(t *testing.T) {
	b := openValidatedWith(t, Options{MaxWorkgroupInvocations: gpu.MinWorkgroupInvocations})
	require.Equal(t, gpu.Tuning{Row: 128, Elem: 128}, gpu.ChooseTuning(b.info.features()))
	check.RunFamilies(t, b, "elementwise", "reduce", "softmax", "crossentropy", "norm", "embedding", "random", "sum_multi", "optim_multi")
	require.NoError(t, b.Sync())
	requireVariantsListed(t, b)
}
