"""``resattn reproduce {table1,table3,table4,table5,fig4}``: the paper's findings as resumable training grids."""

from __future__ import annotations

import argparse


def add_reproduce_args(p: argparse.ArgumentParser) -> None:
    from ..reproduce.experiments import EXPERIMENTS

    p.add_argument("experiment", choices=list(EXPERIMENTS), help="which table or figure of the paper")
    p.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist (default) or cifar10 / cifar100")
    p.add_argument("--data-dir")
    p.add_argument("--budget", default="small", choices=["small", "paper"],
                   help="small: a few hundred iterations per run; paper: the paper's 160k-iteration CIFAR schedule")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--output", help="grid folder (default runs/reproduce/<experiment>_<dataset>_<budget>)")
    p.add_argument("--progress", default="log", choices=["auto", "bar", "log", "none"])
    p.add_argument("--device", help="auto (default) | cpu | cuda | cuda:N")
    p.add_argument("--workers", type=int, help="data-loader processes per run (default 0)")
    p.add_argument("--parallel", action="store_true",
                   help="share the grid with other processes: train only unclaimed runs, write no tables")
    p.add_argument("--collect", action="store_true",
                   help="train nothing: write the tables from the finished runs (after --parallel processes)")


def run_reproduce(args: argparse.Namespace) -> int:
    from ..reproduce.grid import run_experiment

    overrides = {k: v for k, v in (("device", args.device), ("workers", args.workers)) if v is not None}
    run_experiment(args.experiment, args.dataset, args.budget, args.seeds, args.output, args.data_dir, args.progress,
                   overrides=overrides, parallel=args.parallel, collect=args.collect)
    return 0
