#!/usr/bin/python3
"""Golden files for package nn, written by PyTorch.

Builds, with seeded random weights:
  * VAR's AdaLN transformer block (AdaLNSelfAttn with attn_l2_norm: C=32,
    4 heads, MLP ratio 4) followed by the AdaLN head norm, over a
    block-causal mask of scales 1, 2, 3 (14 tokens);
  * the same block with VAR's plain attention (scale 0.25/sqrt(head dim)),
    C=16, 2 heads, MLP ratio 2, scales 1, 2;
  * a conv stack: ResnetBlock(8 -> 16, GroupNorm 4 groups) -> Downsample
    (pad right/bottom, stride-2 3x3 conv) -> Upsample (nearest x2, 3x3 conv);
  * three torch.optim.AdamW steps.
and writes their parameters, inputs, outputs and gradients of
loss = sum(out * r) (r a fixed random tensor) as safetensors files under
testdata/nn/. The forward and backward run in float64 from the float32
parameters and inputs; everything is stored as F32.

The safetensors writer is a few lines here so that the files also show the
Go reader accepting files written by another program.

Run from the repository root:  /usr/bin/python3 bench/torch/nn_golden.py
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "nn")


# ---- VAR's AdaLN block, written out for float64 evaluation ----

class SelfAttention(nn.Module):
    def __init__(self, C, H, l2_norm=True):
        super().__init__()
        self.H, self.D, self.l2_norm = H, C // H, l2_norm
        self.mat_qkv = nn.Linear(C, 3 * C, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(C))
        self.v_bias = nn.Parameter(torch.zeros(C))
        self.register_buffer("zero_k_bias", torch.zeros(C))
        if l2_norm:
            self.scale = 1.0
            self.scale_mul_1H11 = nn.Parameter(torch.full((1, H, 1, 1), 4.0).log())
            self.max_scale_mul = math.log(100)
        else:
            self.scale = 0.25 / math.sqrt(self.D)  # VAR's plain scale
        self.proj = nn.Linear(C, C)

    def forward(self, x, attn_bias):
        B, L, C = x.shape
        bias = torch.cat((self.q_bias, self.zero_k_bias, self.v_bias))
        qkv = F.linear(x, self.mat_qkv.weight, bias).view(B, L, 3, self.H, self.D)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if self.l2_norm:
            scale_mul = self.scale_mul_1H11.clamp_max(self.max_scale_mul).exp()
            q = F.normalize(q, dim=-1).mul(scale_mul)
            k = F.normalize(k, dim=-1)
        attn = (q.mul(self.scale) @ k.transpose(-2, -1)) + attn_bias
        out = attn.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(B, L, C))


class FFN(nn.Module):
    def __init__(self, C, hidden):
        super().__init__()
        self.fc1 = nn.Linear(C, hidden)
        self.fc2 = nn.Linear(hidden, C)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class AdaLNSelfAttn(nn.Module):
    def __init__(self, C, H, mlp_ratio=4.0, eps=1e-6, l2_norm=True):
        super().__init__()
        self.C, self.eps = C, eps
        self.attn = SelfAttention(C, H, l2_norm)
        self.ffn = FFN(C, round(C * mlp_ratio))
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(C, 6 * C))

    def ln(self, x):
        return F.layer_norm(x, (self.C,), eps=self.eps)

    def forward(self, x, cond, attn_bias):
        g1, g2, s1, s2, sh1, sh2 = self.ada_lin(cond).view(-1, 1, 6, self.C).unbind(2)
        x = x + self.attn(self.ln(x).mul(s1.add(1)).add(sh1), attn_bias).mul(g1)
        x = x + self.ffn(self.ln(x).mul(s2.add(1)).add(sh2)).mul(g2)
        return x


class AdaLNBeforeHead(nn.Module):
    def __init__(self, C, eps=1e-6):
        super().__init__()
        self.C, self.eps = C, eps
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(C, 2 * C))

    def forward(self, x, cond):
        scale, shift = self.ada_lin(cond).view(-1, 1, 2, self.C).unbind(2)
        return F.layer_norm(x, (self.C,), eps=self.eps).mul(scale.add(1)).add(shift)


class BlockAndHead(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.block = AdaLNSelfAttn(C, H)
        self.head_nm = AdaLNBeforeHead(C)

    def forward(self, x, cond, attn_bias):
        return self.head_nm(self.block(x, cond, attn_bias), cond)


# ---- the VQ autoencoder's conv blocks ----

class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.nin_shortcut(x) + h


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ConvStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.res = ResnetBlock(8, 16, 4)
        self.down = Downsample(16)
        self.up = Upsample(16)

    def forward(self, x):
        return self.up(self.down(self.res(x)))


def randomize(model, std):
    """Draws every parameter N(0, std²) (gates included) in float32."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("scale_mul_1H11"):
                p.copy_(math.log(4.0) + 0.3 * torch.randn_like(p))
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(std * torch.randn_like(p))


