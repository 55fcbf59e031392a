package gpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// Device profiles: what their drivers report (lavapipe as measured here;
// the others as their vendors' drivers report them).
var (
	lavapipeProfile = Features{SubgroupSize: 8, SubgroupArithmetic: true, SubgroupShuffle: true,
		MaxWorkgroupInvocations: 1024, MaxWorkgroupSize: [3]uint32{1024, 1024, 1024}, MaxSharedMemory: 32 << 10,
		MinSubgroupSize: 8, MaxSubgroupSize: 8, SubgroupSizeControl: true}
	nvidiaProfile = Features{SubgroupSize: 32, SubgroupArithmetic: true, SubgroupShuffle: true,
		MaxWorkgroupInvocations: 1024, MaxWorkgroupSize: [3]uint32{1024, 1024, 64}, MaxSharedMemory: 48 << 10,
		MinSubgroupSize: 32, MaxSubgroupSize: 32, SubgroupSizeControl: true}
	amdProfile = Features{SubgroupSize: 64, SubgroupArithmetic: true, SubgroupShuffle: true,
		MaxWorkgroupInvocations: 1024, MaxWorkgroupSize: [3]uint32{1024, 1024, 1024}, MaxSharedMemory: 64 << 10,
		MinSubgroupSize: 32, MaxSubgroupSize: 64, SubgroupSizeControl: true}
	intelProfile = Features{SubgroupSize: 32, SubgroupArithmetic: true, SubgroupShuffle: true,
		MaxWorkgroupInvocations: 1024, MaxWorkgroupSize: [3]uint32{1024, 1024, 1024}, MaxSharedMemory: 64 << 10,
		MinSubgroupSize: 8, MaxSubgroupSize: 32, SubgroupSizeControl: true}
	minimalProfile = Features{SubgroupSize: 4, MaxWorkgroupInvocations: 128, MaxWorkgroupSize: [3]uint32{128, 128, 64},
		MaxSharedMemory: 16 << 10, MinSubgroupSize: 4, MaxSubgroupSize: 4}
)

// TestChooseTuning checks the workgroup and subgroup sizes picked for each
// device profile, and that what the kernels then launch fits the device
// and is listed by Variants.
func TestChooseTuning(t *testing.T) {
	for _, c := range []struct {
		name      string
		info      Features
		want      Tuning
		subgroup  uint32 // the size the subgroup kernels run at
		attention string // the attention forward kernel
		reduce    string // the kernel of an unsplit row sum
	}{
		{"lavapipe", lavapipeProfile, Tuning{Row: 256, Elem: 256}, 8, "attention_subgroup", "reduce_subgroup"},
		{"nvidia 32-wide, 48 KiB", nvidiaProfile, Tuning{Row: 256, Elem: 256, Subgroup: 32}, 32, "attention_subgroup", "reduce_subgroup"},
		{"amd range 32-64, 64 KiB", amdProfile, Tuning{Row: 256, Elem: 256, Subgroup: 32}, 32, "attention_subgroup", "reduce_subgroup"},
		{"intel range 8-32", intelProfile, Tuning{Row: 256, Elem: 256, Subgroup: 32}, 32, "attention_subgroup", "reduce_subgroup"},
		{"amd without size control", Features{SubgroupSize: 64, SubgroupArithmetic: true, SubgroupShuffle: true,
			MaxWorkgroupInvocations: 1024, MaxWorkgroupSize: [3]uint32{1024, 1024, 1024}, MaxSharedMemory: 64 << 10},
			Tuning{Row: 256, Elem: 256}, 64, "attention_subgroup", "reduce_subgroup"},
		{"minimal: 128 invocations, 16 KiB", minimalProfile, Tuning{Row: 128, Elem: 128}, 4, "attention", "reduce"},
		{"192 invocations", Features{MaxWorkgroupInvocations: 192, MaxWorkgroupSize: [3]uint32{192, 192, 64}, MaxSharedMemory: 16 << 10},
			Tuning{Row: 128, Elem: 128}, 0, "attention", "reduce"},
		{"first dimension below the invocations", Features{MaxWorkgroupInvocations: 1024, MaxWorkgroupSize: [3]uint32{128, 1024, 64},
			MaxSharedMemory: 32 << 10}, Tuning{Row: 128, Elem: 128}, 0, "attention", "reduce"},
		{"no limits reported", Features{}, Tuning{Row: 256, Elem: 256}, 0, "attention", "reduce"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ChooseTuning(c.info)
			require.Equal(t, c.want, got)
			assert.Equal(t, c.subgroup, got.SubgroupSize(c.info))
			if c.info.MaxWorkgroupInvocations > 0 {
				assert.LessOrEqual(t, got.Row, c.info.MaxWorkgroupInvocations)
				assert.LessOrEqual(t, got.Row*rowSharedPerInvocation, c.info.MaxSharedMemory)
			}
			if got.Subgroup != 0 {
				assert.Zero(t, got.Row%got.Subgroup, "full subgroups need the workgroup to be a multiple of the subgroup size")
				assert.Zero(t, uint32(attnLocal)%got.Subgroup)
			}

			// What runs: the workgroup size in each family's specialization
			// and the required subgroup size of the subgroup kernels.
			dev := &recordingDevice{}
			k := New(dev.device(), c.info, Options{})
			x := tensor.Span{Buf: hostStorage(4096)}
			k.Reduce(tensor.ReduceSum, tensor.Span{Buf: hostStorage(4)}, x, 4, 1024, 1)
			k.Softmax(x, x, 4, 1024, false)
			k.Unary(tensor.OpNeg, tensor.View{Buf: x.Buf, Shape: []int{4096}, Strides: []int{1}},
				tensor.View{Buf: x.Buf, Shape: []int{4096}, Strides: []int{1}}, 0, 0)
			a := tensor.AttentionArgs{B: 1, H: 1, Lq: 2, Lk: 2, D: 32, Scale: 1, Q: x, K: x, V: x, Out: x, Lse: x}
			k.Attention(a)
			require.Empty(t, dev.errs)
			require.Equal(t, []string{c.reduce, "softmax", "unary", c.attention}, dev.launched)
			assert.Equal(t, got.Row, dev.specs[0][len(dev.specs[0])-1], "reduce's workgroup size")
			assert.Equal(t, []uint32{got.Row}, dev.specs[1], "softmax's workgroup size")
			assert.Equal(t, got.Elem, dev.specs[2][2], "unary's workgroup size")
			wantSub := []uint32{0, 0, 0, 0}
			if c.reduce == "reduce_subgroup" {
				wantSub[0] = got.Subgroup
			}
			if c.attention == "attention_subgroup" {
				wantSub[3] = got.Subgroup
			}
			assert.Equal(t, wantSub, dev.subgroups)
			vs := Variants(c.info)
			for i, s := range dev.specs {
				v, ok := FindVariant(vs, dev.launched[i], s, dev.bindings[i])
				require.Truef(t, ok, "%s spec %v is launched but not listed by Variants", dev.launched[i], s)
				assert.Equal(t, dev.subgroups[i], v.Subgroup, dev.launched[i])
			}
		})
	}
}
