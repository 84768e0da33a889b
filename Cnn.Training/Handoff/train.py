#!/usr/bin/env python3
"""Fine-tunes a model that `cnnzoo handoff` wrote, with PyTorch's DistributedDataParallel, and saves it for Cnn.Zoo.

    torchrun --nproc_per_node N train.py [--epochs E ...]

Everything this script needs lies beside it: handoff.json (the model's registry name and options, the image lists,
the fine-tune recipe of `cnnzoo finetune` as the defaults of the options below, and a row per parameter: its weight
layer, whether it is the head, its share of the learning rate once unfrozen), model.json (classes and preprocessing),
model.pt (the weights, torchvision keys) and zoo_models.py (the architectures). Every process reads its own share of
the training images (DistributedSampler); gradients are averaged across processes, so all of them hold the same
weights. Rank 0 alone writes OUT/model.pt (the model's own state_dict, no `module.` prefix), OUT/model.json and
OUT/metrics.json. Backend nccl on GPUs, gloo on CPUs.

Copied verbatim by `cnnzoo handoff` from Cnn.Training/Handoff/train.py; runs on torch 1.13 / torchvision 0.14.
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import socket
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler
from torchvision.transforms import functional as TF

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zoo_models  # noqa: E402  (lies beside this script)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, value):
    """Writes under a temporary name and renames: a reader never sees half a file."""
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
    os.replace(path + ".tmp", path)


def parse_args(handoff):
    recipe = handoff["recipe"]
    p = argparse.ArgumentParser(
        description="Fine-tune the handed-off model with DistributedDataParallel (run under torchrun). "
                    "Defaults are the recipe of 'cnnzoo finetune' recorded in handoff.json.")
    p.add_argument("--epochs", type=int, default=recipe["epochs"], help="epochs with the body frozen (default %(default)s)")
    p.add_argument("--unfreeze-epochs", type=int, default=recipe["unfreeze_epochs"],
                   help="then epochs with every layer trainable, 0: skip (default %(default)s)")
    p.add_argument("--lr", type=float, default=recipe["lr"], help="Adam learning rate of stage 1 (default %(default)s)")
    p.add_argument("--unfrozen-lr", type=float, default=recipe["unfrozen_lr"],
                   help="head learning rate once unfrozen; earlier layer groups get the shares handoff.json lists "
                        "(default %(default)s)")
    p.add_argument("--freeze", default=recipe["freeze"],
                   help="all-but-head, none, or N: the first N weight layers, numbered as in 'cnnzoo summary' "
                        "(default %(default)s)")
    p.add_argument("--bn-stats", choices=["keep", "update"], default=recipe["bn_stats"],
                   help="after unfreezing: keep the pretrained batch-norm statistics or update them (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=recipe["batch_size"],
                   help="batch per process; the global batch is N times it (default %(default)s, the project's batch "
                        "on one process)")
    p.add_argument("--seed", type=int, default=recipe["seed"], help="seed of the sampler's shuffle and of a new head "
                                                                    "(default %(default)s)")
    p.add_argument("--workers", type=int, default=recipe["workers"], help="data-loading processes per rank "
                                                                          "(default %(default)s)")
    p.add_argument("--steps", type=int, default=None,
                   help="stop after this many optimizer steps in all (0: evaluate only; default: every epoch)")
    p.add_argument("--out", default=os.path.join(HERE, "result"), help="folder for model.pt, model.json, metrics.json "
                                                                       "(default %(default)s)")
    p.add_argument("--data-root", default=None, help="where the listed images lie, when not where handoff.json says "
                                                     "(another machine)")
    p.add_argument("--backend", choices=["auto", "nccl", "gloo"], default="auto",
                   help="auto: nccl when CUDA is available, else gloo")
    p.add_argument("--log-samples", action="store_true",
                   help="record the training samples each rank saw, and a digest of its final weights, in metrics.json")
    args = p.parse_args()
    if args.freeze not in ("all-but-head", "none") and not (args.freeze.isdigit()):
        p.error(f"--freeze: expected all-but-head, none or a number of layers; found '{args.freeze}'")
    if args.steps is not None and args.steps < 0:
        p.error(f"--steps: expected 0 or more; found {args.steps}")
    return args


def init_distributed(choice):
    """torchrun's environment, or one process of its own when started as plain `python3 train.py`."""
    cuda = torch.cuda.is_available()
    backend = ("nccl" if cuda else "gloo") if choice == "auto" else choice
    if "RANK" not in os.environ:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    local_rank = int(os.environ["LOCAL_RANK"])
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30))
    return backend, device, local_rank


