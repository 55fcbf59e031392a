package tokenizer

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFingerprint checks that the fingerprint survives a save and load,
// and that other weights give another one.
func TestFingerprint(t *testing.T) {
	c := smallConfig(4)
	a, err := New(c, cpu(t), 1)
	require.NoError(t, err)
	b, err := New(c, cpu(t), 2)
	require.NoError(t, err)
	fa, err := a.Fingerprint()
	require.NoError(t, err)
	fb, err := b.Fingerprint()
	require.NoError(t, err)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, fa)
	assert.NotEqual(t, fa, fb)
	assert.Equal(t, fa[:23], ShortFingerprint(fa))

	path := filepath.Join(t.TempDir(), CheckpointFile)
	require.NoError(t, a.Save(path, nil))
	back, _, err := Load(path, cpu(t))
	require.NoError(t, err)
	fback, err := back.Fingerprint()
	require.NoError(t, err)
	assert.Equal(t, fa, fback)
}
