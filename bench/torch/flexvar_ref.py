"""A PyTorch reference of the published FlexVAR / SAR models, for sargo's
parity tests and benchmarks.

Written from the FlexVAR and SAR papers and the semantics of the authors'
released code, with the authors' parameter names, so that torch.save of
these modules gives files laid out as FlexVAE.pth and FlexVARd*.pth:

  * VQ16: LlamaGen's VQ-16 autoencoder as FlexVAR configures it (widths
    ch * ch_mult[i], num_res ResBlocks per encoder level and num_res + 1 per
    decoder level, an AttnBlock after every ResBlock of the lowest level,
    a middle ResBlock-AttnBlock-ResBlock, GroupNorm(32, eps 1e-6), SiLU,
    z_channels with 1x1 quant_conv / post_quant_conv to and from the cvae
    latent, an L2-normalised codebook, cosine nearest-neighbour
    quantisation of each scale of the area-downsampled latent).
  * FlexVAR: the scale-wise transformer (class embedding with a null class,
    start token class_emb + pos_start, a sin/cos position grid area-resized
    to each scale, VAR's AdaLN blocks with L2-normalised q/k and a clamped
    learnable temperature, zero key bias, GELU-tanh MLP, AdaLN head), its
    block-causal training forward and a KV-cached sampler with CFG and
    top-k / top-p.

Everything runs in the module's dtype (float32 or float64).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- VQ-16

def group_norm(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.cin, self.cout = cin, cout
        self.norm1, self.conv1 = group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = group_norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.cin != self.cout:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = group_norm(c)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.norm(x)
        q = self.q(h).flatten(2)  # b, c, n
        k = self.k(h).flatten(2)
        v = self.v(h).flatten(2)
        w = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=-1)  # b, n (query), n (key)
        out = (v @ w.transpose(1, 2)).reshape(b, c, hh, ww)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Level(nn.Module):
    pass


class Encoder(nn.Module):
    def __init__(self, in_ch, ch, ch_mult, num_res, z_ch):
        super().__init__()
        self.conv_in = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.conv_blocks = nn.ModuleList()
        c = ch
        n = len(ch_mult)
        for i, m in enumerate(ch_mult):
            lvl = Level()
            lvl.res, lvl.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res):
                lvl.res.append(ResnetBlock(c, ch * m))
                c = ch * m
                if i == n - 1:
                    lvl.attn.append(AttnBlock(c))
            if i != n - 1:
                lvl.downsample = Downsample(c)
            self.conv_blocks.append(lvl)
        self.mid = nn.ModuleList([ResnetBlock(c, c), AttnBlock(c), ResnetBlock(c, c)])
        self.norm_out = group_norm(c)
        self.conv_out = nn.Conv2d(c, z_ch, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for lvl in self.conv_blocks:
            for j, r in enumerate(lvl.res):
                h = r(h)
                if len(lvl.attn):
                    h = lvl.attn[j](h)
            if hasattr(lvl, "downsample"):
                h = lvl.downsample(h)
        for m in self.mid:
            h = m(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, out_ch, ch, ch_mult, num_res, z_ch):
        super().__init__()
        c = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_ch, c, 3, padding=1)
        self.mid = nn.ModuleList([ResnetBlock(c, c), AttnBlock(c), ResnetBlock(c, c)])
        self.conv_blocks = nn.ModuleList()
        n = len(ch_mult)
        for i in reversed(range(n)):
            lvl = Level()
            lvl.res, lvl.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res + 1):
                lvl.res.append(ResnetBlock(c, ch * ch_mult[i]))
                c = ch * ch_mult[i]
                if i == n - 1:
                    lvl.attn.append(AttnBlock(c))
            if i != 0:
                lvl.upsample = Upsample(c)
            self.conv_blocks.append(lvl)
        self.norm_out = group_norm(c)
        self.conv_out = nn.Conv2d(c, out_ch, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        for m in self.mid:
            h = m(h)
        for lvl in self.conv_blocks:
            for j, r in enumerate(lvl.res):
                h = r(h)
                if len(lvl.attn):
                    h = lvl.attn[j](h)
            if hasattr(lvl, "upsample"):
                h = lvl.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Quantizer(nn.Module):
    def __init__(self, codes, dim, used=65536):
        super().__init__()
        self.embedding = nn.Embedding(codes, dim)
        self.register_buffer("codebook_used", torch.zeros(used))  # usage history, not a parameter

    def codebook(self):
        return F.normalize(self.embedding.weight, dim=-1)

    def ids(self, h):
        """Cosine nearest code of every vector of h [B, C, s, s] -> [B, s*s]
        and the margin between the best and second-best similarity."""
        b, c = h.shape[:2]
        z = F.normalize(h.permute(0, 2, 3, 1).reshape(-1, c), dim=-1)
        sim = z @ self.codebook().t()
        top = sim.topk(2, dim=-1).values
        return sim.argmax(dim=-1).reshape(b, -1), (top[:, 0] - top[:, 1]).min().item()

    def embed(self, ids, s):
        b = ids.shape[0]
        return self.codebook()[ids].reshape(b, s, s, -1).permute(0, 3, 1, 2)


class VQ16(nn.Module):
    def __init__(self, in_ch=3, ch=128, ch_mult=(1, 1, 2, 2, 4), num_res=2, z_ch=256, codes=8912, cvae=32, used=65536):
        super().__init__()
        self.encoder = Encoder(in_ch, ch, ch_mult, num_res, z_ch)
        self.decoder = Decoder(in_ch, ch, ch_mult, num_res, z_ch)
        self.quantize = Quantizer(codes, cvae, used)
        self.quant_conv = nn.Conv2d(z_ch, cvae, 1)
        self.post_quant_conv = nn.Conv2d(cvae, z_ch, 1)

    def encode(self, x):
        """The continuous latent [B, cvae, H/16, W/16]."""
        return self.quant_conv(self.encoder(x))

    def tokenize(self, h, scales):
        """ids per scale, each scale quantised on its own from the
        area-downsampled latent, and the smallest similarity margin."""
        out, margin = [], math.inf
        for s in scales:
            hs = h if s == h.shape[-1] else F.interpolate(h, size=(s, s), mode="area")
            ids, m = self.quantize.ids(hs)
            out.append(ids)
            margin = min(margin, m)
        return out, margin

    def decode(self, z):
        """Images from latent z [B, cvae, s, s], decoded at its own size."""
        return self.decoder(self.post_quant_conv(z))


# ---------------------------------------------------------------- FlexVAR

def sincos_grid(c, n):
    """[1, C, n, n]: channel 2m sin(row w_m), channel 2m+1 cos(col w_m)."""
    w = torch.exp(torch.arange(0, c, 2, dtype=torch.float64) * -(math.log(10000.0) / c))
    rows = torch.arange(n, dtype=torch.float64)
    g = torch.zeros(c, n, n, dtype=torch.float64)
    g[0::2] = torch.sin(rows[None, :, None] * w[:, None, None]).expand(-1, n, n)
    g[1::2] = torch.cos(rows[None, None, :] * w[:, None, None]).expand(-1, n, n)
    return g[None]


class Attention(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads, self.d = heads, c // heads
        self.mat_qkv = nn.Linear(c, 3 * c, bias=False)
        self.q_bias, self.v_bias = nn.Parameter(torch.zeros(c)), nn.Parameter(torch.zeros(c))
        self.register_buffer("zero_k_bias", torch.zeros(c))
        self.scale_mul_1H11 = nn.Parameter(torch.full((1, heads, 1, 1), 4.0).log())
        self.proj = nn.Linear(c, c)
        self.cache = None

    def forward(self, x, mask):
        b, n, c = x.shape
        bias = torch.cat((self.q_bias, self.zero_k_bias, self.v_bias))
        q, k, v = F.linear(x, self.mat_qkv.weight, bias).view(b, n, 3, self.heads, self.d).permute(2, 0, 3, 1, 4)
        temp = self.scale_mul_1H11.clamp_max(math.log(100)).exp()
        q = F.normalize(q, dim=-1) * temp
        k = F.normalize(k, dim=-1)
        if self.cache is not None:
            if self.cache:
                k = torch.cat((self.cache[0], k), dim=2)
                v = torch.cat((self.cache[1], v), dim=2)
            self.cache[:] = [k, v]
        a = q @ k.transpose(-1, -2)
        if mask is not None:
            a = a + mask
        o = (a.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(o)


class FFN(nn.Module):
    def __init__(self, c, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, hidden), nn.Linear(hidden, c)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


def layer_norm(x):
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


class Block(nn.Module):
    def __init__(self, c, heads, mlp_ratio):
        super().__init__()
        self.c = c
        self.attn = Attention(c, heads)
        self.ffn = FFN(c, round(c * mlp_ratio))
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(c, 6 * c))

    def forward(self, x, cond, mask):
        g1, g2, s1, s2, b1, b2 = self.ada_lin(cond).view(-1, 1, 6, self.c).unbind(2)
        x = x + self.attn(layer_norm(x) * (1 + s1) + b1, mask) * g1
        return x + self.ffn(layer_norm(x) * (1 + s2) + b2) * g2


class HeadNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(c, 2 * c))

    def forward(self, x, cond):
        scale, shift = self.ada_lin(cond).view(-1, 1, 2, self.c).unbind(2)
        return layer_norm(x) * (1 + scale) + shift


def scale_ids(scales):
    return torch.cat([torch.full((s * s,), i) for i, s in enumerate(scales)])


class FlexVAR(nn.Module):
    def __init__(self, depth=16, width=1024, heads=16, mlp_ratio=4.0, num_classes=1000, vocab=8912, cvae=32,
                 grid=32, mask_scales=(1, 2, 3, 4, 5, 6, 8, 10, 13, 16)):
        super().__init__()
        self.width, self.num_classes = width, num_classes
        self.word_embed = nn.Linear(cvae, width)
        self.class_emb = nn.Embedding(num_classes + 1, width)
        self.pos_start = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_1LC = nn.Parameter(sincos_grid(width, grid).float())
        self.blocks = nn.ModuleList([Block(width, heads, mlp_ratio) for _ in range(depth)])
        d = scale_ids(mask_scales)
        self.register_buffer("attn_bias_for_masking", torch.where(d[:, None] >= d[None, :], 0.0, -math.inf)[None, None])
        self.head_nm = HeadNorm(width)
        self.head = nn.Linear(width, vocab)

    def positions(self, scales):
        return torch.cat([F.interpolate(self.pos_1LC, size=(s, s), mode="area").flatten(2).transpose(1, 2)
                          for s in scales], dim=1)

    def forward(self, labels, inputs, scales):
        """Teacher-forcing logits [B, L, V] over a schedule starting at 1;
        inputs [B, L - 1, cvae] are the later scales' input features."""
        cond = self.class_emb(labels)
        x = (cond[:, None] + self.pos_start)
        if inputs is not None:
            x = torch.cat((x, self.word_embed(inputs)), dim=1)
        x = x + self.positions(scales)
        d = scale_ids(scales)
        mask = torch.where(d[:, None] >= d[None, :], 0.0, -math.inf).to(x.dtype)
        for b in self.blocks:
            x = b(x, cond, mask)
        return self.head(self.head_nm(x, cond))

    @torch.no_grad()
    def sample(self, vq, labels, scales, cfg, top_k, top_p, generator):
        """One KV-cached step per scale: CFG (1+t)cond - t uncond with t
        ramping linearly to cfg, top-k then top-p, the sampled codes
        upsampled bicubically as the next input; the last scale decoded."""
        b = labels.shape[0]
        lab = torch.cat((labels, torch.full_like(labels, self.num_classes)))
        cond = self.class_emb(lab)
        codebook = vq.quantize.codebook()
        for blk in self.blocks:
            blk.attn.cache = []
        x = cond[:, None] + self.pos_start + self.positions(scales[:1])
        n = len(scales)
        for k, s in enumerate(scales):
            for blk in self.blocks:
                x = blk(x, cond, None)
            logits = self.head(self.head_nm(x, cond))
            t = cfg * k / max(n - 1, 1)
            logits = (1 + t) * logits[:b] - t * logits[b:]
            ids = sample_top_k_top_p(logits, top_k, top_p, generator)
            z = codebook[ids].reshape(b, s, s, -1).permute(0, 3, 1, 2)
            if k + 1 < n:
                nxt = F.interpolate(z, size=(scales[k + 1],) * 2, mode="bicubic").flatten(2).transpose(1, 2)
                x = self.word_embed(nxt) + self.positions(scales[k + 1:k + 2])
                x = x.repeat(2, 1, 1)
        for blk in self.blocks:
            blk.attn.cache = None
        return vq.decode(z)


