#!/usr/bin/env python3
"""PyTorch reference of `sargo bench attention`: softmax(scale·QKᵀ + mask)·V
with the block-causal mask of a scale schedule (a token of scale i sees the
tokens of scales 0..i), or unmasked over "length" tokens when the case has
no scales; forward, and the backward through autograd on a retained graph.

The request's attention option picks PyTorch's path: "unfused" (the
default) computes the scores, the softmax and the product with separate
matmuls; "sdpa" calls torch.nn.functional.scaled_dot_product_attention
(PyTorch 2.1 or later), which picks a fused kernel where it has one."""

import torch
import torch.nn.functional as F

from bench_common import HAS_SDPA, options, run


def block_causal_visible(scales):
    """Boolean [L, L]: True where a query (row) sees a key (column)."""
    ids = torch.cat([torch.full((s * s,), i) for i, s in enumerate(scales)])
    return ids[None, :] <= ids[:, None]


def block_causal_mask(scales, device):
    """Additive [L, L] mask: 0 where visible, -inf elsewhere."""
    visible = block_causal_visible(scales)
    return torch.zeros(visible.shape).masked_fill(~visible, float("-inf")).to(device)


def length_of(p):
    scales = p.get("scales") or []
    return sum(s * s for s in scales) if scales else int(p["length"])


def inputs(p, device, seed, grad):
    """Q, K, V and the mask of the chosen path: additive for the unfused
    path, boolean for sdpa, None when the case is unmasked."""
    g = torch.Generator().manual_seed(seed)
    shape = (p["b"], p["h"], length_of(p), p["d"])
    q, k, v = (torch.randn(shape, generator=g).to(device).requires_grad_(grad) for _ in range(3))
    mask = None
    if p.get("scales"):
        mask = block_causal_visible(p["scales"]).to(device) if sdpa() else block_causal_mask(p["scales"], device)
    return q, k, v, mask


def sdpa():
    """Whether the request asks for scaled_dot_product_attention."""
    if options()["attention"] != "sdpa":
        return False
    if not HAS_SDPA:
        raise RuntimeError(f"scaled_dot_product_attention with a scale needs PyTorch 2.1 or later, not {torch.__version__}")
    return True


def attend(q, k, v, mask, scale):
    if sdpa():
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    s = torch.matmul(q, k.transpose(-2, -1)) * scale
    if mask is not None:
        s = s + mask
    return torch.matmul(torch.softmax(s, dim=-1), v)


def forward(p, device, seed):
    q, k, v, mask = inputs(p, device, seed, False)

    def fn():
        with torch.no_grad():
            return attend(q, k, v, mask, p["scale"])

    return fn


def backward(p, device, seed):
    q, k, v, mask = inputs(p, device, seed, True)
    out = attend(q, k, v, mask, p["scale"])
    gout = torch.randn_like(out)
    return lambda: torch.autograd.grad(out, (q, k, v), gout, retain_graph=True)


if __name__ == "__main__":
    run({"attention_forward": forward, "attention_backward": backward})
