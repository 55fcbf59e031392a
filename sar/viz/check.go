package viz

import (
	"fmt"
	"image/png"
	"os"
)

// CheckPNG reads the PNG at path and reports an error unless it is at
// least minW×minH pixels and holds at least minColours distinct colours
// (so that it is not blank).
func CheckPNG(path string, minW, minH, minColours int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("check png: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return fmt.Errorf("check png %s: %w", path, err)
	}
	b := img.Bounds()
	if b.Dx() < minW || b.Dy() < minH {
		return fmt.Errorf("check png %s: %dx%d, want at least %dx%d", path, b.Dx(), b.Dy(), minW, minH)
	}
	colours := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y && len(colours) < minColours; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colours) < minColours {
		return fmt.Errorf("check png %s: %d distinct colours, looks blank", path, len(colours))
	}
	return nil
}
