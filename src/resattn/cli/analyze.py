"""``resattn analyze response`` (paper Fig. 4 for any set of checkpoints or models) and ``resattn analyze masks``
(mask health of one model: docs/attention_maps.md#mask-health)."""

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
    m = sub.add_parser("masks", help="mask health: distribution, spatial contrast and knock-outs of every soft mask")
    m.add_argument("--checkpoint", help="training checkpoint or .safetensors file")
    m.add_argument("--model", help="zoo name (with --pretrained: a pretrained tag such as NAME.TAG)")
    m.add_argument("--pretrained", action="store_true")
    m.add_argument("--dataset", help="default: the model's own")
    m.add_argument("--data-dir")
    m.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="val = the validation split carved from train with the checkpoint's seed")
    m.add_argument("--num-images", type=int, help="use the first N images of the split (default: all)")
    m.add_argument("-b", "--batch-size", type=int, default=250)
    m.add_argument("--output", help="plot (PNG); the JSON report is written beside it")
    m.add_argument("--device", default="auto")


def run_analyze(args: argparse.Namespace) -> int:
    if args.output:  # before the passes over the data, so that their result always has a place to go
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    if args.analysis == "masks":
        return run_mask_health(args)
    from ..analysis.response import plot_responses, relative_mean_response, stage_mean_responses
    from ..data import create_dataset, create_transform, dataset_info
    from ..engine.common import eval_loader, resolve_device
    from ..engine.restore import load_model

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


def run_mask_health(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from ..analysis.mask_health import analyze_masks
    from ..engine.common import eval_loader, evaluation_data, resolve_device
    from ..engine.loop import evaluate
    from ..engine.restore import load_model
    from ..viz.recorder import mask_modules

    if bool(args.checkpoint) == bool(args.model):
        raise ValueError("Give one of --checkpoint PATH or --model NAME (with --pretrained for released weights)")
    loaded = load_model(args.checkpoint, args.model, args.pretrained)
    if not mask_modules(loaded.model):
        raise ValueError(f"{loaded.name} has no soft masks to analyse")
    dataset, _, data = evaluation_data(loaded, args.dataset, args.data_dir, args.split)
    if args.num_images:
        data = torch.utils.data.Subset(data, range(min(args.num_images, len(data))))
    device = resolve_device(args.device)
    model = loaded.model.to(device).eval()
    passes = 1 + 2 * len(mask_modules(model)) + 2
    bar = tqdm(total=passes, desc="mask health", unit="pass", disable=None)

    def done(text: str) -> None:
        bar.set_postfix_str(text, refresh=False)
        bar.update(1)

    report = analyze_masks(model, lambda: eval_loader(data, args.batch_size, 0),
                           lambda mdl, batches: evaluate(mdl, batches, device), done)
    bar.close()
    report.update(model=loaded.name, checkpoint=args.checkpoint, dataset=dataset, split=args.split,
                  images=len(data))
    print(format_mask_health(report))
    if args.output:
        from ..viz.mask_health_plot import plot_mask_health

        plot_mask_health(report, args.output, f"{loaded.name}: mask health on {dataset}/{args.split}")
        json_path = Path(args.output).with_suffix(".json")
        json_path.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.output} and {json_path}")
    return 0


def format_mask_health(report: dict) -> str:
    """The table that ``resattn analyze masks`` prints."""
    top1 = report["top1"]
    lines = [f"{report['model']} on {report['dataset']}/{report['split']} ({report['images']} images): "
             f"top-1 {top1:.2f}%",
             "| module | mean M | std M | outside [0.3, 0.7] | spatial contrast median (q25-q75) | "
             "top-1, M -> spatial mean | top-1, M -> 0.5 |",
             "|---|---|---|---|---|---|---|"]
    for name, s in report["modules"].items():
        flat = " FLAT" if s["contrast_median"] < report["flat_threshold"] else ""
        lines.append(f"| {name} | {s['mean']:.3f} | {s['std']:.4f} | {100 * s['frac_outside']:.2f}% | "
                     f"{s['contrast_median']:.4f} ({s['contrast_q25']:.4f}-{s['contrast_q75']:.4f}){flat} | "
                     f"{s['knockout_spatial_mean_top1']:.2f} ({s['knockout_spatial_mean_top1'] - top1:+.2f}) | "
                     f"{s['knockout_constant_top1']:.2f} ({s['knockout_constant_top1'] - top1:+.2f}) |")
    every = report["all_modules"]
    lines.append(f"| all modules | | | | | {every['knockout_spatial_mean_top1']:.2f} "
                 f"({every['knockout_spatial_mean_top1'] - top1:+.2f}) | {every['knockout_constant_top1']:.2f} "
                 f"({every['knockout_constant_top1'] - top1:+.2f}) |")
    if report["flat_stages"]:
        lines.append(f"FLAT: the masks of {', '.join(report['flat_stages'])} have a median spatial contrast below "
                     f"{report['flat_threshold']}: they scale channels but no longer say where to look.")
    else:
        lines.append(f"Every stage's masks have spatial contrast above the flat threshold {report['flat_threshold']}.")
    return "\n".join(lines)
