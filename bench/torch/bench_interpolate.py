#!/usr/bin/env python3
"""PyTorch reference of `sargo bench interpolate`: F.interpolate with
align_corners=False (bicubic) or area (adaptive average pooling) over a set
of (from, to) side pairs, forward, and the backward through autograd on a
retained graph."""

import torch
import torch.nn.functional as F

from bench_common import run


def resize(x, size, mode):
    if mode == "area":
        return F.interpolate(x, size=(size, size), mode="area")
    return F.interpolate(x, size=(size, size), mode=mode, align_corners=False)


def inputs(p, device, seed, grad):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn((1, p["planes"], a, a), generator=g).to(device).requires_grad_(grad), b) for a, b in p["pairs"]]


def forward(p, device, seed):
    xs = inputs(p, device, seed, False)

    def fn():
        with torch.no_grad():
            return [resize(x, b, p["mode"]) for x, b in xs]

    return fn


def backward(p, device, seed):
    xs = inputs(p, device, seed, True)
    ys = [resize(x, b, p["mode"]) for x, b in xs]
    gs = [torch.randn_like(y) for y in ys]
    srcs = [x for x, _ in xs]
    return lambda: torch.autograd.grad(ys, srcs, gs, retain_graph=True)


if __name__ == "__main__":
    run({"interpolate_forward": forward, "interpolate_backward": backward})
