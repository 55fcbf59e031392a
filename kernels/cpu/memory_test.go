package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoolRecyclesByClass(t *testing.T) {
	b := New()
	s := b.Alloc(1000).(*Buffer)
	s.Data[0] = 7
	b.Free(s)
	again := b.Alloc(990).(*Buffer) // the same class (4000 bytes round to 4096)
	require.Same(t, s, again, "a freed buffer of the class is handed out again")
	assert.Equal(t, float32(7), again.Data[0], "Alloc does not clear it")
	assert.Len(t, again.Data, 990)
	other := b.Alloc(2000).(*Buffer) // another class: a new buffer
	assert.NotSame(t, s, other)
	st := b.MemStats()
	assert.Equal(t, int64(3), st.Allocs)
	assert.Equal(t, int64(1), st.Frees)
	assert.Equal(t, int64(990+2000)*4, st.LiveBytes)
	assert.Equal(t, int64(4096+8192), st.ReservedBytes)
	b.Free(again)
	b.Free(other)
	assert.Panics(t, func() { b.Free(other) }, "a second Free is a bug")
	assert.Zero(t, b.MemStats().Live())
}
