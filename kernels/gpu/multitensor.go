package gpu

import (
	"fmt"

	"sargo/tensor"
)

// Multi-tensor kernels: one dispatch works on several tensors that live in
// storages of their own. shaders/multi.glsl declares MaxBindings storage
// buffers b0..b10 and reads or writes binding k through a switch, so a
// tensor is named by its binding index and element offset in the push
// constants, and the tensors of a dispatch form one index space (part k
// covers [end[k-1], end[k])). A dispatch binds all MaxBindings slots;
// slots its tensors do not need repeat binding 0, unread.

// bindingSet collects the distinct storages of one multi-tensor dispatch.
type bindingSet struct {
	bufs [MaxBindings]Binding
	n    int
}

// index is the slot of s (appended if new, written when w), or -1 when
// all slots are taken by other storages.
func (bs *bindingSet) index(s tensor.Storage, w bool) int {
	for i := range bs.n {
		if bs.bufs[i].Storage == s {
			bs.bufs[i].Write = bs.bufs[i].Write || w
			return i
		}
	}
	if bs.n == MaxBindings {
		return -1
	}
	bs.bufs[bs.n] = Binding{Storage: s, Write: w}
	bs.n++
	return bs.n - 1
}

// fits reports whether the storages ss fit in the free slots.
func (bs *bindingSet) fits(ss ...tensor.Storage) bool {
	extra := 0
	for i, s := range ss {
		seen := false
		for j := range bs.n {
			seen = seen || bs.bufs[j].Storage == s
		}
		for _, t := range ss[:i] {
			seen = seen || t == s
		}
		if !seen {
			extra++
		}
	}
	return bs.n+extra <= MaxBindings
}

// all is the full binding list: the used slots, then binding 0 again.
func (bs *bindingSet) all() []Binding {
	out := bs.bufs
	for i := bs.n; i < MaxBindings; i++ {
		out[i] = Binding{Storage: bs.bufs[0].Storage}
	}
	return out[:]
}

// checkIndexRange fails when n elements cannot be addressed by the
// shaders' 32-bit indices.
func (b *Kernels) checkIndexRange(op string, n int) bool {
	if n > 1<<32-1 {
		b.dev.Fail(fmt.Errorf("%s: %d elements exceed the 32-bit index range", op, n))
		return false
	}
	return true
}
