#!/usr/bin/python3
"""Grad-CAM reference maps from PyTorch for the C# tests (Cnn.Tests/Zoo/GradCamTests.cs).

Run from the repository root:

    /usr/bin/python3 tools/reference/make_gradcam_fixtures.py

Writes Cnn.Tests/Fixtures/gradcam/<case>.json.  Each case is a model with the deterministic weights of
make_zoo_fixtures.py (deterministic.py; nothing is stored), a deterministic input (the same hash, k = 1000000, over
the flattened N x C x H x W input), a target layer and a class, and PyTorch's Grad-CAM maps computed with autograd
straight from the definition (Selvaraju et al., ICCV 2017):

    A   = the target layer's output (N x K x h x w), captured by a forward hook
    y_c = the class logit (before softmax); c = the top-1 class of each image unless the case names one
    w_k = mean over h and w of d y_c / d A_k   (torch.autograd.grad)
    map = ReLU(sum_k w_k A_k)                   (N x h x w)

The hook hands the rest of the network a clone of A, so an in-place operation after the layer (torchvision's
ReLU(inplace=True), a residual "+=") cannot change the A the gradient is taken against.  The target layer is a
module name as in named_modules(); "" means the output of the convolutional body (the zoo's ForwardFeatures), which
for torchvision's models is the module named in BODY.

The same maps are also computed in float64 from the same weights (maps_f64), and the float32 - float64 difference
relative to the map's maximum (map_f64_max_rel_diff) measures float32 rounding noise.  The C# test compares its
float64 maps with maps_f64 (1e-4 of the maximum: the algorithm), and its float32 maps with maps where that noise is
below a tenth of the tolerance (float32_comparable).  MobileNetV2's ReLU6 clamps flip under float32 rounding for
these weights, so its float32 maps move by up to a few percent and only its float64 maps are compared.
Exit status 1 when a map is degenerate (all zero, or constant) or the top-1 class is not clear of the runner-up.
"""
import json
import os
import sys
import time

import numpy as np
import torch

from deterministic import hash_uniform
from make_transfer_fixtures import LeNet5
from make_zoo_fixtures import INPUT_K, MODELS, load_deterministic

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO_ROOT, "Cnn.Tests", "Fixtures", "gradcam")
NUM_THREADS = 2
TOLERANCE = 1e-4     # the C# test's, relative to the map's maximum

# The module whose output is the zoo's ForwardFeatures (Cnn.Zoo/Models/*.cs).
BODY = {"lenet5": "features", "alexnet": "features", "vgg11_bn": "features", "resnet18": "layer4",
        "mobilenet_v2": "features", "googlenet": "inception5b"}

# (case name, model, zoo options the C# side needs for the same state-dict order, input shape, layer, class or None)
CASES = [
    ("lenet5_body_top1", "lenet5", [], [2, 1, 32, 32], "", None),
    ("lenet5_conv1_class3", "lenet5", [], [2, 1, 32, 32], "features.0", 3),
    # AlexNet and VGG at 112 px: their maps are 2x2 to 7x7 there as well, at a quarter of the test's time.
    ("alexnet_body_top1", "alexnet", [], [2, 3, 112, 112], "", None),
    ("vgg11_bn_body_top1", "vgg11_bn", [], [2, 3, 112, 112], "", None),
    ("vgg11_bn_inplace_relu_class500", "vgg11_bn", [], [2, 3, 112, 112], "features.27", 500),
    ("resnet18_body_top1", "resnet18", [], [2, 3, 224, 224], "", None),
    ("resnet18_layer3_class281", "resnet18", [], [2, 3, 224, 224], "layer3", 281),
    ("resnet18_bn_before_residual_class7", "resnet18", [], [2, 3, 224, 224], "layer2.1.bn2", 7),
    ("mobilenet_v2_body_top1", "mobilenet_v2", [], [2, 3, 224, 224], "", None),
    ("mobilenet_v2_block10_class42", "mobilenet_v2", [], [2, 3, 224, 224], "features.10", 42),
    # One image: with two, inception4b's 3x3 convolution over 24 channels (2 x 24 x 14 x 14) hits a oneDNN float32
    # kernel (jit:avx512_core) that returns values 10-20% off on AVX-512 CPUs in libtorch 2.10, which the C# side runs.
    ("googlenet_body_top1", "googlenet", ["aux_logits=true"], [1, 3, 224, 224], "", None),
    ("googlenet_inception4c_top1", "googlenet", ["aux_logits=true"], [1, 3, 224, 224], "inception4c", None),
]


