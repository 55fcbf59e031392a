package imgio

import (
	"bytes"
	"fmt"
	"image"
	"strings"

	// The formats Decode accepts.
	_ "image/jpeg"
	_ "image/png"
)

// MaxPixels is the largest image, in pixels, Decode accepts: 64 Mpixel, far
// above any training image and small enough that a header declaring a
// huge size cannot make the decoder allocate gigabytes.
const MaxPixels = 1 << 26

// CheckSize returns an error when data starts with a PNG or JPEG header
// that declares more than MaxPixels pixels. A header it cannot read is
// left to the decoder to report.
func CheckSize(data []byte) error {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return fmt.Errorf("image header declares %dx%d pixels, more than the %d-pixel limit", cfg.Width, cfg.Height, MaxPixels)
	}
	return nil
}

// Decode decodes a PNG or JPEG held in data after checking the size its
// header declares (CheckSize), and returns the image and its format name
// ("png" or "jpeg"). An image with no pixels is an error.
func Decode(data []byte) (image.Image, string, error) {
	if err := CheckSize(data); err != nil {
		return nil, "", err
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	switch {
	case err == image.ErrFormat:
		return nil, "", fmt.Errorf("not a PNG or JPEG image")
	case err != nil:
		return nil, format, fmt.Errorf("corrupt or truncated %s image: %w", strings.ToUpper(format), err)
	}
	if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 {
		return nil, format, fmt.Errorf("empty image %dx%d", b.Dx(), b.Dy())
	}
	return img, format, nil
}
