#!/usr/bin/env python3
"""PyTorch reference of `sargo bench sample-d16`: the released FlexVAR d16
and FlexVAE architectures (flexvar_ref.py), with the random weights sargo
wrote as PyTorch checkpoints in the authors' layouts, sampling with the
authors' settings (KV cache, CFG ramped linearly to cfg, top-k then top-p,
the sampled codes bicubic-upsampled as the next scale's input) and decoding
the last scale to 256-px images."""

import torch

from bench_common import run
from flexvar_ref import VQ16, FlexVAR


def load(module, sd, allowed_missing):
    missing, unexpected = module.load_state_dict(sd, strict=False)
    if unexpected or set(missing) - set(allowed_missing):
        raise ValueError(f"state dict does not fit: missing {missing}, unexpected {unexpected}")


def sample_pth(p, device, seed):
    v = p["vae"]
    vq = VQ16(in_ch=3, ch=v["ch"], ch_mult=tuple(v["ch_mult"]), num_res=v["num_res"], z_ch=v["z_ch"], codes=v["codes"],
              cvae=v["cvae"]).to(device).eval()
    load(vq, torch.load(p["tokenizer"], map_location="cpu")["model"], ["quantize.codebook_used"])
    model = FlexVAR(depth=p["depth"], width=p["width"], heads=p["heads"], num_classes=p["num_classes"], vocab=p["vocab"],
                    cvae=p["cvae"], grid=2 * p["scales"][-1]).to(device).eval()
    ckpt = torch.load(p["model"], map_location="cpu")
    load(model, ckpt["trainer"]["var_wo_ddp"], ["attn_bias_for_masking"])
    del ckpt
    b = p["batch"]
    labels = torch.tensor([(207 + 153 * i) % p["num_classes"] for i in range(b)], device=device)
    gen = torch.Generator(device=device).manual_seed(seed)

    def fn():
        return model.sample(vq, labels, p["scales"], p["cfg"], p["top_k"], p["top_p"], gen)

    return fn


if __name__ == "__main__":
    run({"sample_pth": sample_pth})
