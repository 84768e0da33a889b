#!/usr/bin/python3
"""Fixture for loading torchvision's published GoogLeNet file into a googlenet built without auxiliary heads.

The published file (googlenet-1378be20.pth) holds the aux1.*/aux2.* heads, and torchvision's builder, given the
weights, builds GoogLeNet(aux_logits=True, transform_input=True), loads the file strictly, then drops the heads.
This script runs that real builder path with the download replaced: the "file" is a state dict of
googlenet(aux_logits=True) filled with the deterministic weights of tools/reference/deterministic.py (the C# test
computes the same weights and writes them to a .pth of its own). It records which keys the builder dropped, the
options the returned model has, and its eval-mode output on the deterministic input.

Run from the repository root:

    /usr/bin/python3 tools/catalog/make_googlenet_fixture.py

Writes Cnn.Tests/Fixtures/catalog/googlenet_published.json (a few KB). Output is identical from run to run.
"""
import json
import os
import sys
from unittest import mock

import numpy as np
import torch
import torchvision
from torchvision.models import GoogLeNet_Weights, googlenet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from deterministic import deterministic_tensor, hash_uniform  # noqa: E402

INPUT_SHAPE = (2, 3, 64, 64)
INPUT_K = 1000000
OUT = os.path.join("Cnn.Tests", "Fixtures", "catalog", "googlenet_published.json")


def deterministic_file():
    """What the published file would hold, with deterministic values: googlenet(aux_logits=True)'s state dict."""
    with_aux = googlenet(weights=None, aux_logits=True, init_weights=False)
    return {key: torch.from_numpy(deterministic_tensor(k, key, list(t.shape)))
            for k, (key, t) in enumerate(with_aux.state_dict().items())}


def main():
    torch.set_num_threads(2)
    file = deterministic_file()
    weights = GoogLeNet_Weights.IMAGENET1K_V1
    with mock.patch.object(GoogLeNet_Weights, "get_state_dict", lambda self, progress: file):
        model = googlenet(weights=weights)    # the real builder: strict load, then the aux heads are dropped
    model.eval()
    kept = set(model.state_dict().keys())
    dropped = [key for key in file if key not in kept]
    x = torch.from_numpy(hash_uniform(INPUT_K, int(np.prod(INPUT_SHAPE))).astype(np.float32).reshape(INPUT_SHAPE))
    with torch.no_grad():
        y = model(x).numpy()
    fixture = {
        "generator": "tools/catalog/make_googlenet_fixture.py",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "weights": "googlenet " + weights.name,
        "file_keys": len(file),
        "dropped_keys": dropped,
        "transform_input": model.transform_input,
        "aux_logits": model.aux_logits,
        "input_shape": list(INPUT_SHAPE),
        "output_shape": list(y.shape),
        "output": [float(v) for v in y.reshape(-1)],
        "output_max_abs": float(np.abs(y).max()),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(dropped)} aux keys dropped, transform_input={model.transform_input}, "
          f"max |output| {fixture['output_max_abs']:.4g}", file=sys.stderr)


if __name__ == "__main__":
    main()
