#version 450
// Attention forward with the row reductions through shared memory, for
// devices without subgroup shuffles. The kernel is attention_forward.glsl.
#extension GL_GOOGLE_include_directive : require
#define ATTN_SUBGROUP 0
#include "attention_forward.glsl"
