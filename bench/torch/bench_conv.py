#!/usr/bin/env python3
"""PyTorch reference of `sargo bench conv`: F.conv2d with bias, forward,
and the backward (input, weight and bias gradients) through autograd on a
retained graph."""

import torch
import torch.nn.functional as F

from bench_common import run


def inputs(p, device, seed, grad):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((p["n"], p["cin"], p["h"], p["w"]), generator=g).to(device).requires_grad_(grad)
    w = torch.randn((p["cout"], p["cin"], p["kernel"], p["kernel"]), generator=g).to(device).requires_grad_(grad)
    b = torch.randn((p["cout"],), generator=g).to(device).requires_grad_(grad)
    return x, w, b


def forward(p, device, seed):
    x, w, b = inputs(p, device, seed, False)

    def fn():
        with torch.no_grad():
            return F.conv2d(x, w, b, stride=p["stride"], padding=p["pad"])

    return fn


def backward(p, device, seed):
    x, w, b = inputs(p, device, seed, True)
    y = F.conv2d(x, w, b, stride=p["stride"], padding=p["pad"])
    gy = torch.randn_like(y)
    return lambda: torch.autograd.grad(y, (x, w, b), gy, retain_graph=True)


if __name__ == "__main__":
    run({"conv_forward": forward, "conv_backward": backward})
