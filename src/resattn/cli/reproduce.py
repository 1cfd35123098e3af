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


def run_reproduce(args: argparse.Namespace) -> int:
    from ..reproduce.grid import run_experiment

    run_experiment(args.experiment, args.dataset, args.budget, args.seeds, args.output, args.data_dir, args.progress)
    return 0
