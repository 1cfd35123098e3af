"""The table of ``scripts/mask_ablation.sh``: one row per run, from its records only.

    python scripts/mask_ablation_table.py [RUNS]     # default runs/mask_ablation; prints Markdown

Per run (an unfinished one says where it stopped): what it changed against the no-argument recipe, its validation
top-1, the decay exposure of the mask branches and of their heads, the median spatial contrast of each stage's masks
at every evaluation (summary.csv), and the validation top-1 lost when every mask is replaced by its per-channel
spatial mean / by 0.5 (mask_health_val.json, written by `resattn analyze masks --split val`).

Decay exposure is 2 wd sum_t lr(t) over the steps run, with wd the weight decay of the mask branches or of their
heads (`--mask-head-weight-decay`, where decay flattens the masks): without a gradient, SGD's decay multiplies the
squared norm of a weight by (1 - lr wd)^2 per step, so by exp(-exposure) over the run.
`--recipe NAME_OR_FILE --train-images N` prints it for a recipe's whole schedule instead (the release recipe, or the
paper's CIFAR schedule in configs/cifar10_attention92_cifar.yaml), with lr, wd and the like overridable as in
`resattn train` by `--set KEY=VALUE`.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from pathlib import Path

import yaml

from resattn.engine.schedule import IterSchedule

FACTORS = ("lr", "weight_decay", "mask_weight_decay", "mask_head_weight_decay", "label_smoothing", "batch_size")
BASE = dict(lr=0.1, weight_decay=5e-4, mask_weight_decay=None, mask_head_weight_decay=None, label_smoothing=0.0,
            batch_size=128)


def changed(config: dict) -> str:
    diffs = [f"{k} {config.get(k)}" for k in FACTORS if config.get(k) != BASE[k]]
    return ", ".join(diffs) or "none (the recipe)"


def mask_decays(config: dict) -> tuple[float, float]:
    """The weight decay of the mask branches and of their heads, each falling back as `resattn train` does."""
    branch = config["weight_decay"] if config.get("mask_weight_decay") is None else config["mask_weight_decay"]
    head = branch if config.get("mask_head_weight_decay") is None else config["mask_head_weight_decay"]
    return branch, head


def decay_exposures(config: dict, steps: int, total_iters: int) -> tuple[float, float]:
    """2 wd sum_{t < steps} lr(t) under the run's schedule, for the mask branches' and their heads' decay wd."""
    schedule = IterSchedule(config["lr"], total_iters, config["sched"], tuple(int(m) for m in config["milestones"]),
                            config["lr_gamma"], config["warmup_iters"])
    lr_sum = sum(schedule(t) for t in range(steps))
    return tuple(2 * wd * lr_sum for wd in mask_decays(config))


def row(run: Path) -> str | None:
    summary = run / "summary.csv"
    if not summary.exists():
        return None
    config = yaml.safe_load((run / "config.yaml").read_text())
    with summary.open() as f:
        rows = list(csv.DictReader(f))
    stages = sorted(k for k in rows[0] if k.startswith("mask_contrast_"))
    trajectory = " / ".join(" -> ".join(f"{float(r[k]):.2g}" for r in rows) for k in stages)
    health_file = run / "mask_health_val.json"
    knock = "-"
    if health_file.exists():
        health = json.loads(health_file.read_text())
        every = health["all_modules"]
        knock = (f"{health['top1'] - every['knockout_spatial_mean_top1']:.2f} / "
                 f"{health['top1'] - every['knockout_constant_top1']:.2f}")
    results = run / "results.json"
    steps = int(rows[-1]["step"])
    total = json.loads(results.read_text())["iterations"] if results.exists() else None
    name = run.name if total else f"{run.name} (stopped at step {steps})"
    exposure = " / ".join(f"{e:.3g}" for e in decay_exposures(config, steps, total)) if total else "-"
    return (f"| {name} | {changed(config)} | {float(rows[-1]['val_top1']):.2f} | {exposure} | {trajectory} "
            f"| {knock} |")


def _scalar(text: str):
    """A --set value as YAML reads it, but 5e-4 a number (YAML 1.1 reads a float without a dot as a string)."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def recipe_exposure(recipe: str, train_images: int, overrides: list[str]) -> str:
    from resattn.engine.config import TrainConfig, load_yaml
    from resattn.recipes import find_recipe

    values = {k.replace("-", "_"): v for k, v in load_yaml(find_recipe(recipe)).items()}
    defaults = dataclasses.asdict(TrainConfig())
    for item in overrides:
        key, _, text = item.partition("=")
        key, value = key.replace("-", "_"), _scalar(text)
        if key not in defaults:
            raise ValueError(f"--set {item}: {key} is not a setting of `resattn train`")
        number = isinstance(defaults[key], (int, float)) or key.endswith("weight_decay")
        if number and not isinstance(value, (int, float, type(None))):
            raise ValueError(f"--set {item}: {key} takes a number")
        values[key] = value
    config = {**defaults, **values}
    if config.get("iters"):
        total = int(config["iters"])
    else:
        steps_per_epoch = train_images // int(config["batch_size"])  # the last partial batch is dropped
        total = round(float(config["epochs"]) * steps_per_epoch)
    milestones = [round(m * total) if float(m) < 1 else int(m) for m in config["milestones"]]
    branch, head = decay_exposures({**config, "milestones": milestones}, total, total)
    return f"{recipe}: {total} steps, mask decay exposure {branch:.3g} (their heads {head:.3g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", default="runs/mask_ablation")
    parser.add_argument("--recipe", help="print the exposure of this recipe's whole schedule instead of the table")
    parser.add_argument("--train-images", type=int, default=55000, help="training-set size for --recipe")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a recipe value")
    args = parser.parse_args()
    if args.set and not args.recipe:
        parser.error("--set overrides a recipe: give the recipe with --recipe")
    if args.recipe:
        try:
            print(recipe_exposure(args.recipe, args.train_images, args.set))
        except (FileNotFoundError, ValueError) as err:
            parser.error(str(err))
        return
    if not Path(args.runs).is_dir():
        parser.error(f"{args.runs}: no such folder of runs (scripts/mask_ablation.sh writes runs/mask_ablation)")
    lines = ["| run | changed | val top-1 | mask decay exposure, branches / heads "
             "| spatial contrast per evaluation, stage 1 / 2 / 3 | val top-1 lost: M -> spatial mean / M -> 0.5 |",
             "|---|---|---|---|---|---|"]
    lines += [r for r in (row(p) for p in sorted(Path(args.runs).iterdir()) if p.is_dir()) if r]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
