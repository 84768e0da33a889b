#!/usr/bin/python3
"""Turns a `cnnzoo bench` run (bench.json) and a `bench_pytorch.py --json` file into the Markdown tables of the
README's Benchmarks section, so the published figures are exactly the measured ones.

    /usr/bin/python3 tools/bench/readme_tables.py runs/<time>-bench/bench.json pytorch.json
"""
import json
import sys


def main(zoo_path, torch_path):
    zoo = json.load(open(zoo_path))
    torch = json.load(open(torch_path))
    m = zoo["machine"]
    print(f"Measured {m['date']} on {m['cpu']}, {m['threads']} threads, batch {m['batch']}; "
          f"TorchSharp {m['torchsharp']} (libtorch 2.10) vs PyTorch {torch['torch']}.\n")
    rows = zoo["rows"]
    pt = {(r["section"], r["model"]): r["value"] for r in torch["rows"]}

    def value(section, model, prefix):
        for r in rows:
            if r["section"] == section and r["model"] == model and r["variant"].startswith(prefix):
                return r
        return None

    def fmt(v, digits=1):
        return "—" if v is None else f"{v:,.{digits}f}"

    models = list(dict.fromkeys(r["model"] for r in rows if r["section"] == "inference"))
    print("Inference, images/s (higher is better):\n")
    print("| model | zoo plain | **zoo optimized** | zoo optimized bf16 | ONNX Runtime | TorchVision port | PyTorch | optimized ÷ port | optimized ÷ PyTorch | bf16 ÷ fp32 optimized | fastest zoo ÷ ONNX Runtime | optimized, share of ceiling |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in models:
        plain = value("inference", model, "zoo plain")["value"]
        # The fp32 row comes first; the bf16 row (present where the run measured it) names bf16 in its description.
        opt = value("inference", model, "zoo optimized")
        bf16 = next((r for r in rows if r["section"] == "inference" and r["model"] == model
                     and r["variant"].startswith("zoo optimized") and "bf16" in r["variant"]), None)
        port = value("inference", model, "torchvision port")
        ort = value("inference", model, "onnx runtime")
        fastest = max(opt["value"], bf16["value"] if bf16 else 0)
        torch_rate = pt.get(("inference", model))
        print(f"| `{model}` | {fmt(plain)} | **{fmt(opt['value'])}** | {fmt(bf16 and bf16['value'])} | {fmt(ort and ort['value'])} | {fmt(port and port['value'])} | {fmt(torch_rate)} | "
              f"{fmt(port and opt['value'] / port['value'], 2)}{'×' if port else ''} | "
              f"{fmt(torch_rate and opt['value'] / torch_rate, 2)}{'×' if torch_rate else ''} | "
              f"{fmt(bf16 and bf16['value'] / opt['value'], 2)}{'×' if bf16 else ''} | "
              f"{fmt(ort and fastest / ort['value'], 2)}{'×' if ort else ''} | {100 * opt['fraction_of_matmul']:.0f}% |")

    trained = [m for m in models if any(r["section"] == "training" and r["model"] == m for r in rows)]
    if trained:   # bench --skip training leaves the section out
        print("\nTraining (forward + backward + SGD step), images/s:\n")
        print("| model | zoo NCHW | zoo channels-last | TorchVision port | PyTorch | Trainer's choice ÷ port | Trainer's choice ÷ PyTorch |")
        print("|---|---:|---:|---:|---:|---:|---:|")
    for model in trained:
        nchw = next(r for r in rows if r["section"] == "training" and r["model"] == model and r["variant"].startswith("zoo") and "channels-last" not in r["variant"])
        last = next(r for r in rows if r["section"] == "training" and r["model"] == model and "channels-last" in r["variant"])
        chosen = last if "default" in last["variant"] else nchw
        port = value("training", model, "torchvision port")
        torch_rate = pt.get(("training", model))
        mark = lambda r: f"**{fmt(r['value'])}**" if r is chosen else fmt(r["value"])
        print(f"| `{model}` | {mark(nchw)} | {mark(last)} | {fmt(port and port['value'])} | {fmt(torch_rate)} | "
              f"{fmt(port and chosen['value'] / port['value'], 2)}{'×' if port else ''} | "
              f"{fmt(torch_rate and chosen['value'] / torch_rate, 2)}{'×' if torch_rate else ''} |")

    print("\nData loading (decode + augment + batch, images/s) and memory:\n")
    print("| what | figure |")
    print("|---|---:|")
    for r in rows:
        if r["section"] == "loader":
            extra = f" ({r['ratio']:.1f}× LeNet-5's training rate)" if r.get("ratio") else ""
            print(f"| loader: {r['model']}, {r['variant']} | {r['value']:,.0f}{extra} |")
        elif r["section"] == "memory" and r["model"] in ("lenet5 training", "whole benchmark"):
            extra = f" ({r['note'].split(' (')[0]})" if r["note"] else ""
            print(f"| {r['model']}: {r['variant']} | {r['value']:,.0f}{extra} |")
    for r in rows:
        if r["section"] == "ceiling":
            print(f"| ceiling: {r['variant']} | {r['gflops_per_s']:.0f} GFLOP/s |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
