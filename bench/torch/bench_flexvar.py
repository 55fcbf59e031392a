"""PyTorch versions of the models `sargo bench` times in its train,
tokenizer and sample suites, written to do the same work as sargo's:

  FlexVAR     the scale-wise transformer of package sar: AdaLN blocks
              (SiLU → Linear → 6 modulation vectors), LayerNorm without
              affine (eps 1e-6), L2-normalised q/k with a learnable
              temperature (attention scale 1), block-causal mask over
              scales, GELU(tanh) MLP of ratio 4, one 2-D position grid
              area-resized to every scale, AdaLN head, linear head; with a
              KV cache for inference one scale at a time.
  VQ          the tokenizer of sar/tokenizer: a taming-style conv encoder
              and decoder (ResBlocks with GroupNorm, stride-2 downsampling,
              nearest upsampling) and a cosine-nearest L2-normalised
              codebook with a straight-through estimator.

Weights are random; the scripts time steps, not learning.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench_common import HAS_SDPA, options

LN_EPS = 1e-6
MAX_SCALE_MUL = math.log(100)


def scale_ids(scales):
    """The scale index of every token of a schedule."""
    return torch.cat([torch.full((s * s,), i, dtype=torch.long) for i, s in enumerate(scales)])


def block_causal_mask(scales, device):
    """Additive [L, L] mask: a token sees every token of its scale and before."""
    ids = scale_ids(scales)
    visible = ids[None, :] <= ids[:, None]
    return torch.zeros(visible.shape).masked_fill(~visible, float("-inf")).to(device)


def attend(q, k, v, mask):
    """softmax(q·kᵀ + mask)·v with scale 1 (q carries the temperature):
    through scaled_dot_product_attention where PyTorch has it (2.1 and
    later), unless the request's attention option is "unfused"."""
    path = options()["attention"]
    if path == "sdpa" or (path == "" and HAS_SDPA):
        if not HAS_SDPA:
            raise RuntimeError(f"scaled_dot_product_attention with a scale needs PyTorch 2.1 or later, not {torch.__version__}")
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0)
    s = torch.matmul(q, k.transpose(-2, -1))
    if mask is not None:
        s = s + mask
    return torch.matmul(torch.softmax(s, dim=-1), v)


