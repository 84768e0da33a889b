#!/usr/bin/python3
"""Generate torchvision reference fixtures for the C# model zoo tests.

Run from the repository root:

    /usr/bin/python3 tools/reference/make_zoo_fixtures.py

Writes Cnn.Tests/Fixtures/torchvision/<model>.json (state-dict keys/shapes/dtypes,
parameter counts, eval-mode logits for a deterministic input and deterministic
weights) and Cnn.Tests/Fixtures/torchvision/macs.json (torchvision's MAC counts, which the summary must match
at 1x3x224x224).  No weights are stored: both sides compute them with
deterministic_tensor() below, which the C# tests reimplement bit-exactly.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torchvision
import torchvision.models as tvm

from deterministic import deterministic_tensor, hash_uniform

INPUT_K = 1000000
INPUT_SHAPE = [2, 3, 64, 64]
MACS_INPUT_SHAPE = [1, 3, 224, 224]
NUM_THREADS = 2

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO_ROOT, "Cnn.Tests", "Fixtures", "torchvision")

MODELS = {
    "alexnet": lambda: tvm.alexnet(weights=None),
    "vgg11": lambda: tvm.vgg11(weights=None),
    "vgg11_bn": lambda: tvm.vgg11_bn(weights=None),
    "vgg13": lambda: tvm.vgg13(weights=None),
    "vgg13_bn": lambda: tvm.vgg13_bn(weights=None),
    "vgg16": lambda: tvm.vgg16(weights=None),
    "vgg16_bn": lambda: tvm.vgg16_bn(weights=None),
    "vgg19": lambda: tvm.vgg19(weights=None),
    "vgg19_bn": lambda: tvm.vgg19_bn(weights=None),
    "resnet18": lambda: tvm.resnet18(weights=None),
    "resnet34": lambda: tvm.resnet34(weights=None),
    "resnet50": lambda: tvm.resnet50(weights=None),
    "resnet101": lambda: tvm.resnet101(weights=None),
    "resnet152": lambda: tvm.resnet152(weights=None),
    "resnext50_32x4d": lambda: tvm.resnext50_32x4d(weights=None),
    "wide_resnet50_2": lambda: tvm.wide_resnet50_2(weights=None),
    "googlenet": lambda: tvm.googlenet(weights=None, aux_logits=True,
                                       transform_input=False, init_weights=False),
    "mobilenet_v2": lambda: tvm.mobilenet_v2(weights=None),
}


def deterministic_input(shape=INPUT_SHAPE):
    n = int(np.prod(shape))
    return hash_uniform(INPUT_K, n).astype(np.float32).reshape(shape)


def dtype_name(dt):
    return str(dt).replace("torch.", "")


def load_deterministic(model):
    sd = model.state_dict()
    new_sd = {}
    for k, (key, t) in enumerate(sd.items()):
        arr = deterministic_tensor(k, key, list(t.shape))
        nt = torch.from_numpy(arr)
        if nt.dtype != t.dtype:
            raise TypeError("dtype mismatch for %s: %s vs %s" % (key, nt.dtype, t.dtype))
        new_sd[key] = nt
    model.load_state_dict(new_sd, strict=True)
    return sd


def count_macs(model, shape):
    macs = {"conv": 0, "linear": 0}

    def conv_hook(mod, inp, out):
        kh, kw = mod.kernel_size
        macs["conv"] += out.numel() * (mod.in_channels // mod.groups) * kh * kw

    def linear_hook(mod, inp, out):
        per_sample = mod.out_features * mod.in_features
        batch = out.numel() // mod.out_features
        macs["linear"] += per_sample * batch

    handles = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.zeros(shape))
    for h in handles:
        h.remove()
    return macs


def main():
    torch.set_num_threads(NUM_THREADS)
    os.makedirs(OUT_DIR, exist_ok=True)
    only = set(sys.argv[1:])
    x = torch.from_numpy(deterministic_input())
    macs_all = {}
    problems = []
    warnings = []
    t_total = time.time()
    print("%-16s %12s %12s %12s %10s %10s %14s %7s" % (
        "model", "num_params", "max|out|", "std(out)", "f64relerr", "s0-s1 rel", "MACs@224", "sec"))
    for name, ctor in MODELS.items():
        if only and name not in only:
            continue
        t0 = time.time()
        torch.manual_seed(0)
        model = ctor()
        sd = load_deterministic(model)
        model.eval()
        with torch.no_grad():
            out = model(x)
        if not isinstance(out, torch.Tensor):
            raise TypeError("%s returned %r in eval mode" % (name, type(out)))
        out_np = out.detach().numpy().astype(np.float32)
        # float64 rerun of the same weights: gives the float32 rounding-noise level
        # the C# side can base its tolerance on (the model is discarded afterwards
        # except for the MAC count, which does not depend on dtype).
        with torch.no_grad():
            out64 = model.double()(x.double()).numpy()
        model.float()
        f64_diff = float(np.abs(out_np.astype(np.float64) - out64).max())

        num_params = sum(p.numel() for p in model.parameters())
        fx = {
            "name": name,
            "torch_version": torch.__version__,
            "torchvision_version": torchvision.__version__,
            "num_params": int(num_params),
        }
        if name == "googlenet":
            fx["num_params_without_aux"] = int(sum(
                p.numel() for n, p in model.named_parameters()
                if not (n.startswith("aux1.") or n.startswith("aux2."))))
        fx["state_dict"] = [[key, list(t.shape), dtype_name(t.dtype)] for key, t in sd.items()]
        fx["input_shape"] = list(INPUT_SHAPE)
        fx["output_shape"] = list(out_np.shape)
        fx["output"] = [float(v) for v in out_np.reshape(-1)]
        # informational extras (not part of the formula): max |output| and
        # max |float32 output - float64 output| for the same weights and input
        fx["output_max_abs"] = float(np.abs(out_np).max())
        fx["output_f64_max_abs_diff"] = f64_diff

        # sanity checks (reported, never "fixed" by changing the formula).
        # Hard failures: non-finite output, or output that no longer depends on the
        # input / the class (degenerate).  Large or tiny magnitudes are warnings:
        # the C# tests compare relative to max|output|.
        amax = float(np.abs(out_np).max())
        std = float(out_np.std())
        spread = float(np.abs(out_np[0] - out_np[1]).max())
        if not np.isfinite(out_np).all():
            problems.append("%s: non-finite outputs" % name)
        else:
            if amax < 1e-3 or amax > 1e4:
                warnings.append("%s: max|out| = %g outside [1e-3, 1e4] (finite; f32 vs f64 "
                                "max diff relative to max|out| = %.2e)" % (name, amax, f64_diff / amax))
            if spread <= 1e-3 * amax:
                problems.append("%s: outputs for the two inputs differ by only %.2e of max|out|"
                                % (name, spread / amax))
            if std <= 1e-3 * amax:
                problems.append("%s: output is (nearly) constant across classes" % name)

        with open(os.path.join(OUT_DIR, name + ".json"), "w") as f:
            json.dump(fx, f, separators=(",", ":"))
            f.write("\n")
        t_fix = time.time() - t0

        m = count_macs(model, MACS_INPUT_SHAPE)
        entry = {
            "input_shape": list(MACS_INPUT_SHAPE),
            "conv_macs": int(m["conv"]),
            "linear_macs": int(m["linear"]),
            "total_macs": int(m["conv"] + m["linear"]),
            "num_params": int(num_params),
        }
        if name == "googlenet":
            entry["num_params_without_aux"] = fx["num_params_without_aux"]
            entry["note"] = "eval mode: aux1/aux2 branches are not executed, so not counted in MACs"
        macs_all[name] = entry
        dt = time.time() - t0
        print("%-16s %12d %12.5g %12.5g %10.2e %10.2e %14d %7.1f  (fixture %.1fs)" % (
            name, num_params, amax, std, f64_diff / amax, spread / amax, entry["total_macs"], dt, t_fix),
            flush=True)
        del model, sd, out

    if not only:
        macs_doc = {
            "torch_version": torch.__version__,
            "torchvision_version": torchvision.__version__,
            "description": "Multiply-accumulates of Conv2d (out_numel*(in_channels/groups)*kh*kw) and "
                           "Linear (out_features*in_features per sample) layers, measured with forward "
                           "hooks in eval mode at input 1x3x224x224; num_params at 1000 classes. "
                           "The C# summary must count the same (TorchVisionParityTests).",
            "models": macs_all,
        }
        with open(os.path.join(OUT_DIR, "macs.json"), "w") as f:
            json.dump(macs_doc, f, indent=1)
            f.write("\n")
    print("total %.1fs" % (time.time() - t_total))
    if warnings:
        print("SANITY WARNINGS (formula kept as specified):")
        for w in warnings:
            print("  " + w)
    if problems:
        print("SANITY PROBLEMS:")
        for p in problems:
            print("  " + p)
        return 1
    print("sanity checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
