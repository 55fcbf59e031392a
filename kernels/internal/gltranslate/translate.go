// Package gltranslate rewrites sargo's Vulkan GLSL compute shaders
// (kernels/vulkan/shaders/*.comp, GL_KHR_vulkan_glsl) into OpenGL 4.3 core
// GLSL, construct by construct, so that one set of kernel sources serves
// both APIs. It runs in go generate (kernels/vulkan/internal/shadergen),
// which commits the result under kernels/opengl/shaders.
//
// The rewrites:
//
//   - #version 450 becomes #version 430 core.
//   - #include "x.glsl" is inlined (OpenGL has no include directive) and
//     #extension GL_GOOGLE_include_directive is dropped.
//   - Control-flow attributes ([[unroll]], [[dont_unroll]], ...) and
//     #extension GL_EXT_control_flow_attributes are dropped: they are hints
//     that OpenGL drivers do not take.
//   - set = 0 is dropped from layout qualifiers (OpenGL has one binding
//     space per resource kind); any other set is an error.
//   - The push-constant block becomes a std140 uniform block at uniform
//     binding PushBinding. Its members must be 4-byte scalars or arrays of
//     them: the host lays the same Go struct out by std140 rules (an array
//     element every 16 bytes), see kernels/opengl.
//   - A specialization constant `layout(constant_id = N) const T NAME = V;`
//     becomes `const T NAME = ...SpecMacro(N)...;` (converted from the
//     macro's bit pattern to T), and the top of the file defines
//     SpecMacro(N) as V's bit pattern unless it is defined already: the
//     runtime defines it as the launch's spec[N] (a uint literal such as
//     256u) right after the #version line. local_size_x_id = N becomes
//     local_size_x = SpecMacro(N).
//   - barrier(); becomes { memoryBarrierShared(); barrier(); }: glslang
//     gives a Vulkan barrier() workgroup-memory semantics, while OpenGL's
//     barrier() orders execution only and leaves shared-memory visibility
//     to memoryBarrierShared() (Mesa's llvmpipe reorders shared loads
//     across a bare barrier()).
//   - A file-scope variable of a basic type declared with no qualifier,
//     array size or initializer (`uint base;`) gets a zero initializer
//     (`uint base = uint(0);`): Mesa's compiler warns when a function reads
//     a global that only a later function assigns, and the backend treats
//     compiler warnings as errors (see initGlobals).
//   - Extensions: GL_KHR_shader_subgroup_* and GL_ARB_* are kept (OpenGL
//     has them as GL_KHR_shader_subgroup and ARB extensions); any other is
//     an error naming it, as are layout qualifiers OpenGL lacks.
//
// Layering: a leaf used by shadergen at generate time and by the OpenGL
// backend when it builds a program; it imports no package of the module.
package gltranslate

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Version is the #version line of every translated shader.
const Version = "#version 430 core"

// PushBinding is the uniform-buffer binding of the push-constant block.
const PushBinding = 0

// SpecMacro is the preprocessor name that carries specialization constant
// id: the runtime defines it (as a uint literal, such as 256u) right after
// the #version line.
func SpecMacro(id int) string { return "SARGO_SPEC_" + strconv.Itoa(id) }

// doNotEdit ends the header comment of a translated shader.
const doNotEdit = "DO NOT EDIT."

// Includer returns the text of an #include'd file.
type Includer func(name string) ([]byte, error)

var (
	versionRe   = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*version[ \t]+(\d+)[^\n]*$`)
	includeRe   = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]+"([^"]+)"[^\n]*$`)
	extensionRe = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*extension[ \t]+(\w+)[ \t]*:[ \t]*(\w+)[^\n]*\n?`)
	attributeRe = regexp.MustCompile(`\[\[\s*\w+(\s*\([^()\]]*\))?(\s*,\s*\w+(\s*\([^()\]]*\))?)*\s*\]\]\s*`)
	specRe      = regexp.MustCompile(`layout\s*\(\s*constant_id\s*=\s*(\d+)\s*\)\s*const\s+(\w+)\s+(\w+)\s*=\s*([^;]+?)\s*;`)
	layoutRe    = regexp.MustCompile(`layout\s*\(([^()]*)\)`)
	pushBlockRe = regexp.MustCompile(`layout\s*\(\s*push_constant\s*\)\s*uniform\s+\w+\s*\{([^}]*)\}`)
	lineComment = regexp.MustCompile(`//[^\n]*`)
	blockComent = regexp.MustCompile(`(?s)/\*.*?\*/`)
	barrierRe   = regexp.MustCompile(`\bbarrier\s*\(\s*\)\s*;`)
	memberRe    = regexp.MustCompile(`^(?:(?:highp|mediump|lowp|precise)\s+)*(\w+)\s+(.+)$`)
	declRe      = regexp.MustCompile(`^(\w+)\s*(\[\s*\w+\s*\])?$`)
)

