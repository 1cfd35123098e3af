"""The table of ``scripts/mask_ablation.sh``: one row per run, from its records only.

    python scripts/mask_ablation_table.py [RUNS]     # default runs/mask_ablation; prints Markdown

Per run (an unfinished one says where it stopped): what it changed against the no-argument recipe, its validation
top-1, the median spatial contrast of each stage's masks at every evaluation (summary.csv), and the validation top-1
lost when every mask is replaced by its per-channel spatial mean / by 0.5 (mask_health_val.json, written by
`resattn analyze masks --split val`).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import yaml

FACTORS = ("lr", "weight_decay", "mask_weight_decay", "label_smoothing", "batch_size")
BASE = dict(lr=0.1, weight_decay=5e-4, mask_weight_decay=None, label_smoothing=0.0, batch_size=128)


def changed(config: dict) -> str:
    diffs = [f"{k} {config.get(k)}" for k in FACTORS if config.get(k) != BASE[k]]
    return ", ".join(diffs) or "none (the recipe)"


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
    name = run.name if (run / "results.json").exists() else f"{run.name} (stopped at step {rows[-1]['step']})"
    return f"| {name} | {changed(config)} | {float(rows[-1]['val_top1']):.2f} | {trajectory} | {knock} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", default="runs/mask_ablation")
    args = parser.parse_args()
    lines = ["| run | changed | val top-1 | spatial contrast per evaluation, stage 1 / 2 / 3 | val top-1 lost: "
             "M -> spatial mean / M -> 0.5 |", "|---|---|---|---|---|"]
    lines += [r for r in (row(p) for p in sorted(Path(args.runs).iterdir()) if p.is_dir()) if r]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
