#!/usr/bin/env python3
"""Issue #23: `cnnzoo finetune` against PyTorch on the same recipe, the same machine and the same number of threads.

    dotnet build Cnn.Zoo.sln -c Release
    /usr/bin/python3 tools/parity/finetune_parity.py [--seeds 1 2 3] [--threads 2] [--also-cache-off]

For each seed, one engine after the other (so that machine noise hits both):
  1. cnnzoo finetune --weights builtin --data fashion-mnist --train-per-class 30 --input-size 112 --seed S --threads T
     (the README's recipe: resnet18_2223, head 8 epochs Adam 1e-3 with the body frozen, then 4 epochs all layers at
     discriminative rates, batch-norm statistics kept);
  2. cnnzoo handoff --model resnet18_2223 --weights DEFAULT with the same data, count, size and seed (untimed): the same
     backbone weights and the same new head (model.pt), the same 300 training and 1,000 held-out images (PNG files
     and lists), the same preprocessing (model.json) and finetune's recipe (handoff.json);
  3. python3 train.py in that folder, single process (DDP over gloo with world size 1), OMP_NUM_THREADS=T.

Both accuracies come from the engines themselves (cnnzoo's printed stage lines, PyTorch's metrics.json). Two times per
run: the whole command (process start included: .NET's is dearer than Python's), and the training itself, from the
line each prints once its data and model are ready (cnnzoo "Run folder:", train.py "Stage 1:") to the line after its
last evaluation (cnnzoo "Stage 2 ...", train.py's last epoch line), timed here as the lines arrive.
--also-cache-off adds a third run per seed, cnnzoo with --feature-cache off (every step through the whole network, as
train.py does). Logs and a results.json go to --out (--table-only prints its table again). The product needs no
Python; this tool does.
"""
import argparse
import csv
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CNNZOO = os.path.join(ROOT, "Cnn.Training", "bin", "Release", "net10.0", "cnnzoo.dll")


def run(command, log, env=None, cwd=None):
    """Runs command, writing its output to log with each line's arrival time; returns (seconds, [(time, line)])."""
    started = time.monotonic()
    lines = []
    with open(log, "w", encoding="utf-8") as out:
        out.write("$ " + " ".join(command) + "\n")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                   text=True, errors="replace", bufsize=1)
        for line in process.stdout:
            now = time.monotonic() - started
            for part in line.rstrip("\n").split("\r"):
                if part.strip():
                    lines.append((now, part))
            out.write(f"[{now:8.2f}] {line}")
        code = process.wait()
    seconds = time.monotonic() - started
    if code != 0:
        sys.exit(f"{command[0]} ... exited with {code}; see {log}")
    return seconds, lines


def first(lines, pattern, last=False):
    """(time, match) of the first (or last) line matching pattern; exits when none does."""
    found = [(t, m) for t, line in lines for m in [re.search(pattern, line)] if m]
    if not found:
        sys.exit(f"no output line matches /{pattern}/")
    return found[-1] if last else found[0]


def cnnzoo(args, seed, folder, cache):
    command = ["dotnet", CNNZOO, "finetune", "--weights", "builtin", "--data", "fashion-mnist",
               "--train-per-class", str(args.train_per_class), "--input-size", str(args.input_size),
               "--seed", str(seed), "--threads", str(args.threads), "--feature-cache", cache,
               "--out", os.path.join(folder, f"cnnzoo-{cache}")]
    seconds, lines = run(command, os.path.join(folder, f"cnnzoo-{cache}.log"))
    t0, _ = first(lines, r"^Run folder: ")
    t1, stage1 = first(lines, r"Stage 1 \(frozen body\): held-out top-1 ([0-9.]+)%")
    t2, final = first(lines, r"Stage 2 \(all layers, discriminative rates\): held-out top-1 ([0-9.]+)%")
    return {"stage1": float(stage1.group(1)), "final": float(final.group(1)), "command_s": seconds, "train_s": t2 - t0,
            "stage2_epoch_s": cnnzoo_stage2_epoch(folder, cache)}


