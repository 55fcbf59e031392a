#!/usr/bin/python3
"""Golden files for package sar: the FlexVAR transformer and one SAR step in PyTorch.

A tiny model (depth 2, width 32, 2 heads, MLP ratio 4, vocabulary 16,
CVae 4, largest latent 4 so a position grid of 8x8, 3 classes plus the
null class, L2-normalised attention, no dropout / drop-path / condition
dropout) with seeded random weights (not the training init, so that every
parameter matters) runs one teacher-forcing pass over the schedule 1_2_3_4
and one SAR step (rollout of the last transition, argmax teacher). The
forward and backward run in float64 from float32 weights and inputs; every
file stores F32.

Files (under testdata/sar/):

model.safetensors   the weights, named exactly as sar.Model.Parameters
                    names them (word_embed.*, class_emb.weight, pos_start
                    [1,1,C], pos_1LC [1,C,8,8], blocks.i.attn.{mat_qkv.weight,
                    q_bias, v_bias, scale_mul_1H11, proj.*}, blocks.i.ffn.
                    {fc1,fc2}.*, blocks.i.ada_lin.1.*, head_nm.ada_lin.1.*,
                    head.*). Loads with nn.LoadCheckpoint(path, params, nil).

golden.safetensors  metadata: schedule "1_2_3_4", sigma "0.01",
                    config (the sar.Config as JSON).
  labels       [B]                class ids (B = 3, the last one the null class 3)
  codebook     [V, CVae]          L2-normalised codebook
  ids.k        [B, s_k^2]         ground-truth ids of scale k (k = 0..3)
  z.k          [B, CVae, s_k, s_k] codebook[ids.k], the per-scale latents
  inputs       [B, L-1, CVae]     teacher-forcing inputs: bicubic(z.(k-1) -> s_k)
                                  token-major for k >= 1 (sar.NextScaleInputs)
  logits       [B, L, V]          pass-1 (teacher-forcing) logits, L = 30
  loss_tf      [1]                mean cross-entropy over all B*L tokens
  grad_tf.<name>                  gradient of loss_tf for every parameter
  teacher.k    [B, s_k^2]         argmax of pass-1 logits at scale k
  sar.inputs   [B, s_n^2, CVae]   pass-2 inputs: bicubic(codebook[teacher.(n-2)]
                                  as [B,CVae,s_{n-2},s_{n-2}] -> s_{n-1}), token-major
                                  (0-based scale indices, n = 4 scales: 3x3 -> 4x4)
  sar.logits   [B, s_n^2, V]      pass-2 logits: the model over the schedule
                                  [1, s_n] in student-forcing mode (first token
                                  the class embedding alone, without pos_start,
                                  as FlexVAR's forward(student_forcing=True)),
                                  that token's row dropped
  loss_csfl    [1]                CE(sar.logits, teacher.(n-1)), mean over B*s_n^2
  loss         [1]                loss_tf + sigma * loss_csfl
  grad_sar.<name>                 gradient of loss for every parameter (the
                                  teacher ids carry no gradient)

Run from the repository root:  /usr/bin/python3 bench/torch/sar_model.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "sar")

CFG = dict(Depth=2, Width=32, Heads=2, MLPRatio=4, NumClasses=3, Vocab=16, CVae=4,
           Largest=4, CondDrop=0, DropPath=0, AttnL2=True)
SCALES = [1, 2, 3, 4]
SIGMA = 0.01
B = 3
EPS = 1e-6


def make_weights(gen):
    """Seeded random weights in the Go model's parameter order."""
    C, V, Cv, D = CFG["Width"], CFG["Vocab"], CFG["CVae"], CFG["Depth"]
    H, hid, G = CFG["Heads"], CFG["Width"] * CFG["MLPRatio"], 2 * CFG["Largest"]

    def rnd(std, *shape):
        return (torch.randn(*shape, generator=gen) * std).float()

    w = [("word_embed.weight", rnd(0.3, C, Cv)), ("word_embed.bias", rnd(0.1, C)),
         ("class_emb.weight", rnd(0.3, CFG["NumClasses"] + 1, C)),
         ("pos_start", rnd(0.3, 1, 1, C)), ("pos_1LC", rnd(0.5, 1, C, G, G))]
    s = 1 / math.sqrt(C)
    for i in range(D):
        p = f"blocks.{i}."
        w += [(p + "attn.mat_qkv.weight", rnd(s, 3 * C, C)), (p + "attn.q_bias", rnd(0.1, C)),
              (p + "attn.v_bias", rnd(0.1, C)),
              (p + "attn.scale_mul_1H11", (math.log(4) + rnd(0.3, 1, H, 1, 1)).float()),
              (p + "attn.proj.weight", rnd(s, C, C)), (p + "attn.proj.bias", rnd(0.1, C)),
              (p + "ffn.fc1.weight", rnd(s, hid, C)), (p + "ffn.fc1.bias", rnd(0.1, hid)),
              (p + "ffn.fc2.weight", rnd(1 / math.sqrt(hid), C, hid)), (p + "ffn.fc2.bias", rnd(0.1, C)),
              (p + "ada_lin.1.weight", rnd(0.5 * s, 6 * C, C)), (p + "ada_lin.1.bias", rnd(0.1, 6 * C))]
    w += [("head_nm.ada_lin.1.weight", rnd(0.5 * s, 2 * C, C)), ("head_nm.ada_lin.1.bias", rnd(0.1, 2 * C)),
          ("head.weight", rnd(s, V, C)), ("head.bias", rnd(0.1, V))]
    return w


