package gpu

import "slices"

// A pipeline the kernels launch is a shader, its specialization constants
// and its binding count. Each kernel family lists the pipelines it can
// launch in a variants function beside the code that picks one at launch
// time, built from the same tables and spec helpers, so the lists cannot
// drift from what runs. Variants joins them; the Vulkan backend's shader
// statistics compile every entry, and its conformance test checks that
// every pipeline the suite creates is listed.

// Variant is one pipeline the kernels can launch.
type Variant struct {
	Shader   string   `json:"shader"`  // shaders/<Shader>.comp
	Spec     []uint32 `json:"spec"`    // specialization constants
	Bindings int      `json:"-"`       // storage buffer bindings
	Group    string   `json:"group"`   // variants reported together (a tiling, an op family)
	Label    string   `json:"variant"` // what selects this variant within its group
	// Subgroup is the required subgroup size, 0 for the device's own.
	Subgroup uint32 `json:"required_subgroup_size,omitempty"`
}

// Name is the variant's unique name in reports: its group and label.
func (v Variant) Name() string {
	if v.Label == "" {
		return v.Group
	}
	return v.Group + " " + v.Label
}

// Variants lists every pipeline the kernels launch on a device with
// properties info.
func Variants(info Features) []Variant {
	t := ChooseTuning(info)
	var vs []Variant
	vs = append(vs, elementwiseVariants(t)...)
	vs = append(vs, reduceVariants(info, t)...)
	vs = append(vs, sumMultiVariants(t)...)
	vs = append(vs, matmulVariants(info, t)...)
	vs = append(vs, softmaxVariants(t)...)
	vs = append(vs, normVariants(t)...)
	vs = append(vs, l2normVariants(t)...)
	vs = append(vs, embeddingVariants(t)...)
	vs = append(vs, attentionVariants(info, t)...)
	vs = append(vs, interpolateVariants(t)...)
	vs = append(vs, convVariants(info, t)...)
	vs = append(vs, randomVariants(t)...)
	vs = append(vs, adamwVariants(t)...)
	vs = append(vs, sumsqVariants(t)...)
	vs = append(vs, concatVariants(t)...)
	return vs
}

// FindVariant returns the listed variant of shader name with spec and nbuf
// bindings.
func FindVariant(vs []Variant, name string, spec []uint32, nbuf int) (Variant, bool) {
	for _, v := range vs {
		if v.Shader == name && v.Bindings == nbuf && slices.Equal(v.Spec, spec) {
			return v, true
		}
	}
	return Variant{}, false
}
