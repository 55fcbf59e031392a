package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// pngHeader is a PNG signature and IHDR chunk claiming a w×h 8-bit grey
// image, with no image data.
func pngHeader(w, h uint32) []byte {
	var ihdr bytes.Buffer
	ihdr.WriteString("IHDR")
	_ = binary.Write(&ihdr, binary.BigEndian, [2]uint32{w, h})
	ihdr.Write([]byte{8, 0, 0, 0, 0})
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	_ = binary.Write(&out, binary.BigEndian, uint32(ihdr.Len()-4))
	out.Write(ihdr.Bytes())
	_ = binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(ihdr.Bytes()))
	return out.Bytes()
}

// FuzzLoadFolder writes the input as one image file of a one-class folder
// (named by ext: 0 .png, 1 .jpg, 2 no extension) and loads the folder at
// 8×8 with 1 or 3 channels: it must either fail or give one image of
// finite values in [-1, 1].
func FuzzLoadFolder(f *testing.F) {
	var pngBuf, jpgBuf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 13)
	}
	if err := png.Encode(&pngBuf, img); err != nil {
		f.Fatal(err)
	}
	if err := jpeg.Encode(&jpgBuf, img, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(pngBuf.Bytes(), uint8(0), false)
	f.Add(jpgBuf.Bytes(), uint8(1), true)
	f.Add(pngBuf.Bytes(), uint8(2), true)
	f.Add(pngBuf.Bytes()[:pngBuf.Len()/2], uint8(0), false)
	f.Add(jpgBuf.Bytes()[:jpgBuf.Len()/2], uint8(1), false)
	f.Add(pngHeader(60000, 60000), uint8(0), false)
	f.Add([]byte("GIF89a"), uint8(2), false)
	f.Add([]byte("plain text"), uint8(2), false)
	dir := f.TempDir() // each worker process has its own
	class := filepath.Join(dir, "c")
	f.Fuzz(func(t *testing.T, in []byte, ext uint8, rgb bool) {
		if err := os.RemoveAll(class); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(class, 0o755); err != nil {
			t.Fatal(err)
		}
		name := []string{"x.png", "x.jpg", "x"}[int(ext)%3]
		if err := os.WriteFile(filepath.Join(class, name), in, 0o644); err != nil {
			t.Fatal(err)
		}
		channels := 1
		if rgb {
			channels = 3
		}
		d, err := LoadFolder(dir, 8, channels)
		if err != nil {
			return
		}
		if len(d.Labels) != 1 || len(d.Images) != channels*64 {
			t.Fatalf("%d labels and %d values for one %d-channel image", len(d.Labels), len(d.Images), channels)
		}
		for i, v := range d.Images {
			if math.IsNaN(float64(v)) || v < -1 || v > 1 {
				t.Fatalf("value %d is %v, outside [-1, 1]", i, v)
			}
		}
	})
}