// Translate returns the OpenGL version of the Vulkan compute shader src
// (named name in errors), resolving #include through include.
func Translate(name string, src []byte, include Includer) ([]byte, error) {
	s, err := inline(name, string(src), include, map[string]bool{})
	if err != nil {
		return nil, err
	}
	m := versionRe.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, fmt.Errorf("%s: no #version line", name)
	}
	if v := s[m[2]:m[3]]; v != "450" {
		return nil, fmt.Errorf("%s: #version %s: the translation expects 450", name, v)
	}
	s = s[:m[0]] + Version + "\n// Generated from kernels/vulkan/shaders/" + name +
		" by kernels/vulkan/internal/shadergen for OpenGL; " + doNotEdit + s[m[1]:]
	if s, err = extensions(name, s); err != nil {
		return nil, err
	}
	s = attributeRe.ReplaceAllString(s, "")
	s = barrierRe.ReplaceAllString(s, "{ memoryBarrierShared(); barrier(); }")
	if err := checkPushBlock(name, s); err != nil {
		return nil, err
	}
	defaults := map[int]string{}
	if s, err = specConstants(name, s, defaults); err != nil {
		return nil, err
	}
	var localOnly []int
	if s, err = layouts(name, s, defaults, &localOnly); err != nil {
		return nil, err
	}
	for _, id := range localOnly {
		defaults[id] = "1u" // a workgroup size id no constant declares defaults to 1, as in Vulkan
	}
	s = initGlobals(s)
	if len(defaults) > 0 {
		// Every default is defined at the top, ahead of any use (a
		// workgroup size may name an id declared further down).
		ids := make([]int, 0, len(defaults))
		for id := range defaults {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		var guard strings.Builder
		for _, id := range ids {
			fmt.Fprintf(&guard, "\n#ifndef %[1]s\n#define %[1]s %[2]s\n#endif", SpecMacro(id), defaults[id])
		}
		i := strings.Index(s, doNotEdit) + len(doNotEdit)
		s = s[:i] + guard.String() + s[i:]
	}
	return []byte(s), nil
}

// inline replaces every #include with the included file's text.
func inline(name, s string, include Includer, active map[string]bool) (string, error) {
	if active[name] {
		return "", fmt.Errorf("%s: #include cycle", name)
	}
	active[name] = true
	defer delete(active, name)
	var out strings.Builder
	last := 0
	for _, m := range includeRe.FindAllStringSubmatchIndex(s, -1) {
		inc := s[m[2]:m[3]]
		if include == nil {
			return "", fmt.Errorf("%s: #include %q with no includer", name, inc)
		}
		text, err := include(inc)
		if err != nil {
			return "", fmt.Errorf("%s: #include %q: %w", name, inc, err)
		}
		body, err := inline(inc, string(text), include, active)
		if err != nil {
			return "", err
		}
		out.WriteString(s[last:m[0]])
		fmt.Fprintf(&out, "// #include %q, inlined:\n%s", inc, strings.TrimRight(body, "\n"))
		last = m[1]
	}
	out.WriteString(s[last:])
	return out.String(), nil
}

// extensions drops the extensions OpenGL does without and rejects those it
// lacks.
func extensions(name, s string) (string, error) {
	var bad error
	s = extensionRe.ReplaceAllStringFunc(s, func(line string) string {
		ext := extensionRe.FindStringSubmatch(line)[1]
		switch {
		case ext == "GL_GOOGLE_include_directive", ext == "GL_EXT_control_flow_attributes":
			return ""
		case strings.HasPrefix(ext, "GL_KHR_shader_subgroup_"), strings.HasPrefix(ext, "GL_ARB_"):
			return line
		}
		if bad == nil {
			bad = fmt.Errorf("%s: #extension %s has no OpenGL 4.3 equivalent the translation knows", name, ext)
		}
		return line
	})
	return s, bad
}

// specConstants rewrites each specialization-constant declaration into a
// constant initialised from its macro, recording each id's default.
func specConstants(name, s string, defaults map[int]string) (string, error) {
	var bad error
	s = specRe.ReplaceAllStringFunc(s, func(decl string) string {
		m := specRe.FindStringSubmatch(decl)
		id, _ := strconv.Atoi(m[1])
		typ, ident, lit := m[2], m[3], m[4]
		bits, expr, err := specValue(typ, lit, SpecMacro(id))
		if err != nil {
			if bad == nil {
				bad = fmt.Errorf("%s: specialization constant %s (id %d): %w", name, ident, id, err)
			}
			return decl
		}
		if _, dup := defaults[id]; dup && bad == nil {
			bad = fmt.Errorf("%s: specialization constant id %d declared twice", name, id)
		}
		defaults[id] = bits
		return fmt.Sprintf("const %s %s = %s;", typ, ident, expr)
	})
	return s, bad
}

