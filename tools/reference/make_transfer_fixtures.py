#!/usr/bin/python3
"""Fixtures for the Cnn.Transfer tests (Cnn.Tests/Transfer), written by real PyTorch.

Run from the repository root:

    /usr/bin/python3 tools/reference/make_transfer_fixtures.py
        Writes Cnn.Tests/Fixtures/transfer/: LeNet-5 weights as torch.save files and as safetensors, a few tiny
        files for unwrapping and error cases, and lenet5_expected.json (input and eval-mode logits).

    /usr/bin/python3 tools/reference/make_transfer_fixtures.py --verify DIR
        Loads the C#-written DIR/csharp_lenet5.pt and DIR/csharp_lenet5.safetensors into the Python LeNet-5 with
        load_state_dict(strict=True), compares them with the weights the C# test meant to write, and writes the
        result to Cnn.Tests/Fixtures/transfer/csharp_roundtrip_verified.json.  DIR is written by the test
        TransferRoundTripTests.SavedFilesMatchPythonVerification (bin/Release/net10.0/transfer_roundtrip).

The LeNet-5 here has the zoo's keys (features.0/3, classifier.0/2/4; tanh, 2x2 average pooling).  Its weights
come from deterministic_tensor(), which the C# tests reimplement bit-exactly (Cnn.Tests/Transfer/TransferFixtures.cs):
the same integer hash as tools/reference/make_zoo_fixtures.py.  No Python package beyond torch and numpy is needed;
safetensors files are written and read by hand (the format is 8-byte little-endian header length + JSON + data).
"""
import argparse
import collections
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

import deterministic
from deterministic import hash_uniform

INPUT_K = 1000000
INPUT_SHAPE = [2, 1, 32, 32]
FIXTURE_SALT = 0          # weights of the files written here
ROUNDTRIP_SALT = 1000     # weights the C# round-trip test writes (different, so no file can stand in for the other)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO_ROOT, "Cnn.Tests", "Fixtures", "transfer")