def build(name):
    model = LeNet5() if name == "lenet5" else MODELS[name]()
    load_deterministic(model)
    return model.eval()


def grad_cam(model, x, layer, target):
    """Maps (N x h x w), logits and the classes explained, straight from the definition."""
    module = dict(model.named_modules())[layer]
    captured = []

    def hook(_module, _inputs, output):
        captured.append(output)
        return output.clone()

    handle = module.register_forward_hook(hook)
    try:
        logits = model(x)
    finally:
        handle.remove()
    if len(captured) != 1:
        raise RuntimeError("layer %r ran %d times" % (layer, len(captured)))
    activation = captured[0]
    classes = logits.argmax(1) if target is None else torch.full((x.shape[0],), target, dtype=torch.long)
    score = logits.gather(1, classes[:, None]).sum()
    gradient, = torch.autograd.grad(score, activation)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    maps = torch.relu((weights * activation).sum(1))
    return maps.detach(), logits.detach(), classes


def main():
    torch.set_num_threads(NUM_THREADS)
    os.makedirs(OUT_DIR, exist_ok=True)
    only = set(sys.argv[1:])
    problems = []
    models = {}
    print("%-38s %-10s %10s %12s %12s %10s %6s" % ("case", "map", "max", "f64 rel", "top1 margin", "classes", "sec"))
    for case, name, options, shape, layer, target in CASES:
        if only and case not in only:
            continue
        t0 = time.time()
        if name not in models:
            models.clear()   # one model in memory at a time (VGG is 0.5 GB)
            models[name] = build(name)
        model = models[name]
        x = torch.from_numpy(hash_uniform(INPUT_K, int(np.prod(shape))).astype(np.float32).reshape(shape))
        target_layer = layer or BODY[name]
        maps, logits, classes = grad_cam(model, x, target_layer, target)
        maps64, _, classes64 = grad_cam(model.double(), x.double(), target_layer, target)
        model.float()

        maps_np = maps.numpy().astype(np.float32)
        peak = float(maps_np.max())
        noise = float(np.abs(maps_np.astype(np.float64) - maps64.numpy()).max()) / peak if peak > 0 else float("inf")
        top2 = logits.topk(2, dim=1).values
        margin = float((top2[:, 0] - top2[:, 1]).min()) / float(logits.abs().max())
        for i in range(maps_np.shape[0]):
            m = maps_np[i]
            if not np.isfinite(m).all() or m.max() <= 0 or m.max() - m.min() <= 1e-3 * m.max():
                problems.append("%s: map of image %d is degenerate (min %g, max %g)" % (case, i, m.min(), m.max()))
        if not torch.equal(classes, classes64):
            problems.append("%s: float32 and float64 pick different top-1 classes" % case)
        if target is None and margin < 1e-4:
            problems.append("%s: the top-1 logit leads the runner-up by only %.2e of the logit scale" % (case, margin))

        fixture = {
            "case": case,
            "model": name,
            "options": options,
            "torch_version": torch.__version__,
            "input_shape": shape,
            "layer": layer or None,
            "class": target,
            "classes": [int(c) for c in classes],
            "map_shape": list(maps_np.shape),
            "maps": [float(v) for v in maps_np.reshape(-1)],
            "maps_f64": [float(v) for v in maps64.numpy().reshape(-1)],
            "map_max": peak,
            "map_f64_max_rel_diff": noise,
            "float32_comparable": noise <= TOLERANCE / 10,
            "top1_margin": margin,
        }
        with open(os.path.join(OUT_DIR, case + ".json"), "w") as f:
            json.dump(fixture, f, separators=(",", ":"))
            f.write("\n")
        print("%-38s %-10s %10.4g %12.2e %12.2e %10s %6.1f" % (
            case, "x".join(str(s) for s in maps_np.shape[1:]), peak, noise, margin,
            ",".join(str(int(c)) for c in classes), time.time() - t0), flush=True)
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print("  " + p)
        return 1
    print("sanity checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
