package gpu

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/tensor"
)

// recordingDevice records the shaders launched and the errors reported,
// and allocates host storages.
type recordingDevice struct {
	launched  []string
	specs     [][]uint32
	bindings  []int
	subgroups []uint32
	errs      []error
}

type hostStorage int

func (s hostStorage) Len() int { return int(s) }

func (d *recordingDevice) device() Device {
	return Device{
		Launch: func(disp *Dispatch) {
			d.launched = append(d.launched, disp.Name)
			d.specs = append(d.specs, slices.Clone(disp.SpecConstants()))
			d.bindings = append(d.bindings, disp.NBuf)
			d.subgroups = append(d.subgroups, disp.Subgroup)
		},
		Alloc:  func(n int) tensor.Storage { return hostStorage(n) },
		Free:   func(tensor.Storage) {},
		Fail:   func(err error) { d.errs = append(d.errs, err) },
		Status: func() tensor.Storage { return hostStorage(StatusWords) },
	}
}

func TestAttentionVariants(t *testing.T) {
	full := Features{SubgroupSize: 32, SubgroupShuffle: true, MaxSharedMemory: 48 << 10}
	for _, c := range []struct {
		name    string
		info    Features
		opt     Options
		d       int
		forward string
		spec    uint32
		err     string
	}{
		{"shuffles", full, Options{}, 64, "attention_subgroup", 64, ""},
		{"no subgroups asked", full, Options{NoSubgroups: true}, 64, "attention", 64, ""},
		{"no shuffles", Features{SubgroupSize: 32, MaxSharedMemory: 48 << 10}, Options{}, 64, "attention", 64, ""},
		{"subgroups of 4", Features{SubgroupSize: 4, SubgroupShuffle: true, MaxSharedMemory: 48 << 10}, Options{}, 64, "attention", 64, ""},
		{"subgroups of 8", Features{SubgroupSize: 8, SubgroupShuffle: true, MaxSharedMemory: 48 << 10}, Options{}, 1, "attention_subgroup", 32, ""},
		{"head dim rounded up", full, Options{}, 33, "attention_subgroup", 64, ""},
		{"largest head dim", full, Options{}, 128, "attention_subgroup", 128, ""},
		{"head dim too large", full, Options{}, 129, "", 0, "head dim 129 exceeds 128"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dev := &recordingDevice{}
			k := New(dev.device(), c.info, c.opt)
			a := tensor.AttentionArgs{B: 1, H: 2, Lq: 3, Lk: 5, D: c.d, Scale: 1,
				Q: tensor.Span{Buf: hostStorage(6 * c.d)}, K: tensor.Span{Buf: hostStorage(10 * c.d)}, V: tensor.Span{Buf: hostStorage(10 * c.d)},
				Out: tensor.Span{Buf: hostStorage(6 * c.d)}, Lse: tensor.Span{Buf: hostStorage(6)}}
			k.Attention(a)
			k.AttentionBackward(a, tensor.AttentionGrads{GradOut: a.Out, GradQ: a.Q, GradK: a.K, GradV: a.V})
			if c.err != "" {
				require.Len(t, dev.errs, 2)
				require.ErrorContains(t, dev.errs[0], c.err)
				require.Empty(t, dev.launched)
				return
			}
			require.Empty(t, dev.errs)
			require.Equal(t, []string{c.forward, "attention_backward_dq", "attention_backward_dkdv"}, dev.launched)
			vs := Variants(c.info)
			for i, s := range dev.specs {
				require.Equal(t, []uint32{c.spec}, s)
				_, ok := FindVariant(vs, dev.launched[i], s, dev.bindings[i])
				require.Truef(t, ok, "%s spec %v with %d bindings is launched but not listed by Variants", dev.launched[i], s, dev.bindings[i])
			}
		})
	}
}
