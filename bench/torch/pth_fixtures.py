#!/usr/bin/python3
"""Checkpoints written by torch.save for the tests of package nn/pth.

Writes small files under testdata/pth/:
  * state.pth      a state dict (OrderedDict, with torch's _metadata) of
                   float32, float16, bfloat16 (as an nn.Parameter) and int64
                   tensors, a transposed (non-contiguous) view sharing a
                   storage, a slice at a storage offset, a 0-d tensor and an
                   empty tensor; zip format.
  * state_legacy.pth   the same dict in the legacy (non-zip) format.
  * state_proto4.pth   the same dict pickled with protocol 4.
  * nested.pth     {"epoch", "trainer": {"var_wo_ddp": state dict,
                   "var_opt": an optimizer state}, "args": plain values},
                   the layout of FlexVAR's and SAR's training checkpoints.
  * namespace.pth  {"model": state dict, "args": argparse.Namespace}, which
                   a state-dict reader must refuse (a global it does not know).
The values are fixed (aranges), so the Go test states them directly.

Run from the repository root:  /usr/bin/python3 bench/torch/pth_fixtures.py
"""
import argparse
import collections
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "pth")


def state_dict():
    m = torch.nn.Linear(3, 2)  # gives the OrderedDict torch's _metadata
    sd = m.state_dict()
    with torch.no_grad():
        sd["weight"].copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3))
        sd["bias"].copy_(torch.tensor([-1.5, 2.25]))
    sd["half"] = torch.arange(3, dtype=torch.float16) / 4
    sd["bf16"] = torch.nn.Parameter(torch.arange(4, dtype=torch.bfloat16).reshape(2, 2) - 1)
    sd["count"] = torch.tensor([7, -3], dtype=torch.int64)
    sd["weight_t"] = sd["weight"].t()  # shares weight's storage, strides (1, 3)
    sd["tail"] = torch.arange(10, dtype=torch.float32)[4:7]  # offset 4
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    return sd


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = state_dict()
    torch.save(sd, os.path.join(OUT, "state.pth"))
    torch.save(sd, os.path.join(OUT, "state_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(OUT, "state_proto4.pth"), pickle_protocol=4)

    var = collections.OrderedDict()
    var["head.weight"] = torch.arange(8, dtype=torch.float32).reshape(4, 2)
    var["head.bias"] = torch.ones(4)
    opt = {"state": {0: {"step": torch.tensor(5.0), "exp_avg": torch.zeros(4, 2)}},
           "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.95), "params": [0, 1], "fused": None}]}
    args = collections.OrderedDict(depth=16, pn="1_2_3", tblr=1e-4, patch_nums=(1, 2, 3), tlr=None, afuse=True)
    torch.save({"epoch": 180, "iter": 0, "trainer": {"config": {"V": 8912}, "var_wo_ddp": var, "var_opt": opt},
                "args": args}, os.path.join(OUT, "nested.pth"))

    torch.save({"model": var, "args": argparse.Namespace(lr=0.1)}, os.path.join(OUT, "namespace.pth"))
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