class LeNet5(nn.Module):
    """The zoo's LeNet-5 (Cnn.Zoo/Models/LeNet5.cs) with its default tanh and average pooling."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def deterministic_tensor(k, key, shape):
    """State-dict tensor number k by the shared formula (weights u * sqrt(6 / fan_in), 1-D biases 0.05 * u)."""
    return torch.from_numpy(deterministic.deterministic_tensor(k, key, shape))


def deterministic_lenet(salt):
    model = LeNet5()
    state = collections.OrderedDict(
        (key, deterministic_tensor(salt + k, key, list(t.shape))) for k, (key, t) in enumerate(model.state_dict().items()))
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, state


def deterministic_input():
    return torch.from_numpy(hash_uniform(INPUT_K, int(np.prod(INPUT_SHAPE))).astype(np.float32).reshape(INPUT_SHAPE))


SAFETENSORS_DTYPES = {torch.float32: ("F32", np.float32), torch.float64: ("F64", np.float64),
                      torch.int64: ("I64", np.int64), torch.float16: ("F16", np.float16)}


def write_safetensors(path, state):
    header = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for key, t in state.items():
        name, _ = SAFETENSORS_DTYPES[t.dtype]
        data = t.detach().contiguous().numpy().tobytes()
        header[key] = {"dtype": name, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Returns (OrderedDict of tensors in header order, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=collections.OrderedDict)
    data = raw[8 + n:]
    by_name = {name: np_type for name, np_type in SAFETENSORS_DTYPES.values()}
    state = collections.OrderedDict()
    metadata = header.pop("__metadata__", None)
    for key, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=by_name[entry["dtype"]]).reshape(entry["shape"])
        state[key] = torch.from_numpy(array.copy())
    return state, metadata


def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def write_file(path, save):
    save(path)
    print("%-40s %8d bytes" % (os.path.relpath(path, REPO_ROOT), os.path.getsize(path)))


def make_fixtures():
    os.makedirs(OUT_DIR, exist_ok=True)
    model, state = deterministic_lenet(FIXTURE_SALT)

    # 1. torch.save(state_dict) with a mix of requires_grad flags in the pickle: the features' tensors are saved as
    #    requires_grad=True leaves, the classifier's as False (what state_dict() gives).  After loading, every C#
    #    parameter must still require grad whatever the file says.
    mixed = collections.OrderedDict(
        (k, v.clone().requires_grad_(k.startswith("features."))) for k, v in state.items())
    write_file(os.path.join(OUT_DIR, "lenet5.pt"), lambda p: torch.save(mixed, p))

    # 2. A training checkpoint of a DataParallel model: {"state_dict": {"module.<key>": ...}, "epoch": 3, ...}.
    checkpoint = {"state_dict": collections.OrderedDict(("module." + k, v) for k, v in state.items()),
                  "epoch": 3, "best_acc1": 0.5, "arch": "lenet5"}
    write_file(os.path.join(OUT_DIR, "lenet5_checkpoint.pt"), lambda p: torch.save(checkpoint, p))

    # 3. The same weights as safetensors.
    write_file(os.path.join(OUT_DIR, "lenet5.safetensors"), lambda p: write_safetensors(p, state))

    # 4. {"model": {"model.0.weight", "model.0.bias"}, "epoch": 7}: a one-layer nn.Sequential wrapped twice.
    tiny = collections.OrderedDict([("model.0.weight", torch.arange(12, dtype=torch.float32).reshape(4, 3) / 10),
                                    ("model.0.bias", torch.tensor([1.0, 2.0, 3.0, 4.0]))])
    write_file(os.path.join(OUT_DIR, "tiny_model_container.pt"), lambda p: torch.save({"model": tiny, "epoch": 7}, p))

    # 4b. A checkpoint as torchvision's reference train.py writes it: model, optimizer (with momentum tensors),
    #     scheduler, epoch, argparse args, and a numpy scalar (which PyBridge alone cannot unpickle).
    net = nn.Sequential(nn.Linear(3, 4))
    net.load_state_dict(collections.OrderedDict([("0.weight", tiny["model.0.weight"]), ("0.bias", tiny["model.0.bias"])]))
    sgd = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.ones(2, 3)).sum().backward()
    sgd.step()
    net.load_state_dict(collections.OrderedDict([("0.weight", tiny["model.0.weight"]), ("0.bias", tiny["model.0.bias"])]))
    reference = {"model": net.state_dict(), "optimizer": sgd.state_dict(),
                 "lr_scheduler": torch.optim.lr_scheduler.StepLR(sgd, 30).state_dict(), "epoch": 5,
                 "args": argparse.Namespace(model="tiny", lr=0.1), "best_acc1": np.float64(0.7),
                 "class_weights": np.ones(3, dtype=np.float32)}
    write_file(os.path.join(OUT_DIR, "tiny_reference_checkpoint.pth"), lambda p: torch.save(reference, p))

    # 5. A different architecture (a small ResNet-like stem and head) for strict-load failures.
    wrong = collections.OrderedDict([("conv1.weight", torch.ones(8, 1, 3, 3)), ("bn1.weight", torch.ones(8)),
                                     ("fc.weight", torch.ones(10, 8)), ("fc.bias", torch.zeros(10))])
    write_file(os.path.join(OUT_DIR, "tiny_wrong_arch.pt"), lambda p: torch.save(wrong, p))

    # 6. The pre-1.6 (non-zip) torch.save format, which the C# side rejects with a "re-save" message.
    write_file(os.path.join(OUT_DIR, "tiny_legacy_format.pt"),
               lambda p: torch.save(wrong, p, _use_new_zipfile_serialization=False))

    # 7. State dicts for nn.Linear(3, 2) with the right names but wrong shapes, for PyBridge's load_py pitfalls:
    #    a smaller weight (load_py copies it into part of the larger one) and a larger one (load_py fails even when
    #    told to skip the key).
    write_file(os.path.join(OUT_DIR, "tiny_linear_smaller.pt"),
               lambda p: torch.save(collections.OrderedDict([("weight", torch.full((1, 3), 7.0)),
                                                             ("bias", torch.full((2,), 5.0))]), p))
    write_file(os.path.join(OUT_DIR, "tiny_linear_larger.pt"),
               lambda p: torch.save(collections.OrderedDict([("weight", torch.full((5, 5), 7.0)),
                                                             ("bias", torch.full((2,), 5.0))]), p))

    x = deterministic_input()
    with torch.no_grad():
        logits = model(x)
    expected = {
        "generator": "tools/reference/make_transfer_fixtures.py",
        "torch_version": torch.__version__,
        "model": "lenet5 (tanh, average pooling, 10 classes), weights deterministic_tensor(k) for state_dict index k",
        "keys": list(state.keys()),
        "input_shape": INPUT_SHAPE,
        "input": floats(x),
        "logits_shape": list(logits.shape),
        "logits": floats(logits),
    }
    path = os.path.join(OUT_DIR, "lenet5_expected.json")
    write_file(path, lambda p: open(p, "w").write(json.dumps(expected, indent=1) + "\n"))


def verify(directory):
    """Strict-loads the C#-written files into the Python LeNet-5 and records what happened."""
    reference, reference_state = deterministic_lenet(ROUNDTRIP_SALT)
    x = deterministic_input()
    with torch.no_grad():
        reference_logits = reference(x)
    result = {"generator": "tools/reference/make_transfer_fixtures.py --verify", "torch_version": torch.__version__,
              "salt": ROUNDTRIP_SALT, "files": {}}
    ok = True
    for name in ("csharp_lenet5.pt", "csharp_lenet5.safetensors"):
        path = os.path.join(directory, name)
        entry = {}
        try:
            if name.endswith(".pt"):
                state = torch.load(path, map_location="cpu")
                entry["metadata"] = None
            else:
                state, entry["metadata"] = read_safetensors(path)
            model = LeNet5()
            model.load_state_dict(state, strict=True)
            model.eval()
            entry["strict_load"] = "ok"
            entry["keys_in_model_order"] = list(state.keys()) == list(model.state_dict().keys())
            entry["dtypes"] = sorted({str(t.dtype).replace("torch.", "") for t in state.values()})
            entry["max_abs_diff_weights"] = max(
                float((state[k].float() - reference_state[k]).abs().max()) for k in reference_state)
            with torch.no_grad():
                logits = model(x)
            entry["max_abs_diff_logits"] = float((logits - reference_logits).abs().max())
            entry["logits"] = floats(logits)
        except Exception as e:  # recorded, so the committed JSON makes the test fail with the reason
            entry["strict_load"] = "failed: %s: %s" % (type(e).__name__, e)
            ok = False
        result["files"][name] = entry
        print(name, {k: v for k, v in entry.items() if k != "logits"})
    out = os.path.join(OUT_DIR, "csharp_roundtrip_verified.json")
    with open(out, "w") as f:
        f.write(json.dumps(result, indent=1) + "\n")
    print("wrote", os.path.relpath(out, REPO_ROOT))
    return 0 if ok else 1


def main(argv):
    torch.set_num_threads(1)
    if len(argv) == 2 and argv[0] == "--verify":
        return verify(argv[1])
    if argv:
        print(__doc__)
        return 2
    make_fixtures()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