class SelfAttention(nn.Module):
    def __init__(self, dim, heads, l2):
        super().__init__()
        self.heads, self.head_dim, self.l2 = heads, dim // heads, l2
        self.mat_qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.register_buffer("zero_k_bias", torch.zeros(dim), persistent=False)
        self.scale_mul_1H11 = nn.Parameter(torch.full((1, heads, 1, 1), math.log(4.0)))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask, cache=None):
        b, n, c = x.shape
        bias = torch.cat((self.q_bias, self.zero_k_bias, self.v_bias))
        qkv = F.linear(x, self.mat_qkv.weight, bias).view(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if self.l2:
            q = F.normalize(q, dim=-1) * self.scale_mul_1H11.clamp(max=MAX_SCALE_MUL).exp()
            k = F.normalize(k, dim=-1)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat((cache["k"], k), 2), torch.cat((cache["v"], v), 2)
            cache["k"], cache["v"] = k, v
        out = attend(q, k, v, mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class AdaLNBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, l2):
        super().__init__()
        self.attn = SelfAttention(dim, heads, l2)
        hidden = round(dim * mlp_ratio)
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        self.dim = dim

    def forward(self, x, cond, mask, cache=None):
        g1, g2, s1, s2, h1, h2 = self.ada_lin(cond).view(-1, 1, 6, self.dim).unbind(2)
        n = F.layer_norm(x, (self.dim,), eps=LN_EPS)
        x = x + self.attn(n * (1 + s1) + h1, mask, cache) * g1
        n = F.layer_norm(x, (self.dim,), eps=LN_EPS)
        return x + self.ffn(n * (1 + s2) + h2) * g2


class FlexVAR(nn.Module):
    def __init__(self, p):
        super().__init__()
        c = p["width"]
        self.p, self.width = p, c
        std = math.sqrt(1 / c / 3)
        self.word_embed = nn.Linear(p["cvae"], c)
        self.class_emb = nn.Embedding(p["num_classes"] + 1, c)
        self.pos_start = nn.Parameter(torch.randn(1, 1, c) * std)
        self.pos_1LC = nn.Parameter(torch.randn(1, c, 2 * p["largest"], 2 * p["largest"]) * 0.1)
        self.blocks = nn.ModuleList(AdaLNBlock(c, p["heads"], p["mlp_ratio"], p["attn_l2"]) for _ in range(p["depth"]))
        self.head_nm = nn.Sequential(nn.SiLU(), nn.Linear(c, 2 * c))
        self.head = nn.Linear(c, p["vocab"])
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.trunc_normal_(m.weight, std=std)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
        self.head.weight.data.mul_(0.02)
        for b in self.blocks:
            b.ada_lin[1].weight.data[: 2 * c].mul_(1e-5)
            b.ada_lin[1].weight.data[2 * c :].mul_(0.5)

    def positions(self, s):
        pos = F.interpolate(self.pos_1LC, size=(s, s), mode="area")
        return pos.reshape(1, self.width, s * s).permute(0, 2, 1)

    def logits(self, x, cond):
        scale, shift = self.head_nm(cond).view(-1, 1, 2, self.width).unbind(2)
        return self.head(F.layer_norm(x, (self.width,), eps=LN_EPS) * (1 + scale) + shift)

    def forward(self, labels, scales, inputs, mask):
        """Logits [B, L, V] of one block-causal pass; inputs [B, L − s0², Cvae]."""
        cond = self.class_emb(labels)
        x = (cond[:, None, :] + self.pos_start).expand(-1, scales[0] ** 2, -1)
        if inputs is not None:
            x = torch.cat((x, self.word_embed(inputs)), 1)
        x = x + torch.cat([self.positions(s) for s in scales], 1)
        for b in self.blocks:
            x = b(x, cond, mask)
        return self.logits(x, cond)

    def step(self, caches, labels, s, k, inp):
        """Logits [B, s², V] of scale k with the KV caches of earlier scales."""
        cond = self.class_emb(labels)
        if k == 0:
            x = (cond[:, None, :] + self.pos_start).expand(-1, s * s, -1)
        else:
            x = self.word_embed(inp)
        x = x + self.positions(s)
        for b, c in zip(self.blocks, caches):
            x = b(x, cond, None, c)
        return self.logits(x, cond)


def param_groups(model, weight_decay):
    """AdamW groups: matrices decay, biases, gains and position tables do not."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "pos_" not in name and "scale_mul" not in name else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def tokens_of(z):
    """[B, C, s, s] → [B, s², C], row-major within the scale."""
    b, c, s, _ = z.shape
    return z.reshape(b, c, s * s).permute(0, 2, 1)


def upsample_tokens(z, s):
    """Bicubic resize of z [B, C, h, h] to s×s, as tokens [B, s², C]."""
    return tokens_of(F.interpolate(z, size=(s, s), mode="bicubic", align_corners=False))


def embed(codebook, ids, s):
    """ids [B, s²] → codebook vectors [B, C, s, s]."""
    b = ids.shape[0]
    return codebook[ids].view(b, s, s, -1).permute(0, 3, 1, 2).contiguous()


# --- VQ tokenizer -----------------------------------------------------------


def groups_for(channels):
    for g in range(min(32, channels), 1, -1):
        if channels % g == 0:
            return g
    return 1


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups_for(cin), cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = nn.GroupNorm(groups_for(cout), cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.nin_shortcut is None else self.nin_shortcut(x)) + h


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


class VQ(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p
        levels = int(math.log2(p["downsample"])) + 1
        chans = [p["base"]] + [2 * p["base"]] * (levels - 1)
        self.latent = p["image_size"] // p["downsample"]
        enc = [nn.Conv2d(p["image_channels"], chans[0], 3, 1, 1)]
        ch = chans[0]
        for i in range(levels):
            for _ in range(p["res_blocks"]):
                enc.append(ResBlock(ch, chans[i]))
                ch = chans[i]
            if i != levels - 1:
                enc.append(Downsample(ch))
        enc += [ResBlock(ch, ch), ResBlock(ch, ch), nn.GroupNorm(groups_for(ch), ch, eps=1e-6), nn.SiLU(),
                nn.Conv2d(ch, p["cvae"], 3, 1, 1)]
        self.encoder = nn.Sequential(*enc)
        dec = [nn.Conv2d(p["cvae"], ch, 3, 1, 1), ResBlock(ch, ch), ResBlock(ch, ch)]
        for i in reversed(range(levels)):
            for _ in range(p["res_blocks"] + 1):
                dec.append(ResBlock(ch, chans[i]))
                ch = chans[i]
            if i != 0:
                dec.append(Upsample(ch))
        dec += [nn.GroupNorm(groups_for(ch), ch, eps=1e-6), nn.SiLU(), nn.Conv2d(ch, p["image_channels"], 3, 1, 1)]
        self.decoder = nn.Sequential(*dec)
        k = p["codebook"]
        self.embedding = nn.Parameter(F.normalize(torch.empty(k, p["cvae"]).uniform_(-1 / k, 1 / k), dim=-1))

    def codebook(self):
        return F.normalize(self.embedding, dim=-1)

    def quantize(self, h):
        """Cosine-nearest quantisation with a straight-through estimator."""
        b, c, hh, ww = h.shape
        zn = F.normalize(h.permute(0, 2, 3, 1).reshape(-1, c), dim=-1)
        cb = self.codebook()
        ids = torch.argmax(zn.detach() @ cb.detach().t(), dim=1)
        zq = cb[ids]
        loss = torch.mean((zq - zn.detach()) ** 2) + self.p["beta"] * torch.mean((zq.detach() - zn) ** 2)
        st = zn + (zq - zn).detach()
        return st.view(b, hh, ww, c).permute(0, 3, 1, 2), ids.view(b, hh * ww), loss

    def decode(self, z):
        if z.shape[-1] != self.latent:
            z = F.interpolate(z, size=(self.latent, self.latent), mode="bicubic", align_corners=False)
        return self.decoder(z)
