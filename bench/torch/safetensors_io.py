"""A minimal safetensors writer shared by the golden-file scripts.

The format: an 8-byte little-endian header length, a JSON header (dtype,
shape and data_offsets per tensor, optional __metadata__ string map) padded
with spaces to 8 bytes, then the raw little-endian data. It needs no
safetensors package, and it shows that sargo reads files written by
another program.
"""

import json
import struct

import torch


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor); all written as little-endian F32."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors:
        b = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