class Preprocess:
    """The project's evaluation transform (Cnn.Training/Data/DataSetup.cs), read from model.json: square images of
    the crop size or a few even pixels smaller get a zero border (when pad_small_squares), others are resized
    (shorter side, bilinear, no antialiasing, on [0, 1] floats) and centre-cropped; then mean and std per channel."""

    def __init__(self, p):
        if p["interpolation"] != "bilinear":
            raise SystemExit(f"model.json: only bilinear resizing is implemented; found '{p['interpolation']}'")
        self.resize, self.crop = p["resize_size"], p["crop_size"]
        self.pad_small = p.get("pad_small_squares", False)
        self.mean = torch.tensor(p["mean"], dtype=torch.float32)[:, None, None]
        self.std = torch.tensor(p["std"], dtype=torch.float32)[:, None, None]

    def padding_for(self, height, width):
        gap = self.crop - height
        if self.pad_small and height == width and (gap == 0 or 0 < gap <= 8 and gap % 2 == 0):
            return gap // 2
        return None

    def __call__(self, x):
        height, width = x.shape[1:]
        pad = self.padding_for(height, width)
        if pad is not None:
            x = F.pad(x, (pad, pad, pad, pad)) if pad else x
        else:
            # torchvision's _compute_resized_output_size: the longer side is truncated, not rounded.
            short, long = min(height, width), max(height, width)
            new_long = int(self.resize * long / short)
            size = (new_long, self.resize) if width <= height else (self.resize, new_long)
            if size != (height, width):
                x = F.interpolate(x[None], size=size, mode="bilinear", align_corners=False)[0]
            x = TF.center_crop(x, [self.crop, self.crop])
        return (x - self.mean) / self.std


class ListedImages(Dataset):
    """The images a list names ("relative/path<TAB>label" lines), decoded as the project decodes them: PIL's RGB, then
    PIL's grey level for a one-channel model; bytes / 255."""

    def __init__(self, root, listing, channels, transform):
        self.root, self.channels, self.transform = root, channels, transform
        with open(listing, encoding="utf-8") as f:
            self.items = [(path, int(label)) for path, label in (line.rstrip("\n").split("\t") for line in f if line.strip())]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        with Image.open(os.path.join(self.root, path)) as image:
            image = image.convert("RGB")
            if self.channels == 1:
                image = image.convert("L")
            pixels = torch.from_numpy(np.array(image, dtype=np.uint8))
        pixels = pixels[None] if pixels.dim() == 2 else pixels.permute(2, 0, 1)
        return self.transform(pixels.float() / 255), label, index


def set_training_mode(model, training, keep_all_norm_statistics):
    """Cnn.Transfer/Freezing.cs: train mode, with frozen batch norms (or all of them) kept in eval so their running
    statistics stay the pretrained ones."""
    model.train(training)
    if not training:
        return
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            parameters = list(module.parameters())
            if keep_all_norm_statistics or (parameters and all(not p.requires_grad for p in parameters)):
                module.eval()


def freeze(model, rows, choice):
    """requires_grad off for the body (all-but-head), nothing (none), or the first N weight layers; returns the count."""
    by_name = dict(model.named_parameters())
    if choice == "all-but-head":
        frozen = [r["name"] for r in rows if not r["head"]]
    elif choice == "none":
        frozen = []
    else:
        layers = max(r["layer"] or 0 for r in rows)
        if int(choice) > layers:
            raise SystemExit(f"--freeze: the model has {layers} weight layers; choose between 0 and {layers}; found {choice}")
        frozen = [r["name"] for r in rows if r["layer"] is not None and r["layer"] <= int(choice)]
    for name in frozen:
        by_name[name].requires_grad_(False)
    return len(frozen)


