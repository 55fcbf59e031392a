#!/usr/bin/env python3
"""PyTorch reference of `sargo bench attention`: the unfused path
softmax(scale·QKᵀ + mask)·V with the block-causal mask of a scale schedule
(a token of scale i sees the tokens of scales 0..i), forward, and the
backward through autograd on a retained graph."""

import torch

from bench_common import run


def block_causal_mask(scales, device):
    """Additive [L, L] mask: 0 where visible, -inf elsewhere."""
    ids = torch.cat([torch.full((s * s,), i) for i, s in enumerate(scales)])
    visible = ids[None, :] <= ids[:, None]
    return torch.zeros(visible.shape).masked_fill(~visible, float("-inf")).to(device)


def inputs(p, device, seed, grad):
    g = torch.Generator().manual_seed(seed)
    length = sum(s * s for s in p["scales"])
    shape = (p["b"], p["h"], length, p["d"])
    q, k, v = (torch.randn(shape, generator=g).to(device).requires_grad_(grad) for _ in range(3))
    return q, k, v, block_causal_mask(p["scales"], device)


def attend(q, k, v, mask, scale):
    s = torch.matmul(q, k.transpose(-2, -1)) * scale + mask
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
