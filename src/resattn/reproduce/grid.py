"""Run an experiment's grid (runs x seeds), resumably, and write results.csv, results.md and a plot.

A killed grid resumes where it stopped: finished runs (results.json) are read back, an interrupted run continues
from its last checkpoint (``--resume auto``), the rest start.

Several processes can share one grid (``--parallel``, e.g. one per GPU or several on one large GPU): each takes the
next run nobody has claimed (a ``claimed`` file created atomically in the run folder) and leaves the tables to a final
``--collect`` pass, which trains nothing and writes the tables from the finished runs.
"""

from __future__ import annotations

import csv
import json
import os
import re
import statistics
from pathlib import Path
from typing import Any

from ..engine.config import TrainConfig
from .experiments import EXPERIMENTS, PAPER_BUDGET, Experiment, RunSpec

BUDGETS = ("small", "paper")
ANALYSIS_IMAGES = 1000  # test images behind the Fig. 4 responses and the mask health of each run


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def run_config(exp: Experiment, spec: RunSpec, seed: int, budget: str, dataset: str, data_dir: str | None,
               run_dir: Path, progress: str, overrides: dict[str, Any] | None = None) -> TrainConfig:
    cfg = TrainConfig()  # the project's Fashion-MNIST recipe, shortened to the budget
    cfg.update(dict(model=spec.model, model_kwargs=dict(spec.model_kwargs), dataset=dataset, data_dir=data_dir,
                    seed=seed, output=str(run_dir), progress=progress, epochs=None, iters=exp.small_iters,
                    warmup_iters=min(200, exp.small_iters // 5)), "reproduce")
    if budget == "paper":
        cfg.update(PAPER_BUDGET, "the paper's CIFAR schedule")
    cfg.eval_interval = max(1, cfg.iters // 3)
    cfg.update(spec.train, f"{exp.name} run {spec.label!r}")
    cfg.update(overrides or {}, "overrides")
    if any(run_dir.glob("last*.pt")):
        cfg.resume = "auto"
    return cfg


def run_experiment(name: str, dataset: str = "fashion_mnist", budget: str = "small", seeds: int = 1,
                   output: str | Path | None = None, data_dir: str | None = None, progress: str = "log",
                   log=print, overrides: dict[str, Any] | None = None, parallel: bool = False,
                   collect: bool = False) -> list[dict[str, Any]]:
    """Train (or read back) every run of experiment ``name`` and write its results; returns the finished rows.

    ``overrides`` are trainer settings applied to every run (e.g. ``device``, or a smaller validation split for
    small data). ``parallel``: train only runs no other process has claimed, and write no tables. ``collect``:
    train nothing, write the tables from the finished runs and name the missing ones. A run stopped by a signal
    (its checkpoint written) stops the grid; the same call continues it.
    """
    from ..engine.trainer import train

    if name not in EXPERIMENTS:
        raise ValueError(f"Unknown experiment {name!r}; allowed: {', '.join(EXPERIMENTS)}")
    if budget not in BUDGETS:
        raise ValueError(f"Unknown budget {budget!r}; allowed: {', '.join(BUDGETS)}")
    if seeds < 1:
        raise ValueError(f"--seeds must be at least 1, got {seeds}")
    if parallel and collect:
        raise ValueError("--parallel trains, --collect only reads back: choose one")
    exp = EXPERIMENTS[name]
    out = Path(output or f"runs/reproduce/{name}_{dataset}_{budget}")
    out.mkdir(parents=True, exist_ok=True)
    rows, missing = [], []
    for spec in exp.runs:
        for seed in range(seeds):
            run_dir = out / _slug(spec.label) / f"seed{seed}"
            done = run_dir / "results.json"
            if done.exists():
                results = json.loads(done.read_text())
                log(f"[{name}] {spec.label} seed {seed}: done earlier, test top-1 {results['test_top1']:.2f}%")
            elif collect or (parallel and not _claim(run_dir)):
                missing.append(f"{spec.label} seed {seed}")
                continue
            else:
                log(f"[{name}] {spec.label} seed {seed}: training")
                results = train(run_config(exp, spec, seed, budget, dataset, data_dir, run_dir, progress, overrides))
                if "stopped_at" in results:  # a signal stopped the run after writing its checkpoint: stop the grid
                    (run_dir / "claimed").unlink(missing_ok=True)  # so that a later --parallel process continues it
                    log(f"[{name}] {spec.label} seed {seed}: stopped at step {results['stopped_at']}; the same "
                        "command continues the grid from there")
                    return rows
            row = dict(experiment=name, label=spec.label, model=spec.model, model_kwargs=json.dumps(spec.model_kwargs),
                       train=json.dumps(spec.train), seed=seed, dataset=dataset, budget=budget,
                       iterations=results["iterations"], test_top1=results["test_top1"],
                       test_error=round(100 - results["test_top1"], 3), best_val_top1=results["best_val_top1"],
                       wall_s=results["wall_s"], paper_error=spec.paper_error, run_dir=str(run_dir))
            if name == "fig4":
                row["relative_response"] = json.dumps(_response(run_dir, dataset, data_dir))
            health = _mask_health(run_dir, dataset, data_dir)
            if health is not None:
                row.update(health)
            rows.append(row)
            if not parallel:
                _write(out, exp, rows)
    if collect and missing:
        log(f"[{name}] not finished (left out of the tables): {'; '.join(missing)}")
    if rows and not parallel:
        log(f"[{name}] wrote {out / 'results.csv'} and {out / 'results.md'}")
    return rows


def _claim(run_dir: Path) -> bool:
    """True if this process claimed ``run_dir`` (atomic create), False if another process had."""
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(run_dir / "claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


def _response(run_dir: Path, dataset: str, data_dir: str | None) -> list[float]:
    from ..analysis.response import relative_mean_response, stage_mean_responses
    from ..engine.common import eval_loader
    from ..engine.restore import load_model

    model = load_model(checkpoint=run_dir / "best.pt").model
    responses = stage_mean_responses(model, eval_loader(_test_images(dataset, data_dir), 200, 0))
    return [round(v, 4) for v in relative_mean_response(responses)]


def _test_images(dataset: str, data_dir: str | None):
    import torch

    from ..data import create_dataset, create_transform, dataset_info

    info = dataset_info(dataset)
    data = create_dataset(dataset, data_dir, "test", transform=create_transform(info["transform_preset"], False))
    return torch.utils.data.Subset(data, range(min(ANALYSIS_IMAGES, len(data))))


def _mask_health(run_dir: Path, dataset: str, data_dir: str | None) -> dict[str, Any] | None:
    """Mask contrast per stage and the all-module knock-outs of the run's best checkpoint on the test images
    (docs/attention_maps.md#mask-health); None for networks without soft masks."""
    import torch

    from ..analysis.mask_health import analyze_masks
    from ..engine.common import eval_loader
    from ..engine.loop import evaluate
    from ..engine.restore import load_model
    from ..viz.recorder import mask_modules

    model = load_model(checkpoint=run_dir / "best.pt").model
    if not mask_modules(model):
        return None
    data = _test_images(dataset, data_dir)
    report = analyze_masks(model, lambda: eval_loader(data, 250, 0),
                           lambda m, b: evaluate(m, b, torch.device("cpu")), per_module=False)
    every = report["all_modules"]
    return dict(mask_contrast=json.dumps({k: round(v, 5) for k, v in report["stages"].items()}),
                mask_flat_stages=" ".join(report["flat_stages"]),
                knockout_spatial_mean_drop=round(report["top1"] - every["knockout_spatial_mean_top1"], 2),
                knockout_constant_drop=round(report["top1"] - every["knockout_constant_top1"], 2))


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and spread (sample standard deviation; None with one seed, which has no spread to measure) of the test
    error per label, in grid order."""
    labels = list(dict.fromkeys(r["label"] for r in rows))
    out = []
    for label in labels:
        errs = [r["test_error"] for r in rows if r["label"] == label]
        paper = next(r["paper_error"] for r in rows if r["label"] == label)
        out.append(dict(label=label, mean=statistics.fmean(errs), std=statistics.stdev(errs) if len(errs) > 1 else None,
                        seeds=len(errs), paper=paper))
    return out


def _write(out: Path, exp: Experiment, rows: list[dict[str, Any]]) -> None:
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with (out / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    summary = summarise(rows)
    lines = [f"# {exp.title}", "", f"Paper's finding: {exp.finding}.", "",
             "| run | our test error % (mean ± sd) | seeds | paper error % (CIFAR-10) |", "|---|---|---|---|"]
    for s in summary:
        paper = f"{s['paper']:.2f}" if s["paper"] is not None else "-"
        spread = f" ± {s['std']:.2f}" if s["std"] is not None else ""
        lines.append(f"| {s['label']} | {s['mean']:.2f}{spread} | {s['seeds']} | {paper} |")
    if exp.name == "fig4":
        lines += ["", "| run | relative mean response per stage |", "|---|---|"]
        lines += [f"| {r['label']} (seed {r['seed']}) | {r['relative_response']} |" for r in rows]
    with_masks = [r for r in rows if r.get("mask_contrast")]
    if with_masks:
        lines += ["", f"Mask health of each run's selected checkpoint on {ANALYSIS_IMAGES} test images: median spatial "
                  "contrast of M "
                  "per stage (flat below 0.01), and the top-1 lost when every mask is replaced by its per-channel "
                  "spatial mean / by 0.5 (docs/attention_maps.md#mask-health).", "",
                  "| run | seed | spatial contrast per stage | flat stages | top-1 drop, spatial mean "
                  "| top-1 drop, 0.5 |",
                  "|---|---|---|---|---|---|"]
        for r in with_masks:
            contrast = " / ".join(f"{v:.3f}" for v in json.loads(r["mask_contrast"]).values())
            lines.append(f"| {r['label']} | {r['seed']} | {contrast} | {r['mask_flat_stages'] or 'none'} | "
                         f"{r['knockout_spatial_mean_drop']:.2f} | {r['knockout_constant_drop']:.2f} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    _plot(out / "results.png", exp, summary)


def _plot(path: Path, exp: Experiment, summary: list[dict[str, Any]]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(5, 1.1 * len(summary)), 4))  # its own Agg canvas: no pyplot, no global backend
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    xs = range(len(summary))
    ax.bar(xs, [s["mean"] for s in summary], yerr=[s["std"] or 0.0 for s in summary], capsize=4, label="ours")
    if any(s["paper"] is not None for s in summary):
        ax.scatter(xs, [s["paper"] if s["paper"] is not None else float("nan") for s in summary], color="k",
                   zorder=3, label="paper (CIFAR-10)")
    ax.set_xticks(list(xs), [s["label"] for s in summary], rotation=30, ha="right")
    ax.set(ylabel="test error (%)", title=exp.title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
