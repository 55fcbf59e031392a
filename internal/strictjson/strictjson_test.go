package strictjson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecode(t *testing.T) {
	type cfg struct {
		A int `json:"a"`
	}
	var c cfg
	require.NoError(t, Decode(strings.NewReader(" {\"a\": 3}\n\n"), &c))
	assert.Equal(t, 3, c.A)
	for in, want := range map[string]string{
		`{"a": 1} {"a": 2}`: `trailing data after the JSON value: {"a": 2}`,
		`{"a": 1}}`:         "invalid character '}'",
		`{"a": 1} x`:        "invalid character 'x'",
		`{"b": 1}`:          `unknown field "b"`,
		`{"a": 1`:           "unexpected EOF",
	} {
		err := Decode(strings.NewReader(in), &c)
		assert.ErrorContains(t, err, want, in)
	}
}