def run(model, inputs, extra_inputs, r):
    """Evaluates in float64; returns output and gradients w.r.t. params and inputs."""
    model = model.double()
    xs = [t.double().requires_grad_(True) for t in inputs]
    out = model(*xs, *extra_inputs)
    (out * r.double()).sum().backward()
    return out, {n: p.grad for n, p in model.named_parameters()}, [x.grad for x in xs]


def scale_bias(sizes):
    """VAR's block-causal additive mask over the given scales."""
    L = sum(s * s for s in sizes)
    d = torch.cat([torch.full((s * s,), i) for i, s in enumerate(sizes)]).view(1, L, 1)
    return torch.where(d >= d.transpose(1, 2), 0.0, -math.inf).view(1, 1, L, L).double()


def golden_block():
    torch.manual_seed(1)
    C, H, B = 32, 4, 2
    sizes = [1, 2, 3]
    L = sum(s * s for s in sizes)
    model = BlockAndHead(C, H)
    randomize(model, 0.1)
    x = torch.randn(B, L, C)
    cond = torch.randn(B, C)
    r = torch.randn(B, L, C)
    bias = scale_bias(sizes)
    params = [(n, p.detach().clone()) for n, p in model.named_parameters()]
    out, grads, (gx, gcond) = run(model, [x, cond], [bias], r)
    tensors = [("param." + n, p) for n, p in params]
    tensors += [("in.x", x), ("in.cond", cond), ("in.r", r), ("out.y", out)]
    tensors += [("grad." + n, grads[n]) for n, _ in params]
    tensors += [("grad_in.x", gx), ("grad_in.cond", gcond)]
    meta = {"what": "AdaLNSelfAttn(attn_l2_norm) + AdaLNBeforeHead, C=32 H=4 mlp 4, scales 1,2,3",
            "loss": "sum(out * in.r)", "torch": torch.__version__}
    write_safetensors(os.path.join(OUT, "adaln_block.safetensors"), tensors, meta)


def golden_block_plain():
    torch.manual_seed(4)
    C, H, B = 16, 2, 2
    sizes = [1, 2]
    L = sum(s * s for s in sizes)
    model = AdaLNSelfAttn(C, H, mlp_ratio=2.0, l2_norm=False)
    randomize(model, 0.2)
    x = torch.randn(B, L, C)
    cond = torch.randn(B, C)
    r = torch.randn(B, L, C)
    params = [(n, p.detach().clone()) for n, p in model.named_parameters()]
    out, grads, (gx, gcond) = run(model, [x, cond], [scale_bias(sizes)], r)
    tensors = [("param." + n, p) for n, p in params]
    tensors += [("in.x", x), ("in.cond", cond), ("in.r", r), ("out.y", out)]
    tensors += [("grad." + n, grads[n]) for n, _ in params]
    tensors += [("grad_in.x", gx), ("grad_in.cond", gcond)]
    meta = {"what": "AdaLNSelfAttn, plain attention scale 0.25/sqrt(8), C=16 H=2 mlp 2, scales 1,2",
            "loss": "sum(out * in.r)", "torch": torch.__version__}
    write_safetensors(os.path.join(OUT, "adaln_block_plain.safetensors"), tensors, meta)


def golden_conv():
    torch.manual_seed(2)
    model = ConvStack()
    randomize(model, 0.2)
    x = torch.randn(2, 8, 6, 6)
    r = torch.randn(2, 16, 6, 6)
    params = [(n, p.detach().clone()) for n, p in model.named_parameters()]
    out, grads, (gx,) = run(model, [x], [], r)
    tensors = [("param." + n, p) for n, p in params]
    tensors += [("in.x", x), ("in.r", r), ("out.y", out)]
    tensors += [("grad." + n, grads[n]) for n, _ in params]
    tensors += [("grad_in.x", gx)]
    meta = {"what": "ResnetBlock(8->16, 4 groups) -> Downsample -> Upsample", "loss": "sum(out * in.r)",
            "torch": torch.__version__}
    write_safetensors(os.path.join(OUT, "conv_stack.safetensors"), tensors, meta)


def golden_adamw():
    torch.manual_seed(3)
    p0 = torch.randn(4, 5)
    p = nn.Parameter(p0.clone())
    q0 = torch.randn(3)
    q = nn.Parameter(q0.clone())
    cfg = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.05)
    opt = torch.optim.AdamW([{"params": [p]}, {"params": [q], "weight_decay": 0.0}], **cfg)
    tensors = [("p0", p0), ("q0", q0)]
    for step in range(1, 4):
        gp, gq = torch.randn(4, 5), torch.randn(3)
        p.grad, q.grad = gp, gq
        opt.step()
        tensors += [("grad_p.%d" % step, gp), ("grad_q.%d" % step, gq)]
    st = opt.state[p]
    tensors += [("p3", p.detach()), ("q3", q.detach()), ("m_p", st["exp_avg"]), ("v_p", st["exp_avg_sq"])]
    meta = {"what": "torch.optim.AdamW, 3 steps; q in a group without weight decay",
            "config": json.dumps(cfg), "torch": torch.__version__}
    write_safetensors(os.path.join(OUT, "adamw.safetensors"), tensors, meta)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    golden_block()
    golden_block_plain()
    golden_conv()
    golden_adamw()
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))
