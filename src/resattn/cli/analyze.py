"""``resattn analyze response``: paper Fig. 4 for any set of checkpoints or models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_analyze_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)
    r = sub.add_parser("response", help="relative mean absolute response of each stage's output (paper Fig. 4)")
    r.add_argument("--checkpoint", nargs="*", default=[], help="training checkpoints or .safetensors files")
    r.add_argument("--model", nargs="*", default=[], help="zoo names (untrained unless --pretrained)")
    r.add_argument("--pretrained", action="store_true")
    r.add_argument("--labels", nargs="*", help="one label per checkpoint then per model (default: their names)")
    r.add_argument("--dataset", help="data sample (default: the first checkpoint's dataset)")
    r.add_argument("--data-dir")
    r.add_argument("--split", default="test", choices=["train", "test"])
    r.add_argument("--num-images", type=int, default=1000)
    r.add_argument("--output", help="plot (PNG); a JSON with the numbers is written beside it")
    r.add_argument("--device", default="auto")


def run_analyze(args: argparse.Namespace) -> int:
    from ..analysis.response import plot_responses, relative_mean_response, stage_mean_responses
    from ..data import create_dataset, create_transform, dataset_info
    from ..engine.restore import load_model
    from ..engine.trainer import eval_loader, resolve_device

    sources = [("checkpoint", c) for c in args.checkpoint] + [("model", m) for m in args.model]
    if not sources:
        raise ValueError("Give at least one --checkpoint or --model")
    labels = args.labels or []
    if labels and len(labels) != len(sources):
        raise ValueError(f"{len(labels)} labels for {len(sources)} models")
    loaded = [load_model(checkpoint=v) if kind == "checkpoint" else load_model(model=v, pretrained=args.pretrained)
              for kind, v in sources]
    dataset = args.dataset or next((lm.dataset for lm in loaded if lm.dataset), None)
    if dataset is None:
        raise ValueError("Pass --dataset: none of the models says what it was trained on")
    info = dataset_info(dataset)
    data = create_dataset(dataset, args.data_dir, args.split,
                          transform=create_transform(info["transform_preset"], train=False))
    device = resolve_device(args.device)
    table: dict[str, dict] = {}
    for i, lm in enumerate(loaded):
        label = labels[i] if labels else Path(sources[i][1]).stem if sources[i][0] == "checkpoint" else lm.name
        raw = stage_mean_responses(lm.model, eval_loader(data, 200, 0), str(device), args.num_images)
        table[label] = dict(model=lm.name, mean_abs=raw, relative=relative_mean_response(raw))
    stages = max(len(v["relative"]) for v in table.values())
    print("| model | " + " | ".join(f"stage {s + 1}" for s in range(stages)) + " |")
    print("|---|" + "---|" * stages)
    for label, v in table.items():
        print(f"| {label} | " + " | ".join(f"{r:.3f}" for r in v["relative"]) + " |")
    print(f"({args.num_images} {dataset}/{args.split} images; relative to stage 1)")
    if args.output:
        plot_responses({k: v["relative"] for k, v in table.items()}, args.output)
        Path(args.output).with_suffix(".json").write_text(json.dumps(table, indent=2))
        print(f"wrote {args.output}")
    return 0
