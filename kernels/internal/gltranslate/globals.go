package gltranslate

import (
	"regexp"
	"strings"
)

// globalDeclRe matches a file-scope statement (comments and preprocessor
// lines blanked) that declares variables of one basic type with no
// qualifier, array size or initializer: `uint baseA, baseB`.
var globalDeclRe = regexp.MustCompile(`^\s*(float|int|uint|bool|[biu]?vec[234]|mat[234](?:x[234])?)\s+(\w+(?:\s*,\s*\w+)*)\s*$`)

var identRe = regexp.MustCompile(`\w+`)

// initGlobals gives every file-scope variable of a basic type declared
// without a qualifier, array size or initializer a zero initializer
// (`uint baseA;` becomes `uint baseA = uint(0);`). Such a variable is
// undefined until a shader assigns it, and the shaders assign before they
// read; but Mesa's GLSL compiler checks that in source order, and warns
// ("used uninitialized") when a function reads a global that only a later
// function, such as main, assigns. Arrays are left alone: they are not
// checked.
func initGlobals(s string) string {
	m := blankNonCode(s)
	type insert struct {
		at   int
		text string
	}
	var ins []insert
	depth, start := 0, 0
	for i := 0; i < len(m); i++ {
		switch m[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				start = i + 1
			}
		case ';':
			if depth != 0 {
				continue
			}
			stmt := m[start:i]
			if d := globalDeclRe.FindStringSubmatchIndex(stmt); d != nil {
				typ := stmt[d[2]:d[3]]
				for _, id := range identRe.FindAllStringIndex(stmt[d[4]:d[5]], -1) {
					ins = append(ins, insert{start + d[4] + id[1], " = " + typ + "(0)"})
				}
			}
			start = i + 1
		}
	}
	if len(ins) == 0 {
		return s
	}
	var out strings.Builder
	last := 0
	for _, in := range ins {
		out.WriteString(s[last:in.at])
		out.WriteString(in.text)
		last = in.at
	}
	out.WriteString(s[last:])
	return out.String()
}

// blankNonCode returns s with comments and preprocessor lines (with their
// continuation lines) replaced by spaces, newlines kept, so that offsets
// into the result are offsets into s.
func blankNonCode(s string) string {
	b := []byte(s)
	lineStart := true
	for i := 0; i < len(b); {
		switch {
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				b[i] = ' '
				i++
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			stop := len(b)
			if end >= 0 {
				stop = i + 2 + end + 2
			}
			for ; i < stop; i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
		case lineStart && b[i] == '#':
			// a directive runs to the first newline not escaped by a backslash
			for i < len(b) && (b[i] != '\n' || (i > 0 && s[i-1] == '\\')) {
				if b[i] != '\n' {
					b[i] = ' '
				}
				i++
			}
		default:
			if b[i] == '\n' {
				lineStart = true
			} else if b[i] != ' ' && b[i] != '\t' {
				lineStart = false
			}
			i++
		}
	}
	return string(b)
}
