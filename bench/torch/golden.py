#!/usr/bin/python3
"""Writes the PyTorch golden files in testdata/golden/ that tensor/golden_test.go
compares sargo's CPU operations against.

Regenerate (from the repository root, with Debian's python3-torch):

    /usr/bin/python3 bench/torch/golden.py

The output is deterministic: inputs come from a seeded torch.Generator, and
running the script again rewrites identical files. The Go tests read only
the committed files and need no Python.

Operations covered (all in float64 inside torch; inputs are drawn as float32
and stored as float32, so the Go side sees exactly the values torch used):

  interpolate.json   F.interpolate, modes nearest / bilinear / bicubic / area,
                     align_corners=False, up and down; output and the input
                     gradient for a fixed upstream gradient.
  attention.json     softmax(scale * Q K^T + mask) V written out explicitly,
                     with no mask or the block-causal mask of scale ids
                     (query i sees key j iff scale_k[j] <= scale_q[i]);
                     output, log-sum-exp and the q/k/v gradients.
  conv.json          F.conv2d, stride 1 and 2, padding 0 and 1, with and
                     without bias; output and input/weight/bias gradients.
  norm.json          F.layer_norm (with and without affine) and F.group_norm;
                     output, per-row mean and 1/std, and the input/weight/bias
                     gradients.
  cross_entropy.json F.cross_entropy with class indices, ignore_index,
                     label_smoothing 0 and 0.1, reduction='none'; per-row
                     losses, log-sum-exps and the logit gradient for a fixed
                     per-row upstream gradient.

File format (one JSON file per family):

  {"family": "<name>",
   "cases": [{"name": "<case name>",
              "params": {<operation parameters, see each family below>},
              "tensors": {"<tensor name>": {"shape": [d0, d1, ...],
                                             "dtype": "float32" | "float64",
                                             "data": "<base64 of the
                                                      little-endian values
                                                      in row-major order>"}}}]}

Inputs are float32; outputs and gradients are float64. Integer tensors
(targets, scale ids) are stored as float32 holding exact integers, as the
tensor layer holds them.
"""

import base64
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "golden")

GEN = torch.Generator().manual_seed(20240611)


def randn(*shape):
    """A float32 N(0,1) input from the script's one seeded generator."""
    return torch.randn(*shape, generator=GEN, dtype=torch.float32)


def enc(t, dtype):
    """Encodes a tensor as the golden-file tensor object."""
    t = t.detach().contiguous()
    if dtype == "float32":
        t = t.to(torch.float32)
    else:
        t = t.to(torch.float64)
    return {
        "shape": list(t.shape),
        "dtype": dtype,
        "data": base64.b64encode(t.numpy().astype("<f4" if dtype == "float32" else "<f8").tobytes()).decode("ascii"),
    }


def case(name, params, inputs, outputs):
    """One case: inputs stored as float32, outputs as float64."""
    tensors = {k: enc(v, "float32") for k, v in inputs.items()}
    tensors.update({k: enc(v, "float64") for k, v in outputs.items()})
    return {"name": name, "params": params, "tensors": tensors}


def leaf(x32):
    """A float64 leaf requiring grad, holding exactly the float32 values."""
    return x32.to(torch.float64).requires_grad_(True)


def interpolate_cases():
    sizes = [((1, 1), (4, 4)), ((3, 3), (8, 8)), ((8, 8), (3, 3)), ((5, 5), (13, 13)),
             ((13, 13), (5, 5)), ((8, 8), (8, 8)), ((2, 3), (7, 5)), ((7, 5), (2, 3)),
             ((6, 9), (4, 13))]
    cases = []
    for mode in ["nearest", "bilinear", "bicubic", "area"]:
        for (hin, win), (hout, wout) in sizes:
            x32 = randn(2, 3, hin, win)
            g32 = randn(2, 3, hout, wout)
            x = leaf(x32)
            kw = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
            y = F.interpolate(x, size=(hout, wout), mode=mode, **kw)
            y.backward(g32.to(torch.float64))
            cases.append(case(f"{mode}/{hin}x{win}->{hout}x{wout}",
                              {"mode": mode, "hout": hout, "wout": wout},
                              {"x": x32, "grad_y": g32}, {"y": y, "grad_x": x.grad}))
    return cases


