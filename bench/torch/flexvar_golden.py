#!/usr/bin/python3
"""Parity goldens of the published models (FlexVAE, FlexVAR / SAR) for sargo.

Builds the reference models of flexvar_ref.py with seeded random weights,
saves them with torch.save under the authors' key names and layouts, and
writes the inputs and outputs sargo must reproduce:

  <out>/<name>_vae.pth   {"model": VQ-16 state dict}          (as FlexVAE.pth)
  <out>/<name>_var.pth   {"epoch", "iter", "trainer": {"config",
                          "var_wo_ddp": FlexVAR state dict, "var_opt"},
                          "args"}                               (as FlexVARd16-epo179.pth)
  <out>/<name>_golden.safetensors
      image [B, 3, S, S]          tokenizer input in [-1, 1]
      latent [B, Cvae, L, L]      quant_conv(encoder(image))
      ids.k, margin.k             ids of scale k of "vq_schedule", each scale
                                  quantised on its own from the area-downsampled
                                  latent, and each id's cosine margin over the
                                  second-best code
      decoded [B, 3, S, S]        the last scale's (the full latent's) codes decoded
      decoded_native [B, 3, D*s, D*s]  scale "native_scale"'s codes decoded at
                                  their own size
      labels [B], inputs [B, L-1, Cvae], logits [B, L, V]
                                  the transformer's teacher-forcing forward over
                                  the schedule "schedule"
  with metadata: both schedules, native_scale and both configurations.

Configurations:
  small  VQ-16 of base 32, multipliers (1, 1, 1) (x4), one ResBlock, z 16,
         Cvae 8, 64 codes, 32-px images; FlexVAR depth 2, width 32, 2 heads,
         10 classes, grid 16. The VQ weights are stored as float16 (and the
         golden computed from those values), the transformer's as float32.
         Computed in float64. Committed under testdata/flexvar/.
  full   FlexVAE (VQ-16, base 128, (1, 1, 2, 2, 4), z 256, 8912 codes, 256 px)
         and FlexVAR d16 (width 1024, 16 heads, 1000 classes, grid 32); the
         tokenizer over scales (1, 2, 4, 8, 16), the transformer over the short
         schedule (1, 2, 3, 4); computed in float32. Written by sargo's tests
         into a temporary folder when PyTorch is present.

Run from the repository root:
  /usr/bin/python3 bench/torch/flexvar_golden.py small testdata/flexvar
  /usr/bin/python3 bench/torch/flexvar_golden.py full /tmp/out
"""
import collections
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flexvar_ref import VQ16, FlexVAR, randomize  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

CONFIGS = {
    "small": dict(
        vae=dict(in_ch=3, ch=32, ch_mult=(1, 1, 1), num_res=1, z_ch=16, codes=64, cvae=8, used=16), image=32,
        var=dict(depth=2, width=32, heads=2, mlp_ratio=4.0, num_classes=10, vocab=64, cvae=8, grid=16,
                 mask_scales=(1, 2, 4, 6, 8)),
        schedule=(1, 2, 4, 6, 8), vq_schedule=(1, 2, 4, 6, 8), native=4, batch=2, vae_half=True, dtype=torch.float64),
    "full": dict(
        vae=dict(), image=256,
        var=dict(depth=16, width=1024, heads=16, mlp_ratio=4.0, num_classes=1000, vocab=8912, cvae=32, grid=32),
        schedule=(1, 2, 3, 4), vq_schedule=(1, 2, 4, 8, 16), native=4, batch=1, vae_half=False, dtype=torch.float32),
}


