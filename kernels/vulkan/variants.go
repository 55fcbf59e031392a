package vulkan

import (
	"fmt"
	"slices"
)

// A pipeline the backend launches is a shader, its specialization
// constants and its binding count. Each kernel family lists the pipelines
// it can launch in a variants function beside the code that picks one at
// launch time, built from the same tables and spec helpers, so the lists
// cannot drift from what runs. kernelVariants joins them; the shader
// statistics (stats.go) compile every entry, and TestVariantsCoverLaunches
// checks that every pipeline the conformance suite creates is listed.

// variant is one pipeline the backend can launch.
type variant struct {
	shader string   // shaders/<shader>.spv
	spec   []uint32 // specialization constants
	nbuf   int      // storage buffer bindings
	group  string   // variants reported together (a tiling, an op family)
	label  string   // what selects this variant within its group
}

// name is the variant's unique name in reports.
func (v variant) name() string {
	if v.label == "" {
		return v.group
	}
	return v.group + " " + v.label
}

// statsHeadDims are the attention head dimensions the shader statistics
// compile; launches take any head dim up to attnMaxD, each its own pipeline.
var statsHeadDims = []int{32, 64, 128}

// kernelVariants lists every pipeline the backend launches on a device
// described by info, with attention specialised for each of headDims.
func kernelVariants(info DeviceInfo, headDims []int) []variant {
	var vs []variant
	vs = append(vs, elementwiseVariants()...)
	vs = append(vs, reduceVariants(info)...)
	vs = append(vs, matmulVariants(info)...)
	vs = append(vs, softmaxVariants()...)
	vs = append(vs, normVariants()...)
	vs = append(vs, embeddingVariants()...)
	vs = append(vs, attentionVariants(headDims)...)
	vs = append(vs, interpolateVariants()...)
	vs = append(vs, convVariants(info)...)
	vs = append(vs, randomVariants()...)
	vs = append(vs, adamwVariants()...)
	return vs
}

// attentionVariants lists the attention pipelines for each head dim: the
// forward, and the backward's row dot, dQ and dK/dV kernels.
func attentionVariants(headDims []int) []variant {
	var vs []variant
	for _, d := range headDims {
		label := fmt.Sprintf("D=%d", d)
		spec := attnSpec(d)
		vs = append(vs,
			variant{shader: "attention", spec: spec, nbuf: 8, group: "attention", label: label},
			variant{shader: "attention_backward_dq", spec: spec, nbuf: 10, group: "attention_backward_dq", label: label},
			variant{shader: "attention_backward_dkdv", spec: spec, nbuf: 11, group: "attention_backward_dkdv", label: label})
	}
	return append(vs, variant{shader: "attention_backward_dot", spec: []uint32{64}, nbuf: 3, group: "attention_backward_dot"})
}

// findVariant returns the listed variant of shader name with spec and nbuf
// bindings.
func findVariant(vs []variant, name string, spec []uint32, nbuf int) (variant, bool) {
	for _, v := range vs {
		if v.shader == name && v.nbuf == nbuf && slices.Equal(v.spec, spec) {
			return v, true
		}
	}
	return variant{}, false
}

// Pipeline names one pipeline variant the backend can launch.
type Pipeline struct {
	Shader  string   `json:"shader"`
	Group   string   `json:"group"`
	Variant string   `json:"variant"`
	Spec    []uint32 `json:"spec"`
}

// Pipelines lists the pipeline variants the backend launches on a device
// described by info (attention at head dims 32, 64 and 128), as the shader
// statistics compile them.
func Pipelines(info DeviceInfo) []Pipeline {
	var ps []Pipeline
	for _, v := range kernelVariants(info, statsHeadDims) {
		ps = append(ps, Pipeline{Shader: v.shader, Group: v.group, Variant: v.label, Spec: v.spec})
	}
	return ps
}
