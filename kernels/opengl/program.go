//go:build opengl && cgo

package opengl

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"

	"sargo/internal/atomicfile"
	"sargo/kernels/internal/gltranslate"
)

// shaderFS holds the OpenGL versions of the Vulkan shaders, written by
// go generate ./kernels/vulkan (see kernels/internal/gltranslate).
//
//go:embed shaders/*.comp
var shaderFS embed.FS

// maxSpec is the most specialization constants one launch may pass.
const maxSpec = 16

// programKey identifies a program: shader and specialization constants.
// It is a comparable value so a lookup allocates nothing.
type programKey struct {
	name  string
	spec  [maxSpec]uint32
	nspec int
}

// program is one linked compute program. id is set and used on the GL
// thread.
type program struct {
	name string
	spec []uint32
	id   uint32
}

func (p *program) describe() string {
	if len(p.spec) == 0 {
		return p.name
	}
	return fmt.Sprintf("%s spec %v", p.name, p.spec)
}

// source is shader name's GLSL with spec defined after the #version line.
func source(name string, spec []uint32) (string, error) {
	text, err := shaderFS.ReadFile("shaders/" + name + ".comp")
	if err != nil {
		return "", fmt.Errorf("no embedded shader %s.comp: %w", name, err)
	}
	i := bytes.IndexByte(text, '\n')
	if i < 0 || string(text[:i]) != gltranslate.Version {
		return "", fmt.Errorf("shader %s.comp does not start with %q: run go generate ./kernels/vulkan", name, gltranslate.Version)
	}
	var sb strings.Builder
	sb.Write(text[:i+1])
	for id, v := range spec {
		fmt.Fprintf(&sb, "#define %s %du\n", gltranslate.SpecMacro(id), v)
	}
	sb.Write(text[i+1:])
	return sb.String(), nil
}

// program returns the program of shader name specialised with spec,
// building it on the GL thread on first use. The caller holds b.mu.
func (b *Backend) program(name string, spec []uint32, layout *pushLayout) (*program, error) {
	if len(spec) > maxSpec {
		return nil, fmt.Errorf("%d specialization constants exceed %d", len(spec), maxSpec)
	}
	key := programKey{name: name, nspec: len(spec)}
	copy(key.spec[:], spec)
	if p := b.progs[key]; p != nil {
		return p, nil
	}
	src, err := source(name, spec)
	if err != nil {
		return nil, err
	}
	p := &program{name: name, spec: append([]uint32(nil), spec...)}
	b.submit() // keep the order of the work recorded so far
	b.th.do(func() { err = b.gs.build(p, src, layout, b.cacheDir) })
	if err != nil {
		return nil, fmt.Errorf("build program %s: %w", p.describe(), err)
	}
	b.progs[key] = p
	return p, nil
}

// build compiles and links src into p.id, or loads the program binary
// cached in cacheDir (when set) by a previous build of the same source on
// the same driver, and checks the push-constant block against layout.
func (s *glState) build(p *program, src string, layout *pushLayout, cacheDir string) error {
	id := gl.CreateProgram()
	cached := ""
	if cacheDir != "" {
		cached = filepath.Join(cacheDir, s.binaryKey(src)+".bin")
	}
	if !s.loadBinary(id, cached) {
		if err := compile(id, src); err != nil {
			gl.DeleteProgram(id)
			return err
		}
		s.saveBinary(id, cached)
	}
	s.programs = append(s.programs, id)
	if err := checkPushBlock(id, layout); err != nil {
		return err
	}
	p.id = id
	s.pollDebug(func() string { return "building " + p.describe() })
	return s.firstErr()
}

// compile compiles src as a compute shader and links it into prog.
func compile(prog uint32, src string) error {
	sh := gl.CreateShader(gl.COMPUTE_SHADER)
	defer gl.DeleteShader(sh)
	csrc, free := gl.Strs(src + "\x00")
	gl.ShaderSource(sh, 1, csrc, nil)
	free()
	gl.CompileShader(sh)
	var ok int32
	gl.GetShaderiv(sh, gl.COMPILE_STATUS, &ok)
	if ok == 0 {
		return fmt.Errorf("compile: %s", trimLog(shaderLog(sh)))
	}
	gl.ProgramParameteri(prog, gl.PROGRAM_BINARY_RETRIEVABLE_HINT, gl.TRUE)
	gl.AttachShader(prog, sh)
	gl.LinkProgram(prog)
	gl.DetachShader(prog, sh)
	gl.GetProgramiv(prog, gl.LINK_STATUS, &ok)
	if ok == 0 {
		return fmt.Errorf("link: %s", trimLog(programLog(prog)))
	}
	return nil
}

func shaderLog(sh uint32) string { return infoLog(sh, gl.GetShaderiv, gl.GetShaderInfoLog) }

func programLog(prog uint32) string { return infoLog(prog, gl.GetProgramiv, gl.GetProgramInfoLog) }