def main():
    name, out = sys.argv[1], sys.argv[2]
    cfg = CONFIGS[name]
    os.makedirs(out, exist_ok=True)
    torch.set_grad_enabled(False)
    sched, vq_sched = list(cfg["schedule"]), list(cfg["vq_schedule"])
    dt = cfg["dtype"]

    for seed in range(100):
        gen = torch.Generator().manual_seed(seed)
        vae = VQ16(**cfg["vae"])
        randomize(vae, gen)
        if cfg["vae_half"]:
            for p in vae.parameters():
                p.copy_(p.half().float())
        ref = VQ16(**cfg["vae"]).to(dt)
        ref.load_state_dict(vae.state_dict())
        b, s = cfg["batch"], cfg["image"]
        image = (torch.rand(b, 3, s, s, generator=gen, dtype=torch.float64) * 2 - 1).float()
        latent = ref.encode(image.to(dt))
        ids, margin = ref.tokenize(latent, vq_sched)
        if margin > 1e-4 or name == "full":
            break
    print(f"seed {seed}: smallest id margin {margin:.2e}", file=sys.stderr)

    gold = [("image", image), ("latent", latent)]
    for k, (s_k, i_k) in enumerate(zip(vq_sched, ids)):
        hs = latent if s_k == latent.shape[-1] else F.interpolate(latent, size=(s_k, s_k), mode="area")
        z = F.normalize(hs.permute(0, 2, 3, 1).reshape(-1, hs.shape[1]), dim=-1)
        top = (z @ ref.quantize.codebook().t()).topk(2, dim=-1).values
        gold += [(f"ids.{k}", i_k.to(torch.float32)), (f"margin.{k}", (top[:, 0] - top[:, 1]).reshape(i_k.shape))]
    gold.append(("decoded", ref.decode(ref.quantize.embed(ids[-1], vq_sched[-1]))))
    nk = vq_sched.index(cfg["native"])
    gold.append(("decoded_native", ref.decode(ref.quantize.embed(ids[nk], vq_sched[nk]))))

    vsd = vae.state_dict()
    if cfg["vae_half"]:
        vsd = collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in vsd.items())
    torch.save({"model": vsd}, os.path.join(out, f"{name}_vae.pth"))
    del vae, ref

    gen = torch.Generator().manual_seed(1000 + seed)
    var = FlexVAR(**cfg["var"])
    randomize(var, gen)
    var_ref = var if dt == torch.float32 else FlexVAR(**cfg["var"]).to(dt)
    if var_ref is not var:
        var_ref.load_state_dict(var.state_dict())
    nc, cvae = cfg["var"]["num_classes"], cfg["var"]["cvae"]
    labels = torch.tensor([(3 * i + 1) % (nc + 1) for i in range(b)])
    labels[-1] = nc  # the null class
    n_in = sum(x * x for x in sched) - sched[0] ** 2
    inputs = F.normalize(torch.randn(b, n_in, cvae, generator=gen, dtype=torch.float64), dim=-1).float()
    logits = var_ref(labels, inputs.to(dt), sched)
    gold += [("labels", labels.to(torch.float32)), ("inputs", inputs), ("logits", logits)]
    trainer = {"config": {"V": cfg["var"]["vocab"]}, "var_wo_ddp": var.state_dict(),
               "var_opt": {"state": {0: {"step": torch.tensor(5.0)}}, "param_groups": [{"lr": 1e-4, "params": [0]}]}}
    args = collections.OrderedDict(depth=cfg["var"]["depth"], pn="_".join(map(str, sched)), tblr=1e-4, fp16=1)
    torch.save({"epoch": 180, "iter": 0, "trainer": trainer, "args": args}, os.path.join(out, f"{name}_var.pth"))

    meta = {"schedule": "_".join(map(str, sched)), "vq_schedule": "_".join(map(str, vq_sched)),
            "native_scale": str(cfg["native"]), "seed": str(seed),
            "vae": json.dumps(cfg["vae"]), "var": json.dumps(cfg["var"]), "dtype": str(dt)}
    write_safetensors(os.path.join(out, f"{name}_golden.safetensors"), [(k, v.float()) for k, v in gold], meta)
    for f in sorted(os.listdir(out)):
        print(f, os.path.getsize(os.path.join(out, f)), file=sys.stderr)


if __name__ == "__main__":
    main()
