// Package tensortest holds test helpers for code built on package tensor.
//
// Layering: test support beside tensor; it imports only tensor, never a
// backend or anything above tensor.
package tensortest

import (
	"fmt"
	"testing"

	"sargo/tensor"
)

// NoLeaks runs f and fails the test when f leaves more storage live on dev
// than there was before it (a tensor that no scope, graph or named owner
// freed), or leaves a scope of dev open. What f keeps on purpose must be
// freed inside it.
func NoLeaks(t testing.TB, dev tensor.Backend, f func()) {
	t.Helper()
	before, scope := dev.MemStats(), tensor.Innermost(dev)
	f()
	after := dev.MemStats()
	if s := tensor.Innermost(dev); s != scope {
		t.Errorf("%s: %s is still open (want %s innermost)", dev.Name(), s, scope)
	}
	if n, b := after.Live()-before.Live(), after.LiveBytes-before.LiveBytes; n != 0 || b != 0 {
		t.Errorf("%s: %d storages (%s) left live: %d allocations and %d frees", dev.Name(), n, Bytes(b),
			after.Allocs-before.Allocs, after.Frees-before.Frees)
	}
}

// NoLeaksOn is NoLeaks on several devices at once, for code that runs on
// all of them (data-parallel training over local devices).
func NoLeaksOn(t testing.TB, devs []tensor.Backend, f func()) {
	t.Helper()
	if len(devs) == 0 {
		f()
		return
	}
	NoLeaks(t, devs[0], func() { NoLeaksOn(t, devs[1:], f) })
}

// Bytes formats a byte count with a binary unit.
func Bytes(n int64) string {
	switch a := max(n, -n); {
	case a >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case a >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