def scale_ids(*sides):
    """Scale id of every token: scale k of side s contributes s*s tokens of id k."""
    return torch.tensor([float(k) for k, s in enumerate(sides) for _ in range(s * s)], dtype=torch.float32)


def attention_cases():
    ids3, ids4 = scale_ids(1, 2, 3), scale_ids(1, 2, 3, 4)
    specs = [
        # name, B, H, D, Lq, Lk, scale_q, scale_k
        ("none,b=1,h=2,lq=7,lk=13,d=8", 1, 2, 8, 7, 13, None, None),
        ("none,b=2,h=2,lq=13,lk=13,d=16", 2, 2, 16, 13, 13, None, None),
        ("scale,scales=1,2,3,b=1,h=2,d=8", 1, 2, 8, 14, 14, ids3, ids3),
        ("scale,scales=1,2,3,4,b=2,h=1,d=16", 2, 1, 16, 30, 30, ids4, ids4),
        ("scale,last_scale_queries,scales=1,2,3,b=1,h=2,d=8", 1, 2, 8, 9, 14, ids3[5:], ids3),
    ]
    cases = []
    for name, B, H, D, Lq, Lk, sq, sk in specs:
        q32, k32, v32 = randn(B, H, Lq, D), randn(B, H, Lk, D), randn(B, H, Lk, D)
        g32 = randn(B, H, Lq, D)
        q, k, v = leaf(q32), leaf(k32), leaf(v32)
        scale = 1.0 / math.sqrt(D)
        s = scale * (q @ k.transpose(-1, -2))
        inputs = {"q": q32, "k": k32, "v": v32, "grad_out": g32}
        params = {"scale": scale, "mask": "none"}
        if sq is not None:
            visible = sk[None, :] <= sq[:, None]
            mask = torch.zeros(Lq, Lk, dtype=torch.float64).masked_fill(~visible, float("-inf"))
            s = s + mask
            inputs.update({"scale_q": sq, "scale_k": sk})
            params["mask"] = "scale"
        lse = torch.logsumexp(s, dim=-1)
        out = torch.softmax(s, dim=-1) @ v
        out.backward(g32.to(torch.float64))
        cases.append(case(name, params, inputs,
                          {"out": out, "lse": lse, "grad_q": q.grad, "grad_k": k.grad, "grad_v": v.grad}))
    return cases


def conv_cases():
    specs = [
        # N, Cin, H, W, Cout, K, stride, pad, bias
        (2, 3, 7, 7, 4, 3, 1, 0, True),
        (2, 3, 7, 7, 4, 3, 1, 1, True),
        (1, 4, 9, 9, 5, 3, 2, 0, True),
        (1, 4, 9, 9, 5, 3, 2, 1, True),
        (1, 3, 8, 6, 2, 4, 2, 1, True),
        (1, 2, 5, 7, 3, 1, 1, 0, False),
        (2, 2, 6, 6, 3, 3, 2, 1, False),
    ]
    cases = []
    for n, cin, h, w, cout, kk, stride, pad, bias in specs:
        x32, w32 = randn(n, cin, h, w), randn(cout, cin, kk, kk)
        b32 = randn(cout)
        x, wt = leaf(x32), leaf(w32)
        b = leaf(b32) if bias else None
        y = F.conv2d(x, wt, b, stride=stride, padding=pad)
        g32 = randn(*y.shape)
        y.backward(g32.to(torch.float64))
        inputs = {"x": x32, "w": w32, "grad_y": g32}
        outputs = {"y": y, "grad_x": x.grad, "grad_w": wt.grad}
        if bias:
            inputs["b"] = b32
            outputs["grad_b"] = b.grad
        name = f"n={n},cin={cin},{h}x{w},cout={cout},k={kk},stride={stride},pad={pad},bias={str(bias).lower()}"
        cases.append(case(name, {"stride": stride, "pad": pad, "bias": bias}, inputs, outputs))
    return cases