def sample_top_k_top_p(logits, top_k, top_p, generator):
    b, l, v = logits.shape
    if top_k > 0:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    if 0 < top_p < 1:
        srt, idx = logits.sort(dim=-1, descending=False)
        drop = srt.softmax(dim=-1).cumsum(dim=-1) <= 1 - top_p
        drop[..., -1:] = False
        logits = logits.masked_fill(drop.scatter(-1, idx, drop), -math.inf)
    p = logits.softmax(dim=-1).reshape(-1, v)
    return torch.multinomial(p, 1, generator=generator).reshape(b, l)


# ---------------------------------------------------------------- weights

def randomize(module, gen, gamma=0.3):
    """Random weights that exercise every path: linear and conv weights
    N(0, 1/fan_in), biases and norm affines N(0, 0.1) around their
    identity, AdaLN gates large enough that every block matters, the
    temperature around log 4, the position grid at its sin/cos values."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("pos_1LC"):
                continue
            if name.endswith("scale_mul_1H11"):
                p.copy_(math.log(4.0) + 0.2 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif "norm" in name.split(".")[-2] if "." in name else False:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) / math.sqrt(fan_in))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
        if isinstance(module, FlexVAR):
            for blk in module.blocks:
                c = blk.c
                w = blk.ada_lin[1].weight
                w[:2 * c] *= gamma  # the residual gates
            module.head.weight.mul_(2.0)
