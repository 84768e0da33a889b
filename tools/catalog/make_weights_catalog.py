#!/usr/bin/python3
"""Writes the catalog of torchvision's published ImageNet weights that Cnn.Transfer ships.

Every fact comes from the weights enums of the installed torchvision (Debian's python3-torchvision 0.14):
`.url`, `.transforms()` (resize, crop, mean, std, interpolation) and `.meta` (parameter count, acc@1/acc@5, recipe,
categories); the SHA-256 prefix is what torch.hub itself reads from the file name (`torch.hub.HASH_REGEX`), and the
model options the builder sets for its weights (GoogLeNet's `transform_input=True`, `aux_logits=False`) are read off
a model built by the real builder. Weights that are not an ImageNet classifier (no categories) are listed under
"left_out" with torchvision's own explanation. Nothing is downloaded: torchvision 0.14 does not record file sizes,
so `file_size` is null.

Run from the repository root:

    /usr/bin/python3 tools/catalog/make_weights_catalog.py

Writes Cnn.Transfer/Catalog/torchvision-weights.json and Cnn.Transfer/Catalog/imagenet-categories.txt.
Output is identical from run to run.
"""
import json
import os
import sys
import warnings
from unittest import mock

import torch
import torch.hub
import torchvision
from torchvision.models import get_model_builder, get_model_weights

# The zoo's registered models whose architecture and keys are torchvision's (ModelRegistry entries with
# InTorchVision = true); Cnn.Tests/Catalog checks that this list and the registry agree.
MODELS = [
    "alexnet",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2",
    "googlenet",
    "mobilenet_v2",
]

# Constructor options of torchvision models that the zoo's registry also takes (ModelOptions names).
ZOO_OPTIONS = ["transform_input", "aux_logits"]

BASE_URL = "https://download.pytorch.org/models/"
OUT_DIR = os.path.join("Cnn.Transfer", "Catalog")
CATALOG = os.path.join(OUT_DIR, "torchvision-weights.json")
CATEGORIES = os.path.join(OUT_DIR, "imagenet-categories.txt")


def published_options(name, weights):
    """The zoo options of the model torchvision's builder returns for `weights` (googlenet: transform_input=True,
    aux_logits=False), read off a model built by the real builder with the download and the state-dict copy
    replaced by no-ops."""
    builder = get_model_builder(name)
    with mock.patch.object(type(weights), "get_state_dict", lambda self, progress: {}), \
            mock.patch.object(torch.nn.Module, "load_state_dict", lambda self, state_dict, strict=True: None), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")    # googlenet's notice about its future default initialisation
        model = builder(weights=weights)
    return {option: getattr(model, option) for option in ZOO_OPTIONS if hasattr(model, option)}


def entry(name, weights, categories):
    transforms = weights.transforms()
    (resize,) = transforms.resize_size
    (crop,) = transforms.crop_size
    file_name = os.path.basename(weights.url)
    if weights.url != BASE_URL + file_name:
        raise SystemExit(f"{name} {weights.name}: {weights.url} is not under {BASE_URL}; a mirror could not replace it")
    match = torch.hub.HASH_REGEX.search(file_name)
    if match is None or len(match.group(1)) < 8:
        raise SystemExit(f"{name} {weights.name}: no SHA-256 prefix in {file_name}")
    if weights.meta["categories"] != categories:
        raise SystemExit(f"{name} {weights.name}: categories differ from the other entries'")
    metrics = weights.meta["_metrics"]["ImageNet-1K"]
    return {
        "model": name,
        "name": weights.name,
        "url": weights.url,
        "file_name": file_name,
        "sha256_prefix": match.group(1),
        "file_size": None,
        "num_params": weights.meta["num_params"],
        "num_classes": len(weights.meta["categories"]),
        "categories": "imagenet-1k",
        "preprocessing": {
            "resize_size": resize,
            "crop_size": crop,
            "mean": list(transforms.mean),
            "std": list(transforms.std),
            "interpolation": transforms.interpolation.value,
        },
        "acc1": metrics["acc@1"],
        "acc5": metrics["acc@5"],
        "recipe": weights.meta["recipe"],
        "model_options": published_options(name, weights),
    }


def main():
    torch.manual_seed(0)
    categories = list(get_model_weights("resnet50").IMAGENET1K_V1.meta["categories"])
    entries, defaults, left_out = [], {}, []
    for name in MODELS:
        enum = get_model_weights(name)
        for weights in enum:    # iterating an Enum skips aliases, so DEFAULT is not listed twice
            if weights.meta["categories"] is None:
                # vgg16's IMAGENET1K_FEATURES: an SSD backbone whose classifier holds missing values (torchvision's
                # docs say so); neither prediction nor a new head on its classifier's hidden layers would work.
                left_out.append({"model": name, "name": weights.name, "url": weights.url,
                                 "reason": "no categories: " + " ".join(weights.meta["_docs"].split())})
                continue
            entries.append(entry(name, weights, categories))
            print(f"{name:16} {weights.name:14} {entries[-1]['file_name']:36} {entries[-1]['model_options']}", file=sys.stderr)
        defaults[name] = enum.DEFAULT.name
    catalog = {
        "generator": "tools/catalog/make_weights_catalog.py",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "base_url": BASE_URL,
        "categories": {"imagenet-1k": os.path.basename(CATEGORIES)},
        "notes": "file_size is null: torchvision 0.14 does not record it, and the generator downloads nothing",
        "defaults": defaults,
        "weights": entries,
        "left_out": left_out,
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(CATALOG, "w", encoding="utf-8") as f:
        json.dump(catalog, f, indent=1, ensure_ascii=False)
        f.write("\n")
    if any("\n" in c for c in categories):
        raise SystemExit("a category name holds a line break")
    with open(CATEGORIES, "w", encoding="utf-8") as f:
        f.write("".join(c + "\n" for c in categories))
    print(f"wrote {CATALOG} ({len(entries)} entries) and {CATEGORIES} ({len(categories)} names)", file=sys.stderr)


if __name__ == "__main__":
    main()
