#!/usr/bin/env python3
"""PyTorch reference of `sargo bench train`: one optimiser step of the
FlexVAR transformer (bench_flexvar.FlexVAR) on a fixed batch, with teacher
forcing (tf) or SAR (teacher forcing, then the student pass over the first
scale and the last scale, whose input is the argmax teacher's ids at the
scale before, embedded and bicubic-upsampled; L = L_TF + sigma·L_CSFL).
Gradient-norm clipping and AdamW (decay on matrices only) as sargo."""

import torch
import torch.nn.functional as F

from bench_common import run
from bench_flexvar import FlexVAR, block_causal_mask, embed, param_groups, upsample_tokens


def train_step(p, device, seed):
    torch.manual_seed(seed)
    scales, b = p["scales"], p["batch"]
    model = FlexVAR(p).to(device).train()
    opt = torch.optim.AdamW(param_groups(model, p["weight_decay"]), lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=1e-8)
    codebook = F.normalize(torch.randn(p["vocab"], p["cvae"]), dim=-1).to(device)
    ids = [torch.randint(0, p["vocab"], (b, s * s)).to(device) for s in scales]
    z = [embed(codebook, i, s) for i, s in zip(ids, scales)]
    inputs = torch.cat([upsample_tokens(z[k - 1], scales[k]) for k in range(1, len(scales))], 1)
    target = torch.cat(ids, 1)
    labels = (torch.arange(b) % p["num_classes"]).to(device)
    mask = block_causal_mask(scales, device)
    student = [scales[0], scales[-1]]
    mask2 = block_causal_mask(student, device)
    offs = [sum(s * s for s in scales[:k]) for k in range(len(scales))]
    n, v = len(scales), p["vocab"]

    def fn():
        logits = model(labels, scales, inputs, mask)
        loss = F.cross_entropy(logits.reshape(-1, v), target.reshape(-1))
        if p["method"] == "sar":
            with torch.no_grad():
                prev, last = scales[n - 2], scales[n - 1]
                t_prev = logits[:, offs[n - 2] : offs[n - 2] + prev * prev].argmax(-1)
                t_last = logits[:, offs[n - 1] : offs[n - 1] + last * last].argmax(-1)
                sin = upsample_tokens(embed(codebook, t_prev, prev), last)
            zs = model(labels, student, sin, mask2)
            csfl = F.cross_entropy(zs[:, scales[0] ** 2 :].reshape(-1, v), t_last.reshape(-1))
            loss = loss + p["sigma"] * csfl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), p["clip"])
        opt.step()

    return fn


if __name__ == "__main__":
    run({"train_step": train_step})