// infoLog reads the info log of a shader or program object.
func infoLog(id uint32, getiv func(uint32, uint32, *int32), getLog func(uint32, int32, *int32, *uint8)) string {
	var n int32
	getiv(id, gl.INFO_LOG_LENGTH, &n)
	if n <= 1 {
		return "(no log)"
	}
	buf := make([]uint8, n)
	getLog(id, n, nil, &buf[0])
	return string(buf)
}

// binaryKey names the cached binary of src on this driver.
func (s *glState) binaryKey(src string) string {
	h := sha256.New()
	for _, v := range []string{gl.GoStr(gl.GetString(gl.VENDOR)), gl.GoStr(gl.GetString(gl.RENDERER)), gl.GoStr(gl.GetString(gl.VERSION)), src} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// loadBinary loads the program binary at path into prog; false when there
// is none or the driver rejects it (a driver update, for example).
func (s *glState) loadBinary(prog uint32, path string) bool {
	if path == "" {
		return false
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) <= 4 {
		return false
	}
	format := binary.LittleEndian.Uint32(data)
	gl.ProgramBinary(prog, format, unsafe.Pointer(&data[4]), int32(len(data)-4))
	var ok int32
	gl.GetProgramiv(prog, gl.LINK_STATUS, &ok)
	gl.GetError() // a rejected format is GL_INVALID_ENUM, not the backend's error
	if s.debug {
		s.dropDebug() // nor is the debug message it may leave
	}
	return ok != 0
}

// saveBinary writes prog's binary to path; failures are ignored (the
// cache is an optimisation).
func (s *glState) saveBinary(prog uint32, path string) {
	if path == "" {
		return
	}
	var n int32
	gl.GetProgramiv(prog, gl.PROGRAM_BINARY_LENGTH, &n)
	if n <= 0 {
		return
	}
	data := make([]byte, 4+n)
	var format uint32
	var got int32
	gl.GetProgramBinary(prog, n, &got, &format, unsafe.Pointer(&data[4]))
	if got <= 0 {
		return
	}
	binary.LittleEndian.PutUint32(data, format)
	if os.MkdirAll(filepath.Dir(path), 0o755) == nil {
		_ = atomicfile.WriteFile(path, data[:4+got])
	}
}

// dropDebug empties the debug message log without keeping the messages.
func (s *glState) dropDebug() {
	for gl.GetDebugMessageLog(1, int32(len(s.logBuf)), nil, nil, nil, nil, nil, &s.logBuf[0]) > 0 {
	}
}

// checkPushBlock compares the driver's layout of the program's uniform
// block (the translated push constants) with the std140 layout the host
// packs, so that a Go struct that does not match its shader fails when
// the program is built rather than computing garbage.
func checkPushBlock(prog uint32, layout *pushLayout) error {
	var blocks int32
	gl.GetProgramiv(prog, gl.ACTIVE_UNIFORM_BLOCKS, &blocks)
	if layout == nil {
		if blocks != 0 {
			return fmt.Errorf("the shader has push constants but the kernel passes none")
		}
		return nil
	}
	if blocks != 1 {
		return fmt.Errorf("push constants: the shader has %d uniform blocks, want 1", blocks)
	}
	var n, size int32
	gl.GetActiveUniformBlockiv(prog, 0, gl.UNIFORM_BLOCK_ACTIVE_UNIFORMS, &n)
	gl.GetActiveUniformBlockiv(prog, 0, gl.UNIFORM_BLOCK_DATA_SIZE, &size)
	if int(n) != len(layout.fields) {
		return fmt.Errorf("push constants: the Go struct has %d fields, the shader's block %d members", len(layout.fields), n)
	}
	idx := make([]int32, n)
	gl.GetActiveUniformBlockiv(prog, 0, gl.UNIFORM_BLOCK_ACTIVE_UNIFORM_INDICES, &idx[0])
	uidx := make([]uint32, n)
	for i, v := range idx {
		uidx[i] = uint32(v)
	}
	offs, counts, strides := make([]int32, n), make([]int32, n), make([]int32, n)
	gl.GetActiveUniformsiv(prog, n, &uidx[0], gl.UNIFORM_OFFSET, &offs[0])
	gl.GetActiveUniformsiv(prog, n, &uidx[0], gl.UNIFORM_SIZE, &counts[0])
	gl.GetActiveUniformsiv(prog, n, &uidx[0], gl.UNIFORM_ARRAY_STRIDE, &strides[0])
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return offs[order[a]] < offs[order[b]] })
	for k, i := range order {
		f := layout.fields[k]
		stride := int(strides[i])
		if counts[i] == 1 && stride == 0 {
			stride = 4
		}
		if int(offs[i]) != f.dst || int(counts[i]) != f.n || (f.n > 1 && stride != f.stride) {
			return fmt.Errorf("push constants: field %s (%d elements at byte %d) does not match the shader's member %d (%d elements at byte %d, stride %d)",
				f.name, f.n, f.dst, k, counts[i], offs[i], strides[i])
		}
	}
	if int(size) > layout.size {
		return fmt.Errorf("push constants: the shader's block is %d bytes, the Go struct's std140 layout %d", size, layout.size)
	}
	return nil
}
