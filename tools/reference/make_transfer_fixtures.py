#!/usr/bin/python3
"""Fixtures for the Cnn.Transfer tests (Cnn.Tests/Transfer), written by real PyTorch.

Run from the repository root:

    /usr/bin/python3 tools/reference/make_transfer_fixtures.py
        Writes Cnn.Tests/Fixtures/transfer/: LeNet-5 weights as torch.save files and as safetensors, a few tiny
        files for unwrapping and error cases, and lenet5_expected.json (input and eval-mode logits).

    /usr/bin/python3 tools/reference/make_transfer_fixtures.py --verify DIR
        A manual check after changing the C# writers: loads DIR/csharp_lenet5.pt and DIR/csharp_lenet5.safetensors
        (written by TransferRoundTripTests.SavedFiles_HaveTheContentsOfPyTorchsReference into
        Cnn.Tests/bin/Release/net10.0/transfer_roundtrip) into the Python LeNet-5 with load_state_dict(strict=True)
        and compares weights and logits with the model the test saved.  Prints the result; exit status 1 on failure.

The LeNet-5 here has the zoo's keys (features.0/3, classifier.0/2/4; tanh, 2x2 average pooling).  Its weights
come from deterministic_tensor(), which the C# tests reimplement bit-exactly (Cnn.Tests/Support/DeterministicWeights.cs):
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

    # 8. What Weights.Save must reproduce (TransferRoundTripTests): the LeNet-5 with the round-trip salt, saved the way
    #    PyTorch users save weights, torch.save(model.state_dict()), and as safetensors.  Both are read back here and
    #    strict-loaded into a fresh model that must give the saved model's logits, so the files are known to load.
    roundtrip, _ = deterministic_lenet(ROUNDTRIP_SALT)
    roundtrip_state = roundtrip.state_dict()
    write_file(os.path.join(OUT_DIR, "lenet5_roundtrip.pt"), lambda p: torch.save(roundtrip_state, p))
    write_file(os.path.join(OUT_DIR, "lenet5_roundtrip.safetensors"), lambda p: write_safetensors(p, roundtrip_state))
    x = deterministic_input()
    with torch.no_grad():
        roundtrip_logits = roundtrip(x)
    for name in ("lenet5_roundtrip.pt", "lenet5_roundtrip.safetensors"):
        problem = check_loads(os.path.join(OUT_DIR, name), roundtrip_state, roundtrip_logits, x)
        if problem:
            raise SystemExit("%s: %s" % (name, problem))

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


def check_loads(path, reference_state, reference_logits, x):
    """Strict-loads a weight file into a fresh LeNet-5; returns None when its weights, key order and logits are the
    reference's, else what differs."""
    if path.endswith(".safetensors"):
        state, metadata = read_safetensors(path)
        if metadata != {"format": "pt"}:
            return "metadata %r, expected {'format': 'pt'}" % (metadata,)
    else:
        state = torch.load(path, map_location="cpu")
    model = LeNet5()
    model.load_state_dict(state, strict=True)
    model.eval()
    if list(state.keys()) != list(model.state_dict().keys()):
        return "keys %s are not in the model's order" % list(state.keys())
    for key, value in reference_state.items():
        if value.dtype != state[key].dtype or not torch.equal(value, state[key]):
            return "%s differs from the reference" % key
    with torch.no_grad():
        logits = model(x)
    if not torch.equal(logits, reference_logits):
        return "logits differ by %g" % float((logits - reference_logits).abs().max())
    return None


def verify(directory):
    """Strict-loads the C#-written files into the Python LeNet-5 and prints what happened."""
    reference, reference_state = deterministic_lenet(ROUNDTRIP_SALT)
    x = deterministic_input()
    with torch.no_grad():
        reference_logits = reference(x)
    ok = True
    for name in ("csharp_lenet5.pt", "csharp_lenet5.safetensors"):
        try:
            problem = check_loads(os.path.join(directory, name), reference_state, reference_logits, x)
        except Exception as e:
            problem = "failed to load: %s: %s" % (type(e).__name__, e)
        print("%s: %s" % (name, problem or "strict load ok, weights and logits equal PyTorch's"))
        ok = ok and problem is None
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