// specValue returns the default's bit pattern as a uint literal and the
// expression that converts the macro to typ.
func specValue(typ, lit, macro string) (bits, expr string, err error) {
	lit = strings.TrimSpace(lit)
	switch typ {
	case "uint":
		v, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSuffix(lit, "u"), "U"), 0, 32)
		if err != nil {
			return "", "", fmt.Errorf("default %q is not a uint literal", lit)
		}
		return fmt.Sprintf("%du", v), macro, nil
	case "int":
		v, err := strconv.ParseInt(lit, 0, 32)
		if err != nil {
			return "", "", fmt.Errorf("default %q is not an int literal", lit)
		}
		return fmt.Sprintf("%du", uint32(int32(v))), "int(" + macro + ")", nil
	case "float":
		v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(lit, "f"), "F"), 32)
		if err != nil {
			return "", "", fmt.Errorf("default %q is not a float literal", lit)
		}
		return fmt.Sprintf("%du", math.Float32bits(float32(v))), "uintBitsToFloat(" + macro + ")", nil
	case "bool":
		switch lit {
		case "true":
			return "1u", "(" + macro + " != 0u)", nil
		case "false":
			return "0u", "(" + macro + " != 0u)", nil
		}
		return "", "", fmt.Errorf("default %q is not a bool literal", lit)
	}
	return "", "", fmt.Errorf("type %s: the translation supports uint, int, float and bool", typ)
}

// layouts rewrites the layout qualifiers that differ between the APIs.
// localOnly receives the workgroup-size ids that no constant declares.
func layouts(name string, s string, defaults map[int]string, localOnly *[]int) (string, error) {
	var bad error
	fail := func(err error) {
		if bad == nil {
			bad = err
		}
	}
	pushes := 0
	s = layoutRe.ReplaceAllStringFunc(s, func(q string) string {
		ids := strings.Split(layoutRe.FindStringSubmatch(q)[1], ",")
		var out []string
		for _, id := range ids {
			key, val, hasVal := strings.Cut(id, "=")
			key, val = strings.TrimSpace(key), strings.TrimSpace(val)
			switch {
			case key == "set":
				if val != "0" {
					fail(fmt.Errorf("%s: %s: OpenGL has no descriptor sets; the translation accepts set = 0 only", name, q))
				}
			case key == "push_constant":
				pushes++
				out = append(out, "std140", fmt.Sprintf("binding = %d", PushBinding))
			case strings.HasPrefix(key, "local_size_") && strings.HasSuffix(key, "_id") && hasVal:
				n, err := strconv.Atoi(val)
				if err != nil {
					fail(fmt.Errorf("%s: %s: %s is not an integer", name, q, val))
					continue
				}
				if _, ok := defaults[n]; !ok && !containsInt(*localOnly, n) {
					*localOnly = append(*localOnly, n)
				}
				out = append(out, strings.TrimSuffix(key, "_id")+" = "+SpecMacro(n))
			case key == "constant_id":
				fail(fmt.Errorf("%s: %s: a specialization constant must read `layout(constant_id = N) const TYPE NAME = LITERAL;`", name, q))
			case key == "scalar", key == "buffer_reference", key == "buffer_reference_align",
				key == "input_attachment_index", key == "shaderRecordEXT":
				fail(fmt.Errorf("%s: %s: layout qualifier %s has no OpenGL equivalent", name, q, key))
			default:
				out = append(out, strings.TrimSpace(id))
			}
		}
		return "layout(" + strings.Join(out, ", ") + ")"
	})
	if pushes > 1 {
		fail(fmt.Errorf("%s: %d push-constant blocks; a shader has at most one", name, pushes))
	}
	return s, bad
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// checkPushBlock requires the push-constant block's members to be 4-byte
// scalars or arrays of them, the layouts whose std140 form the host packs.
func checkPushBlock(name, s string) error {
	m := pushBlockRe.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	body := lineComment.ReplaceAllString(blockComent.ReplaceAllString(m[1], ""), "")
	for _, stmt := range strings.Split(body, ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		mm := memberRe.FindStringSubmatch(stmt)
		if mm == nil {
			return fmt.Errorf("%s: push constants: cannot read member %q", name, stmt)
		}
		switch mm[1] {
		case "uint", "int", "float":
		default:
			return fmt.Errorf("%s: push constants: member %q has type %s; the OpenGL translation supports uint, int, float and arrays of them", name, stmt, mm[1])
		}
		for _, d := range strings.Split(mm[2], ",") {
			if !declRe.MatchString(strings.TrimSpace(d)) {
				return fmt.Errorf("%s: push constants: cannot read member %q", name, stmt)
			}
		}
	}
	return nil
}