def evaluate(model, loader, device, world):
    """Held-out loss, top-1 and top-5 over every image once: each rank scores its own slice, the sums are all-reduced."""
    model.eval()
    sums = torch.zeros(4, dtype=torch.float64, device=device)   # loss, top-1, top-5, images
    with torch.no_grad():
        for images, labels, _ in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            top = logits.topk(min(5, logits.shape[1]), 1).indices
            hit = top.eq(labels[:, None])
            sums += torch.stack([F.cross_entropy(logits, labels, reduction="sum").double(),
                                 hit[:, 0].sum().double(), hit.any(1).sum().double(),
                                 torch.tensor(float(len(labels)), dtype=torch.float64, device=device)])
    if world > 1:
        dist.all_reduce(sums)
    loss, top1, top5, images = sums.tolist()
    n = max(images, 1)
    return {"images": int(images), "correct": int(top1), "loss": loss / n, "top1": top1 / n, "top5": top5 / n}


def digest(state):
    """SHA-256 of every tensor's bytes in state-dict order: equal on every rank when DDP kept them in step."""
    h = hashlib.sha256()
    for key, value in state.items():
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def main():
    handoff = read_json(os.path.join(HERE, "handoff.json"))
    sidecar_path = os.path.join(HERE, handoff["sidecar"])
    sidecar = read_json(sidecar_path)
    args = parse_args(handoff)
    backend, device, local_rank = init_distributed(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    started = time.time()

    torch.manual_seed(args.seed)
    spec = handoff["model"]
    model = zoo_models.build(spec["name"], spec["options"], spec["num_classes"])
    state = torch.load(os.path.join(HERE, handoff["weights"]), map_location="cpu")
    model.load_state_dict(state, strict=True)
    model.to(device)

    data = handoff["data"]
    root = args.data_root or os.path.join(HERE, data["root"])
    transform = Preprocess(sidecar["preprocessing"])
    train_set = ListedImages(root, os.path.join(HERE, data["train"]), spec["input_channels"], transform)
    held_out = ListedImages(root, os.path.join(HERE, data["held_out"]), spec["input_channels"], transform)
    # Held-out images are scored once each: rank r takes every world-th image from r (no padding, unlike DistributedSampler).
    own_held_out = torch.utils.data.Subset(held_out, list(range(rank, len(held_out), world)))
    eval_loader = DataLoader(own_held_out, batch_size=2 * args.batch_size, shuffle=False, num_workers=args.workers)
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler, num_workers=args.workers,
                              pin_memory=device.type == "cuda")
    if rank == 0:
        print(f"{spec['name']} on {len(train_set)} training, {len(held_out)} held-out images, {world} process(es), "
              f"backend {backend}, batch {args.batch_size} per process", flush=True)

    rows = handoff["parameters"]
    by_name = dict(model.named_parameters())
    stages = [("frozen", args.epochs, args.lr)]
    if args.unfreeze_epochs > 0:
        stages.append(("unfrozen", args.unfreeze_epochs, args.unfrozen_lr))
    history, seen, step, epoch_number = [], [], 0, 0
    stop = args.steps == 0
    for stage, epochs, lr in stages:
        if stop:
            break
        if stage == "frozen":
            frozen = freeze(model, rows, args.freeze)
            keep_all = False
            trainable = [p for p in model.parameters() if p.requires_grad]
            if not trainable:
                raise SystemExit("every parameter is frozen: nothing to train (choose a smaller --freeze)")
            groups = [{"params": trainable, "lr": lr}]
            if rank == 0:
                print(f"Stage 1: {frozen} parameter tensors frozen ({args.freeze}), Adam lr {lr}", flush=True)
        else:
            for p in model.parameters():
                p.requires_grad_(True)
            keep_all = args.bn_stats == "keep"
            # Discriminative rates (Cnn.Transfer/ParameterGroups.cs): the head at lr, earlier groups at the listed shares.
            shares = OrderedDict()
            for r in rows:
                shares.setdefault(r["unfrozen_lr_share"], []).append(by_name[r["name"]])
            groups = [{"params": params, "lr": lr * share} for share, params in shares.items()]
            if rank == 0:
                print(f"Stage 2: every layer trainable, Adam at {', '.join(str(g['lr']) for g in groups)}, "
                      f"batch-norm statistics: {args.bn_stats}", flush=True)
        # DDP hooks the parameters that require gradients when it is built, so each stage wraps the model anew.
        ddp = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
        optimizer = torch.optim.Adam(groups)
        for _ in range(epochs):
            epoch_started = time.time()
            sampler.set_epoch(epoch_number)
            set_training_mode(model, True, keep_all)
            loss_sum, correct, count = 0.0, 0, 0
            for images, labels, indices in train_loader:
                images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
                optimizer.zero_grad()
                logits = ddp(images)
                if isinstance(logits, tuple):   # GoogLeNet with auxiliary heads: weighted 0.3 each, as Trainer.cs does
                    main_logits = logits[0]
                    loss = F.cross_entropy(main_logits, labels) + 0.3 * sum(F.cross_entropy(a, labels) for a in logits[1:] if a is not None)
                    logits = main_logits
                else:
                    loss = F.cross_entropy(logits, labels)
                loss.backward()
                optimizer.step()
                step += 1
                loss_sum += loss.item() * len(labels)
                correct += logits.argmax(1).eq(labels).sum().item()
                count += len(labels)
                if args.log_samples:
                    seen.extend(indices.tolist())
                if args.steps is not None and step >= args.steps:
                    stop = True
                    break
            epoch_number += 1
            row = {"epoch": epoch_number, "stage": stage, "steps": step,
                   "train_loss": loss_sum / max(count, 1), "train_acc": correct / max(count, 1),
                   "train_seconds": time.time() - epoch_started}
            row.update({"val_" + k: v for k, v in evaluate(model, eval_loader, device, world).items()})
            history.append(row)
            if rank == 0:
                print(f"epoch {epoch_number} ({stage}): train loss {row['train_loss']:.4f} acc {100 * row['train_acc']:.2f}% | "
                      f"val loss {row['val_loss']:.4f} top-1 {100 * row['val_top1']:.2f}% top-5 {100 * row['val_top5']:.2f}%",
                      flush=True)
            if stop:
                break

    # The last epoch was scored after its last step (also when --steps stopped it early): no need to score it twice.
    final = ({k[len("val_"):]: v for k, v in history[-1].items() if k.startswith("val_")} if history
             else evaluate(model, eval_loader, device, world))
    ranks = None
    if args.log_samples:
        ranks = [None] * world
        dist.all_gather_object(ranks, {"rank": rank, "samples": seen, "weights_sha256": digest(model.state_dict())})
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        # The model's own state_dict (not the DDP wrapper's, whose keys start with "module."), as a plain mapping.
        weights = OrderedDict((k, v.detach().cpu().clone()) for k, v in model.state_dict().items())
        torch.save(weights, os.path.join(args.out, "model.pt.tmp"))
        os.replace(os.path.join(args.out, "model.pt.tmp"), os.path.join(args.out, "model.pt"))
        shutil.copyfile(sidecar_path, os.path.join(args.out, "model.json"))
        metrics = {"model": spec["name"], "world_size": world, "backend": backend, "steps": step,
                   "seconds": time.time() - started, "arguments": vars(args), "epochs": history, "held_out": final}
        if ranks is not None:
            metrics["ranks"] = ranks
        write_json(os.path.join(args.out, "metrics.json"), metrics)
        print(f"Held-out top-1 {100 * final['top1']:.2f}% ({final['correct']} of {final['images']}), top-5 "
              f"{100 * final['top5']:.2f}%, loss {final['loss']:.4f} after {step} step(s). Saved {args.out}/model.pt",
              flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
