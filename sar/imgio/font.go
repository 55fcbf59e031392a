package imgio

import (
	"image"
	"image/color"
	"strings"
)

// A 3x5 pixel font for captions: digits, upper-case letters and a little
// punctuation, each glyph five rows of three bits (most significant bit on
// the left). Lower-case text is drawn in upper case; unknown runes are
// blank.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 3, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7},
	'A': {2, 5, 7, 5, 5}, 'B': {6, 5, 6, 5, 6}, 'C': {3, 4, 4, 4, 3}, 'D': {6, 5, 5, 5, 6},
	'E': {7, 4, 6, 4, 7}, 'F': {7, 4, 6, 4, 4}, 'G': {3, 4, 5, 5, 3}, 'H': {5, 5, 7, 5, 5},
	'I': {7, 2, 2, 2, 7}, 'J': {1, 1, 1, 5, 2}, 'K': {5, 5, 6, 5, 5}, 'L': {4, 4, 4, 4, 7},
	'M': {5, 7, 7, 5, 5}, 'N': {6, 5, 5, 5, 5}, 'O': {2, 5, 5, 5, 2}, 'P': {6, 5, 6, 4, 4},
	'Q': {2, 5, 5, 6, 3}, 'R': {6, 5, 6, 5, 5}, 'S': {3, 4, 2, 1, 6}, 'T': {7, 2, 2, 2, 2},
	'U': {5, 5, 5, 5, 7}, 'V': {5, 5, 5, 5, 2}, 'W': {5, 5, 7, 7, 5}, 'X': {5, 5, 2, 5, 5},
	'Y': {5, 5, 2, 2, 2}, 'Z': {7, 1, 2, 4, 7},
	'-': {0, 0, 7, 0, 0}, '.': {0, 0, 0, 0, 2}, ':': {0, 2, 0, 2, 0}, '=': {0, 7, 0, 7, 0},
	'/': {1, 1, 2, 4, 4}, '_': {0, 0, 0, 0, 7}, '>': {4, 2, 1, 2, 4}, '|': {2, 2, 2, 2, 2},
	'x': {0, 5, 2, 5, 0},
}

// drawText draws s in dark grey with its top-left corner at (x, y),
// clipped to the image.
func drawText(img *image.RGBA, x, y int, s string) {
	ink := color.RGBA{40, 40, 40, 255}
	for i, r := range s {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs[[]rune(strings.ToUpper(string(r)))[0]]
		}
		for row := 0; row < 5; row++ {
			for col := 0; col < 3; col++ {
				if g[row]&(4>>col) != 0 {
					px, py := x+i*glyphW+col, y+row
					if image.Pt(px, py).In(img.Rect) {
						img.SetRGBA(px, py, ink)
					}
				}
			}
		}
	}
}

// TextWidth is the width in pixels of s drawn by the caption font.
func TextWidth(s string) int { return len([]rune(s)) * glyphW }
