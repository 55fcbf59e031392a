#!/usr/bin/env python3
"""PyTorch reference of `sargo bench sample`: class-conditional generation
with the FlexVAR transformer's KV cache, one step per scale: the batch is
doubled with null labels, the logits of step k are mixed as
(1+t)·cond − t·uncond with t = CFG·k/(n−1), filtered by top-k and top-p and
sampled; the ids are embedded with the tokenizer's codebook, bicubic-
upsampled to the next scale as its input, and the last scale is decoded by
the VQ decoder."""

import torch

from bench_common import run
from bench_flexvar import VQ, FlexVAR, embed, upsample_tokens


def sample_ids(logits, top_k, top_p, gen):
    """One id per row of [R, V] logits after top-k and top-p filtering."""
    vals, idx = torch.topk(logits, top_k, dim=-1)
    probs = torch.softmax(vals, dim=-1)
    if 0 < top_p < 1:
        cum = probs.cumsum(-1)
        probs = probs.masked_fill(cum - probs >= top_p, 0.0)
    pick = torch.multinomial(probs, 1, generator=gen)
    return idx.gather(-1, pick).squeeze(-1)


def sample(p, device, seed):
    torch.manual_seed(seed)
    model = FlexVAR(p).to(device).eval()
    vq = VQ(p["tokenizer"]).to(device).eval()
    scales, b, v = p["scales"], p["batch"], p["vocab"]
    labels = (torch.arange(b) % p["num_classes"]).to(device)
    labels = torch.cat((labels, torch.full_like(labels, p["num_classes"])))
    gen = torch.Generator(device=device).manual_seed(seed)
    n = len(scales)

    def fn():
        with torch.no_grad():
            cb = vq.codebook()
            caches = [{} for _ in model.blocks]
            inp = None
            for k, s in enumerate(scales):
                logits = model.step(caches, labels, s, k, inp)
                t = p["cfg"] * k / (n - 1) if n > 1 else p["cfg"]
                mixed = (1 + t) * logits[:b] - t * logits[b:]
                ids = sample_ids(mixed.reshape(-1, v), p["top_k"], p["top_p"], gen).view(b, s * s)
                z = embed(cb, ids, s)
                if k + 1 < n:
                    x = upsample_tokens(z, scales[k + 1])
                    inp = torch.cat((x, x))
            return vq.decode(z)

    return fn


if __name__ == "__main__":
    run({"sample": sample})
