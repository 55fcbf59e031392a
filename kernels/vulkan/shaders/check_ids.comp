#version 450
// Id validation for the ops that take ids (tensor's id contract): Gather,
// ScatterAdd and the targets of cross-entropy. One workgroup walks the ids
// in chunks of WG, in order, and stops at the first chunk holding an id
// that is not an integer in [0, rows) (nor the ignore value when the op
// has one); the lowest such position is recorded in the status buffer,
// unless an earlier op recorded one already:
//   status[0] = op code (0: no error), status[1] = position,
//   status[2] = the id's bits, status[3] = rows, status[4] = the ignore
//   value's bits, status[5] = 1 when the op has an ignore value.
// The host reads the status when a batch completes and turns it into the
// backend's sticky error.

layout(constant_id = 0) const uint WG = 256;
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Status0 { uint status[]; };
layout(std430, set = 0, binding = 1) readonly buffer Ids1 { float ids[]; };

layout(push_constant) uniform Push {
    uint offStatus;
    uint offIds;
    uint n;
    uint rows;
    uint op;
    uint hasIgnore;
    float ignoreValue;
} p;

shared uint sBad;

bool valid(float id) {
    if (isnan(id)) {
        return false;
    }
    if (p.hasIgnore != 0u && id == p.ignoreValue) {
        return true;
    }
    return id >= 0.0 && id < float(p.rows) && id == floor(id);
}

void main() {
    uint t = gl_LocalInvocationID.x;
    if (status[p.offStatus] != 0u) {
        return; // an earlier op failed: the first error stands
    }
    for (uint base = 0u; base < p.n; base += WG) {
        if (t == 0u) {
            sBad = 0xffffffffu;
        }
        barrier();
        uint i = base + t;
        if (i < p.n && !valid(ids[p.offIds + i])) {
            atomicMin(sBad, i);
        }
        barrier();
        uint bad = sBad;
        if (bad != 0xffffffffu) {
            if (t == 0u && atomicCompSwap(status[p.offStatus], 0u, p.op) == 0u) {
                status[p.offStatus + 1u] = bad;
                status[p.offStatus + 2u] = floatBitsToUint(ids[p.offIds + bad]);
                status[p.offStatus + 3u] = p.rows;
                status[p.offStatus + 4u] = floatBitsToUint(p.ignoreValue);
                status[p.offStatus + 5u] = p.hasIgnore;
            }
            return;
        }
        barrier();
    }
}
