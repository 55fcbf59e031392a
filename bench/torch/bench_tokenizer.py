#!/usr/bin/env python3
"""PyTorch reference of `sargo bench tokenizer`: one training step of the VQ
tokenizer (bench_flexvar.VQ) at its largest scale: encode, quantize,
decode, mean|x̂−x| + mean((x̂−x)²) + VQ loss, backward, gradient-norm
clipping and AdamW."""

import torch

from bench_common import run
from bench_flexvar import VQ


def tokenizer_step(p, device, seed):
    torch.manual_seed(seed)
    vq = VQ(p).to(device).train()
    opt = torch.optim.AdamW(vq.parameters(), lr=p["lr"], betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    x = (torch.rand(p["batch"], p["image_channels"], p["image_size"], p["image_size"]) * 2 - 1).to(device)

    def fn():
        z, _, vq_loss = vq.quantize(vq.encoder(x))
        d = vq.decode(z) - x
        loss = d.abs().mean() + (d * d).mean() + vq_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vq.parameters(), p["clip"])
        opt.step()

    return fn


if __name__ == "__main__":
    run({"tokenizer_step": tokenizer_step})