def norm_stats(x, dims, eps):
    """Per-row mean and 1/sqrt(biased var + eps) over dims, in float64."""
    mean = x.mean(dim=dims)
    var = x.var(dim=dims, unbiased=False)
    return mean, 1.0 / torch.sqrt(var + eps)


def norm_cases():
    eps = 1e-5
    cases = []
    for shape, affine in [((3, 7, 13), True), ((3, 7, 13), False), ((4, 65), True), ((1, 1), True)]:
        n = shape[-1]
        x32 = randn(*shape) * 2 + 0.5
        g32 = randn(*shape)
        w32, b32 = randn(n) + 1, randn(n)
        x = leaf(x32)
        w, b = (leaf(w32), leaf(b32)) if affine else (None, None)
        y = F.layer_norm(x, (n,), w, b, eps)
        y.backward(g32.to(torch.float64))
        mean, rstd = norm_stats(x.detach().reshape(-1, n), (1,), eps)
        inputs = {"x": x32, "grad_y": g32}
        outputs = {"y": y, "mean": mean, "rstd": rstd, "grad_x": x.grad}
        if affine:
            inputs.update({"w": w32, "b": b32})
            outputs.update({"grad_w": w.grad, "grad_b": b.grad})
        name = f"layer,shape={'x'.join(map(str, shape))},affine={str(affine).lower()}"
        cases.append(case(name, {"kind": "layer", "eps": eps, "affine": affine}, inputs, outputs))
    for shape, groups, affine in [((2, 6, 5, 7), 3, True), ((2, 4, 3, 3), 2, False), ((1, 8, 13), 8, True)]:
        c = shape[1]
        x32 = randn(*shape) * 2 + 0.5
        g32 = randn(*shape)
        w32, b32 = randn(c) + 1, randn(c)
        x = leaf(x32)
        w, b = (leaf(w32), leaf(b32)) if affine else (None, None)
        y = F.group_norm(x, groups, w, b, eps)
        y.backward(g32.to(torch.float64))
        mean, rstd = norm_stats(x.detach().reshape(shape[0] * groups, -1), (1,), eps)
        inputs = {"x": x32, "grad_y": g32}
        outputs = {"y": y, "mean": mean, "rstd": rstd, "grad_x": x.grad}
        if affine:
            inputs.update({"w": w32, "b": b32})
            outputs.update({"grad_w": w.grad, "grad_b": b.grad})
        name = f"group,shape={'x'.join(map(str, shape))},groups={groups},affine={str(affine).lower()}"
        cases.append(case(name, {"kind": "group", "eps": eps, "affine": affine, "groups": groups}, inputs, outputs))
    return cases


def cross_entropy_cases():
    ignore = -100
    cases = []
    for rows, n in [(9, 13), (4, 100), (3, 1)]:
        for smoothing in [0.0, 0.1]:
            logits32 = randn(rows, n) * 2
            targets = torch.tensor([(r * 7 + 3) % n if r % 3 != 1 else ignore for r in range(rows)], dtype=torch.int64)
            g32 = randn(rows)
            x = leaf(logits32)
            loss = F.cross_entropy(x, targets, ignore_index=ignore, reduction="none", label_smoothing=smoothing)
            loss.backward(g32.to(torch.float64))
            lse = torch.logsumexp(x.detach(), dim=-1)
            cases.append(case(f"rows={rows},n={n},smoothing={smoothing}",
                              {"ignore_index": ignore, "smoothing": smoothing},
                              {"logits": logits32, "targets": targets.to(torch.float32), "grad_loss": g32},
                              {"loss": loss, "lse": lse, "grad_logits": x.grad}))
    return cases


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    families = [
        ("interpolate", interpolate_cases),
        ("attention", attention_cases),
        ("conv", conv_cases),
        ("norm", norm_cases),
        ("cross_entropy", cross_entropy_cases),
    ]
    total = 0
    for name, build in families:
        path = os.path.join(OUT_DIR, name + ".json")
        doc = {"family": name, "cases": build()}
        with open(path, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path)}: {len(doc['cases'])} cases, {size} bytes", file=sys.stderr)
    print(f"total {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