def cnnzoo_stage2_epoch(folder, cache):
    """Mean training seconds of an unfrozen epoch (evaluation excluded), from the run's unfrozen/metrics.csv: the
    same work in both engines (300 images forward and backward through the whole network), unlike stage 1."""
    [metrics] = glob.glob(os.path.join(folder, f"cnnzoo-{cache}", "*", "unfrozen", "metrics.csv"))
    with open(metrics, encoding="utf-8") as f:
        return statistics.mean(float(row["train_seconds"]) for row in csv.DictReader(f))


def pytorch_stage2_epoch(metrics):
    return statistics.mean(row["train_seconds"] for row in metrics["epochs"] if row["stage"] == "unfrozen")


def pytorch(args, seed, folder):
    handoff = os.path.join(folder, "handoff")
    run(["dotnet", CNNZOO, "handoff", "--model", "resnet18_2223", "--weights", "DEFAULT", "--data", "fashion-mnist",
         "--train-per-class", str(args.train_per_class), "--input-size", str(args.input_size), "--seed", str(seed),
         "--out", handoff], os.path.join(folder, "handoff.log"))
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    result = os.path.join(folder, "pytorch")
    seconds, lines = run([args.python, os.path.join(handoff, "train.py"), "--out", result],
                         os.path.join(folder, "pytorch.log"), env=env)
    t0, _ = first(lines, r"^Stage 1: ")
    t1, _ = first(lines, r"^epoch \d+ \(unfrozen\)", last=True)
    with open(os.path.join(result, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    if metrics["arguments"]["seed"] != seed:
        sys.exit(f"train.py ran with seed {metrics['arguments']['seed']}; expected {seed}")
    stage1 = [row for row in metrics["epochs"] if row["stage"] == "frozen"][-1]
    return {"stage1": 100 * stage1["val_top1"], "final": 100 * metrics["held_out"]["top1"],
            "command_s": seconds, "train_s": t1 - t0, "stage2_epoch_s": pytorch_stage2_epoch(metrics)}


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of both engines (default: the CPUs, %(default)s)")
    p.add_argument("--train-per-class", type=int, default=30)
    p.add_argument("--input-size", type=int, default=112)
    p.add_argument("--python", default="/usr/bin/python3", help="the Python with PyTorch (default %(default)s)")
    p.add_argument("--also-cache-off", action="store_true", help="also run cnnzoo with --feature-cache off")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", time.strftime("%Y%m%d-%H%M%S") + "-parity"))
    p.add_argument("--table-only", action="store_true", help="run nothing: print the table of the results.json in --out")
    args = p.parse_args()
    if args.table_only:
        with open(os.path.join(args.out, "results.json"), encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        for r in rows:   # results written before the stage-2 column existed
            folder = os.path.join(args.out, f"seed{r['seed']}")
            r["cnnzoo"].setdefault("stage2_epoch_s", cnnzoo_stage2_epoch(folder, "auto"))
            if "cnnzoo_cache_off" in r:
                r["cnnzoo_cache_off"].setdefault("stage2_epoch_s", cnnzoo_stage2_epoch(folder, "off"))
            with open(os.path.join(folder, "pytorch", "metrics.json"), encoding="utf-8") as f:
                r["pytorch"].setdefault("stage2_epoch_s", pytorch_stage2_epoch(json.load(f)))
        report(rows, "cnnzoo_cache_off" in rows[0])
        return
    if not os.path.exists(CNNZOO):
        sys.exit(f"{CNNZOO} not found: dotnet build Cnn.Zoo.sln -c Release first")
    version = subprocess.run([args.python, "-c", "import torch, torchvision; print(torch.__version__, torchvision.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    print(f"cnnzoo {CNNZOO}; PyTorch/torchvision {version} ({args.python}); {args.threads} threads each; "
          f"load average {load()} at start; logs in {args.out}", flush=True)
    rows = []
    for seed in args.seeds:
        folder = os.path.join(args.out, f"seed{seed}")
        os.makedirs(folder, exist_ok=True)
        row = {"seed": seed, "load_before": load()}
        row["cnnzoo"] = cnnzoo(args, seed, folder, "auto")
        print(f"seed {seed} cnnzoo:  {row['cnnzoo']}", flush=True)
        row["pytorch"] = pytorch(args, seed, folder)
        print(f"seed {seed} pytorch: {row['pytorch']}", flush=True)
        if args.also_cache_off:
            row["cnnzoo_cache_off"] = cnnzoo(args, seed, folder, "off")
            print(f"seed {seed} cnnzoo --feature-cache off: {row['cnnzoo_cache_off']}", flush=True)
        row["load_after"] = load()
        rows.append(row)
        with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
            json.dump({"threads": args.threads, "pytorch": version, "rows": rows}, f, indent=2)
    report(rows, args.also_cache_off)
    print(f"load average {load()} at the end")


def report(rows, cache_off):
    def line(seed, z, t, off=None):
        text = (f"| {seed} | {z['stage1']:.2f} | {z['final']:.2f} | {t['stage1']:.2f} | {t['final']:.2f} | "
                f"{z['final'] - t['final']:+.2f} | {z['command_s']:.1f} | {t['command_s']:.1f} | {z['command_s'] / t['command_s']:.2f} | "
                f"{z['train_s']:.1f} | {t['train_s']:.1f} | {z['train_s'] / t['train_s']:.2f} | "
                f"{z['stage2_epoch_s']:.1f} | {t['stage2_epoch_s']:.1f} | {z['stage2_epoch_s'] / t['stage2_epoch_s']:.2f} |")
        if off is not None:
            text += f" {off['final']:.2f} | {off['command_s']:.1f} | {off['command_s'] / t['command_s']:.2f} |"
        return text

    header = ("| seed | cnnzoo stage 1 % | cnnzoo final % | PyTorch stage 1 % | PyTorch final % | final diff | "
              "cnnzoo command s | PyTorch command s | ratio | cnnzoo training s | PyTorch training s | ratio | "
              "cnnzoo s per unfrozen epoch | PyTorch s per unfrozen epoch | ratio |")
    rule = "|---:" * 15 + "|"
    if cache_off:
        header += " cnnzoo cache off final % | cache off command s | ratio |"
        rule += "---:|" * 3
    print("\n" + header + "\n" + rule)
    for r in rows:
        print(line(r["seed"], r["cnnzoo"], r["pytorch"], r.get("cnnzoo_cache_off")))

    def mean(engine):
        return {k: statistics.mean(r[engine][k] for r in rows) for k in rows[0][engine]}

    z, t = mean("cnnzoo"), mean("pytorch")
    print(line("mean", z, t, mean("cnnzoo_cache_off") if cache_off else None))
    print(f"\nload average before/after each seed: " + "; ".join(f"seed {r['seed']}: {r['load_before']} / {r['load_after']}" for r in rows))
    accurate = abs(z["final"] - t["final"]) <= 1
    fast = z["command_s"] <= t["command_s"]
    largest = max(abs(r["cnnzoo"]["final"] - r["pytorch"]["final"]) for r in rows)
    print(f"Mean final top-1: cnnzoo {z['final']:.2f}%, PyTorch {t['final']:.2f}% (difference {z['final'] - t['final']:+.2f} points: "
          f"{'within' if accurate else 'NOT within'} 1 point; largest per seed {largest:.2f}). Mean command time ratio cnnzoo/PyTorch {z['command_s'] / t['command_s']:.2f} "
          f"({'at most' if fast else 'MORE than'} PyTorch's); training only {z['train_s'] / t['train_s']:.2f}; "
          f"an unfrozen epoch {z['stage2_epoch_s'] / t['stage2_epoch_s']:.2f}.")


if __name__ == "__main__":
    main()
