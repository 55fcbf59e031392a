package gltranslate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func includes(files map[string]string) Includer {
	return func(name string) ([]byte, error) {
		s, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("no file %s", name)
		}
		return []byte(s), nil
	}
}

func TestTranslate(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		files map[string]string
		want  []string // substrings of the output
		not   []string // substrings that must be gone
	}{
		{
			name: "version and header",
			src:  "#version 450\nvoid main() {}\n",
			want: []string{"#version 430 core\n// Generated from kernels/vulkan/shaders/version and header by kernels/vulkan/internal/shadergen for OpenGL; DO NOT EDIT.\nvoid main"},
			not:  []string{"450"},
		},
		{
			name:  "include inlined",
			src:   "#version 450\n#extension GL_GOOGLE_include_directive : require\n#include \"a.glsl\"\nvoid main() {}\n",
			files: map[string]string{"a.glsl": "#include \"b.glsl\"\nfloat fa() { return fb(); }\n", "b.glsl": "float fb() { return 1.0; }\n"},
			want:  []string{"// #include \"a.glsl\", inlined:\n// #include \"b.glsl\", inlined:\nfloat fb() { return 1.0; }\nfloat fa()"},
			not:   []string{"GL_GOOGLE_include_directive", "\n#include"},
		},
		{
			name: "storage buffers lose the descriptor set",
			src:  "#version 450\nlayout(std430, set = 0, binding = 3) readonly buffer B3 { float b[]; };\n",
			want: []string{"layout(std430, binding = 3) readonly buffer B3"},
			not:  []string{"set ="},
		},
		{
			name: "push constants become a std140 uniform block",
			src:  "#version 450\nlayout(push_constant) uniform Push {\n\tuint off[4]; // offsets\n\tuint n;\n\tfloat alpha, beta;\n} p;\n",
			want: []string{"layout(std140, binding = 0) uniform Push {\n\tuint off[4]; // offsets"},
			not:  []string{"push_constant"},
		},
		{
			name: "specialization constants of each type",
			src: "#version 450\nlayout(constant_id = 0) const uint WG = 256; // size\nlayout(constant_id = 1) const int S = -1;\n" +
				"layout(constant_id = 2) const float F = 1.5;\nlayout(constant_id = 3) const bool B = true;\n",
			want: []string{
				"DO NOT EDIT.\n#ifndef SARGO_SPEC_0\n#define SARGO_SPEC_0 256u\n#endif\n#ifndef SARGO_SPEC_1\n#define SARGO_SPEC_1 4294967295u\n#endif\n" +
					"#ifndef SARGO_SPEC_2\n#define SARGO_SPEC_2 1069547520u\n#endif\n#ifndef SARGO_SPEC_3\n#define SARGO_SPEC_3 1u\n#endif\n",
				"const uint WG = SARGO_SPEC_0; // size",
				"const int S = int(SARGO_SPEC_1);",
				"const float F = uintBitsToFloat(SARGO_SPEC_2);",
				"const bool B = (SARGO_SPEC_3 != 0u);",
			},
			not: []string{"constant_id"},
		},
		{
			name: "workgroup size from a specialization constant",
			src:  "#version 450\nlayout(local_size_x_id = 0, local_size_y = 4) in;\nlayout(constant_id = 0) const uint WG = 64;\n",
			want: []string{"DO NOT EDIT.\n#ifndef SARGO_SPEC_0\n#define SARGO_SPEC_0 64u\n#endif\nlayout(local_size_x = SARGO_SPEC_0, local_size_y = 4) in;"},
			not:  []string{"local_size_x_id"},
		},
		{
			name: "workgroup size id without a constant defaults to 1",
			src:  "#version 450\nlayout(local_size_x_id = 2) in;\n",
			want: []string{"DO NOT EDIT.\n#ifndef SARGO_SPEC_2\n#define SARGO_SPEC_2 1u\n#endif", "layout(local_size_x = SARGO_SPEC_2) in;"},
		},
		{
			name: "control-flow attributes dropped",
			src:  "#version 450\n#extension GL_EXT_control_flow_attributes : require\nvoid main() { [[unroll]] for (;;) {} [[dependency_length(4), dont_unroll]] while (true) {} x = a[b[0]]; }\n",
			want: []string{"void main() { for (;;) {} while (true) {} x = a[b[0]]; }"},
			not:  []string{"[[", "control_flow"},
		},
		{
			name: "barriers order shared memory",
			src:  "#version 450\nvoid main() { if (t < k) barrier(); barrier ( ) ; memoryBarrier(); groupMemoryBarrier(); }\n",
			want: []string{"if (t < k) { memoryBarrierShared(); barrier(); } { memoryBarrierShared(); barrier(); } memoryBarrier(); groupMemoryBarrier(); }"},
		},
		{
			name: "file-scope variables initialised",
			src: "#version 450\n#define M(x) \\\n    uint tmp; \\\n    x = tmp;\nuint baseA, baseB; // bases\nvec4 stA[4];\nshared float s[64];\nconst uint K = 4;\n" +
				"precise float pf;\n/* float c; */\nstruct S { float f; };\nfloat g = 1.0;\nvoid f() { uint local; barrier(); }\nmat2x3 m;\nvoid main() {}\n",
			want: []string{"uint baseA = uint(0), baseB = uint(0); // bases\nvec4 stA[4];\nshared float s[64];\nconst uint K = 4;\nprecise float pf;\n/* float c; */\n",
				"struct S { float f; };\nfloat g = 1.0;\nvoid f() { uint local; { memoryBarrierShared(); barrier(); } }\nmat2x3 m = mat2x3(0);\n",
				"    uint tmp; \\\n"},
		},
		{
			name: "subgroup extensions kept",
			src:  "#version 450\n#extension GL_KHR_shader_subgroup_arithmetic : require\n",
			want: []string{"#extension GL_KHR_shader_subgroup_arithmetic : require\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Translate(tt.name, []byte(tt.src), includes(tt.files))
			require.NoError(t, err)
			for _, w := range tt.want {
				assert.Contains(t, string(out), w)
			}
			for _, n := range tt.not {
				assert.NotContains(t, string(out), n)
			}
		})
	}
}

func TestTranslateErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"no version", "void main() {}", "no #version line"},
		{"other version", "#version 460\n", "#version 460: the translation expects 450"},
		{"vulkan-only extension", "#version 450\n#extension GL_EXT_scalar_block_layout : require\n", "#extension GL_EXT_scalar_block_layout has no OpenGL 4.3 equivalent"},
		{"second descriptor set", "#version 450\nlayout(std430, set = 1, binding = 0) buffer B { float b[]; };\n", "set = 0 only"},
		{"scalar layout", "#version 450\nlayout(scalar, binding = 0) buffer B { float b[]; };\n", "layout qualifier scalar has no OpenGL equivalent"},
		{"vector push constant", "#version 450\nlayout(push_constant) uniform Push { uvec2 off; } p;\n", "member \"uvec2 off\" has type uvec2"},
		{"two push blocks", "#version 450\nlayout(push_constant) uniform P { uint a; } p;\nlayout(push_constant) uniform Q { uint b; } q;\n", "2 push-constant blocks"},
		{"expression default", "#version 450\nlayout(constant_id = 0) const uint N = 2 * 4;\n", "default \"2 * 4\" is not a uint literal"},
		{"vector constant", "#version 450\nlayout(constant_id = 0) const uvec2 N = uvec2(1);\n", "supports uint, int, float and bool"},
		{"duplicate id", "#version 450\nlayout(constant_id = 0) const uint A = 1;\nlayout(constant_id = 0) const uint B = 2;\n", "id 0 declared twice"},
		{"missing include", "#version 450\n#include \"nope.glsl\"\n", "#include \"nope.glsl\": no file nope.glsl"},
		{"include cycle", "#version 450\n#include \"a.glsl\"\n", "#include cycle"},
	}
	files := includes(map[string]string{"a.glsl": "#include \"a.glsl\"\n"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Translate(tt.name, []byte(tt.src), files)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), tt.name) || strings.Contains(err.Error(), "a.glsl"), err.Error())
		})
	}
}
