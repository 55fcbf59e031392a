#version 450
// Attention forward with the row reductions through subgroup shuffles
// (GL_KHR_shader_subgroup_shuffle, subgroups of at least 8 invocations
// that divide the workgroup). The kernel is attention_forward.glsl.
#extension GL_GOOGLE_include_directive : require
#define ATTN_SUBGROUP 1
#include "attention_forward.glsl"
