#!/usr/bin/python3
"""The PyTorch side of `cnnzoo bench`: the same models, batch, threads and timing method in Debian's PyTorch
(python3-torch 1.13, python3-torchvision 0.14), printed in the same table, so the README can put zoo,
TorchSharp's TorchVision port and PyTorch side by side from one machine on one day.

    /usr/bin/python3 tools/bench/bench_pytorch.py --threads 2 --batch 8 [--json out.json]

Inference is the plain eval() + no_grad() model (what a PyTorch user runs); training is forward + backward +
SGD(momentum 0.9) step on random labels. Each figure is the median images/s over --repeats samples of about
--sample-seconds each, after --warmup untimed runs, exactly as the C# benchmark does.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torchvision


class LeNet5(nn.Module):
    """The zoo's lenet5 with activation=relu, pooling=max (the bench default): 32x32 grey in, 10 classes."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def resnet18_cifar():
    """ResNet-18 with the CIFAR stem (3x3/1 convolution, no max-pool), 10 classes, 32x32 input."""
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    return model


MODELS = {
    "lenet5": (LeNet5, (1, 32, 32), 10),
    "resnet18_cifar": (resnet18_cifar, (3, 32, 32), 10),
    "resnet18": (lambda: torchvision.models.resnet18(), (3, 224, 224), 1000),
    "resnet50": (lambda: torchvision.models.resnet50(), (3, 224, 224), 1000),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(), (3, 224, 224), 1000),
    "googlenet": (lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True), (3, 224, 224), 1000),
    "vgg16": (lambda: torchvision.models.vgg16(), (3, 224, 224), 1000),
}


def median_rate(step, images, warmup, repeats, sample_seconds):
    seconds = 0.0
    for _ in range(max(1, warmup)):
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
    iterations = max(1, math.ceil(sample_seconds / max(seconds, 1e-6)))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        rates.append(images * iterations / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--sample-seconds", type=float, default=1.0)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}, {args.threads} threads, batch {args.batch}, "
          f"median of {args.repeats} samples")
    rows = []
    for name in args.models.split(","):
        build, image, classes = MODELS[name]
        model = build()
        x = torch.randn(args.batch, *image)
        y = torch.randint(0, classes, (args.batch,))

        model.eval()

        def infer():
            with torch.no_grad():
                model(x)

        rate = median_rate(infer, args.batch, args.warmup, args.repeats, args.sample_seconds)
        rows.append({"section": "inference", "model": name, "variant": "pytorch plain eval/no_grad", "value": rate})
        print(f"  {name:<16} {'inference, plain eval/no_grad':<40} {rate:10.1f} img/s", flush=True)

        if not args.skip_training:
            model.train()
            optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

            def train():
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()

            rate = median_rate(train, args.batch, args.warmup, args.repeats, args.sample_seconds)
            rows.append({"section": "training", "model": name, "variant": "pytorch", "value": rate})
            print(f"  {name:<16} {'training (forward + backward + SGD step)':<40} {rate:10.1f} img/s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": args.threads, "batch": args.batch, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
