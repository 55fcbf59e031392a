package tensor_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// panicText runs f and returns what it panicked with ("" when it did not).
func panicText(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestScopeFreesWhatItOwns(t *testing.T) {
	b := cpu(t)
	tensortest.NoLeaks(t, b, func() {
		s := tensor.NewScope(b)
		x := tensor.Ones(b, 2, 3)
		y := tensor.Exp(x).Transpose(0, 1) // a view of a temporary
		require.True(t, s.Owns(x))
		require.True(t, s.Owns(y))
		require.Equal(t, 3, s.Len()) // x, exp(x) and the view
		require.Same(t, s, tensor.Innermost(b))
		s.Close()
		require.Nil(t, tensor.Innermost(b))
		assert.Contains(t, panicText(func() { y.Data() }), "after its scope (opened at sargo/tensor/scope_test.go:")
		s.Close() // a second Close does nothing
	})
}

func TestKeepMovesToTheEnclosingScope(t *testing.T) {
	b := cpu(t)
	tensortest.NoLeaks(t, b, func() {
		outer := tensor.NewScope(b)
		inner := tensor.NewScope(b)
		x := tensor.Full(b, 2, 4)
		v := tensor.Full(b, 3, 4).Reshape(2, 2) // only the view is kept
		inner.Keep(x, v)
		inner.Close()
		require.True(t, outer.Owns(x))
		require.Equal(t, []float32{2, 2, 2, 2}, x.Data())
		require.Equal(t, []float32{3, 3, 3, 3}, v.Data(), "a kept view keeps its storage")
		outer.Keep(x) // outermost: to the caller
		outer.Close()
		require.Equal(t, []float32{2, 2, 2, 2}, x.Data())
		x.Release()
	})
}

func TestEscapeAndRelease(t *testing.T) {
	b := cpu(t)
	tensortest.NoLeaks(t, b, func() {
		s := tensor.NewScope(b)
		kept := tensor.Zeros(b, 3)
		tensor.Escape(kept)
		require.False(t, s.Owns(kept))
		tmp := tensor.Zeros(b, 5)
		tmp.Release() // early: the scope forgets it
		require.Equal(t, 0, s.Len())
		s.Close()
		require.Equal(t, []float32{0, 0, 0}, kept.Data())
		kept.Release()
		kept.Release() // idempotent
		assert.Contains(t, panicText(func() { kept.Data() }), "used after Release")
	})
}

func TestScopeMisuseIsLoud(t *testing.T) {
	b := cpu(t)
	outer := tensor.NewScope(b)
	inner := tensor.NewScope(b)
	assert.Contains(t, panicText(outer.Close), "while scope opened at sargo/tensor/scope_test.go:")
	other := tensor.NewScope(b)
	x := tensor.Zeros(b, 1)
	assert.Contains(t, panicText(func() { inner.Keep(x) }), "Keep of Tensor[1]@cpu owned by scope opened at")
	other.Close()
	inner.Close()
	assert.Contains(t, panicText(func() { inner.Keep(x) }), "which is closed")
	outer.Close()
}

func TestMemStatsCount(t *testing.T) {
	b := cpu(t)
	s := tensor.NewScope(b)
	defer s.Close()
	b.ResetPeak()
	before := b.MemStats()
	x := tensor.Zeros(b, 100)
	y := tensor.Empty(b, 28)
	mid := b.MemStats().Sub(before)
	assert.Equal(t, int64(2), mid.Allocs)
	assert.Equal(t, int64(512), mid.AllocatedBytes)
	assert.Equal(t, int64(400), mid.ZeroFilledBytes, "Empty is not filled")
	assert.Equal(t, before.LiveBytes+512, mid.LiveBytes)
	x.Release()
	y.Release()
	after := b.MemStats()
	assert.Equal(t, before.Live(), after.Live())
	assert.Equal(t, before.LiveBytes+512, after.PeakBytes)
}

// TestReopen reuses one scope for two rounds: each round's tensors belong
// to it and are freed at its Close, a tensor of the first round stays
// freed, and reopening an open scope panics.
func TestReopen(t *testing.T) {
	b := cpu(t)
	tensortest.NoLeaks(t, b, func() {
		outer := tensor.NewScope(b)
		defer outer.Close()
		s := tensor.NewScope(b)
		first := tensor.Ones(b, 3)
		s.Close()
		s.Reopen()
		require.Same(t, s, tensor.Innermost(b))
		second := tensor.Ones(b, 3)
		require.True(t, s.Owns(second))
		assert.Contains(t, panicText(s.Reopen), "which is open")
		s.Close()
		require.Same(t, outer, tensor.Innermost(b))
		assert.Contains(t, panicText(func() { first.Data() }), "after its scope")
		assert.Contains(t, panicText(func() { second.Data() }), "after its scope")
	})
}
