#!/usr/bin/env python3
"""PyTorch reference of `sargo bench matmul`: fp32 C = op(A)·op(B), with a
transposed operand passed to BLAS as a transposed view, as sargo does."""

import torch

from bench_common import run


def matmul(p, device, seed):
    g = torch.Generator().manual_seed(seed)
    m, n, k = p["m"], p["n"], p["k"]
    a = torch.rand((k, m) if p["trans_a"] else (m, k), generator=g).to(device)
    b = torch.rand((n, k) if p["trans_b"] else (k, n), generator=g).to(device)
    a = a.t() if p["trans_a"] else a
    b = b.t() if p["trans_b"] else b
    c = torch.empty((m, n), device=device)
    return lambda: torch.mm(a, b, out=c)


if __name__ == "__main__":
    run({"matmul": matmul})
