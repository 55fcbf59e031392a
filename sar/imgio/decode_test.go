package imgio

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pngHeader returns the signature and IHDR chunk of a PNG declaring w×h
// 8-bit grey pixels, with no image data after it.
func pngHeader(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth; colour type 0 (grey), no interlace
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(ihdr)))
	buf.Write(chunk)
	_ = binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	var small bytes.Buffer
	require.NoError(t, png.Encode(&small, image.NewGray(image.Rect(0, 0, 3, 2))))
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"valid", small.Bytes(), ""},
		{"huge header", pngHeader(100000, 100000), "more than the 67108864-pixel limit"},
		{"truncated", pngHeader(4, 4), "corrupt or truncated PNG image"},
		{"not an image", []byte("hello"), "not a PNG or JPEG image"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, _, err := Decode(tc.data)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, image.Rect(0, 0, 3, 2), img.Bounds())
		})
	}
}