def scale_ids(scales):
    return torch.cat([torch.full((s * s,), i) for i, s in enumerate(scales)])


def positions(P, scales):
    C = P["pos_1LC"].shape[1]
    out = [F.interpolate(P["pos_1LC"], size=(s, s), mode="area").reshape(1, C, -1).permute(0, 2, 1) for s in scales]
    return torch.cat(out, dim=1)


def attention(P, p, x, bias):
    Bn, L, C = x.shape
    H = CFG["Heads"]
    qkv_bias = torch.cat([P[p + "q_bias"], torch.zeros_like(P[p + "q_bias"]), P[p + "v_bias"]])
    qkv = F.linear(x, P[p + "mat_qkv.weight"], qkv_bias).view(Bn, L, 3, H, C // H).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    mul = P[p + "scale_mul_1H11"].clamp_max(math.log(100)).exp()
    q = F.normalize(q, dim=-1) * mul
    k = F.normalize(k, dim=-1)
    att = (q @ k.transpose(-2, -1) + bias).softmax(dim=-1)
    o = (att @ v).transpose(1, 2).reshape(Bn, L, C)
    return F.linear(o, P[p + "proj.weight"], P[p + "proj.bias"])


def ada(P, p, cond, n):
    C = CFG["Width"]
    return F.linear(F.silu(cond), P[p + "ada_lin.1.weight"], P[p + "ada_lin.1.bias"]).view(-1, 1, n, C).unbind(2)


def block(P, i, x, cond, bias):
    p = f"blocks.{i}."
    C = CFG["Width"]
    g1, g2, s1, s2, h1, h2 = ada(P, p, cond, 6)
    ln = lambda t: F.layer_norm(t, (C,), eps=EPS)
    x = x + attention(P, p + "attn.", ln(x) * (1 + s1) + h1, bias) * g1
    h = ln(x) * (1 + s2) + h2
    h = F.linear(F.gelu(F.linear(h, P[p + "ffn.fc1.weight"], P[p + "ffn.fc1.bias"]), approximate="tanh"),
                 P[p + "ffn.fc2.weight"], P[p + "ffn.fc2.bias"])
    return x + h * g2


def forward(P, labels, scales, inputs, student=False):
    """FlexVAR's forward: start tokens, word embedding, positions, blocks, head.

    With student=True (SAR's pass 2) the first token is the class embedding
    alone, without pos_start.
    """
    C = CFG["Width"]
    cond = F.embedding(labels, P["class_emb.weight"])
    first = scales[0] ** 2
    sos = cond.unsqueeze(1).expand(-1, first, -1)
    if not student:
        sos = sos + P["pos_start"].expand(cond.shape[0], first, -1)
    x = torch.cat([sos, F.linear(inputs, P["word_embed.weight"], P["word_embed.bias"])], dim=1)
    x = x + positions(P, scales)
    d = scale_ids(scales).view(-1, 1)
    bias = torch.where(d >= d.T, 0.0, -math.inf).to(x.dtype)
    for i in range(CFG["Depth"]):
        x = block(P, i, x, cond, bias)
    sc, sh = ada(P, "head_nm.", cond, 2)
    x = F.layer_norm(x, (C,), eps=EPS) * (1 + sc) + sh
    return F.linear(x, P["head.weight"], P["head.bias"])


def up_tokens(z, s):
    """bicubic(z -> s x s), flattened token-major [B, s^2, CVae]."""
    u = F.interpolate(z, size=(s, s), mode="bicubic", align_corners=False)
    return u.reshape(z.shape[0], z.shape[1], -1).permute(0, 2, 1)


def embed(cb, ids, s):
    return cb[ids].reshape(ids.shape[0], s, s, cb.shape[1]).permute(0, 3, 1, 2)


def grads(w, P, loss):
    gs = torch.autograd.grad(loss, [P[n] for n, _ in w])
    return gs


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(4)
    w = make_weights(gen)
    V, Cv = CFG["Vocab"], CFG["CVae"]
    labels = torch.tensor([0, 2, CFG["NumClasses"]])
    cb = F.normalize(torch.randn(V, Cv, generator=gen).float(), dim=-1)
    ids = [torch.randint(0, V, (B, s * s), generator=gen) for s in SCALES]
    cb64 = cb.double()
    z = [embed(cb64, ids[k], s) for k, s in enumerate(SCALES)]
    inputs = torch.cat([up_tokens(z[k - 1], SCALES[k]) for k in range(1, len(SCALES))], dim=1)

    P = {n: t.double().requires_grad_(True) for n, t in w}
    # Pass 1: teacher forcing.
    logits = forward(P, labels, SCALES, inputs)
    gt = torch.cat(ids, dim=1)
    loss_tf = F.cross_entropy(logits.reshape(-1, V), gt.reshape(-1))
    g_tf = grads(w, P, loss_tf)

    # SAR: argmax teacher, rollout of the last transition.
    logits = forward(P, labels, SCALES, inputs)
    loss_tf2 = F.cross_entropy(logits.reshape(-1, V), gt.reshape(-1))
    off = [0]
    for s in SCALES:
        off.append(off[-1] + s * s)
    teacher = [logits.detach()[:, off[k]:off[k + 1]].argmax(-1) for k in range(len(SCALES))]
    top2 = logits.detach().topk(2, dim=-1).values
    margin = (top2[..., 0] - top2[..., 1]).min().item()
    assert margin > 1e-2, f"argmax teacher too close to a tie ({margin}); change the seed"
    n = len(SCALES)
    sar_in = up_tokens(embed(cb64, teacher[n - 2], SCALES[n - 2]), SCALES[n - 1])
    sar_logits = forward(P, labels, [SCALES[0], SCALES[n - 1]], sar_in, student=True)[:, SCALES[0] ** 2:]
    loss_csfl = F.cross_entropy(sar_logits.reshape(-1, V), teacher[n - 1].reshape(-1))
    loss = loss_tf2 + SIGMA * loss_csfl
    g_sar = grads(w, P, loss)

    write_safetensors(os.path.join(OUT, "model.safetensors"), w, {"format": "sargo-checkpoint/1"})
    out = [("labels", labels.float()), ("codebook", cb)]
    out += [(f"ids.{k}", ids[k].float()) for k in range(n)]
    out += [(f"z.{k}", z[k]) for k in range(n)]
    out += [("inputs", inputs), ("logits", logits), ("loss_tf", loss_tf.reshape(1))]
    out += [("grad_tf." + name, g) for (name, _), g in zip(w, g_tf)]
    out += [(f"teacher.{k}", teacher[k].float()) for k in range(n)]
    out += [("sar.inputs", sar_in), ("sar.logits", sar_logits), ("loss_csfl", loss_csfl.reshape(1)),
            ("loss", loss.reshape(1))]
    out += [("grad_sar." + name, g) for (name, _), g in zip(w, g_sar)]
    meta = {"schedule": "_".join(map(str, SCALES)), "sigma": str(SIGMA), "config": json.dumps(CFG)}
    write_safetensors(os.path.join(OUT, "golden.safetensors"), out, meta)
    print(f"smallest top-1 margin {margin:.4f}")
    print(f"loss_tf {loss_tf.item():.6f}  loss_csfl {loss_csfl.item():.6f}  loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
